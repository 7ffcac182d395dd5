"""Starting and stopping the integration background threads with the application: the
import worker and the webhook delivery worker. Both stop at a batch boundary on shutdown
(what they were doing commits; the rest waits for the next start)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import Engine

from service.integrations.import_runner import ImportWorker, RunnerOptions
from service.integrations.webhooks.delivery import DeliveryPolicy, DeliveryWorker
from service.integrations.webhooks.url_check import system_resolver
from service.settings import Settings


@dataclass
class Workers:
    imports: ImportWorker | None = None
    webhooks: DeliveryWorker | None = None
    owned_client: httpx.Client | None = None

    def stop(self) -> None:
        """Ask both threads to stop and wait for them (the current batch commits first)."""
        if self.webhooks is not None:
            self.webhooks.stop()
        if self.imports is not None:
            self.imports.stop()
        if self.owned_client is not None:
            self.owned_client.close()


def start_workers(state: Any, settings: Settings, engine: Engine) -> Workers:
    """Start the enabled workers. `state.webhook_client` (an `httpx.Client`) and
    `state.webhook_resolver` may be set beforehand to inject them (tests do)."""
    workers = Workers()
    if settings.import_worker_enabled:
        workers.imports = ImportWorker(
            engine,
            options=RunnerOptions.from_settings(settings),
            poll_seconds=settings.import_poll_seconds,
        )
        workers.imports.start()
    if settings.webhook_worker_enabled:
        client = getattr(state, "webhook_client", None)
        if client is None:
            client = workers.owned_client = httpx.Client(follow_redirects=False)
        workers.webhooks = DeliveryWorker(
            engine,
            client,
            policy=DeliveryPolicy.from_settings(settings),
            poll_seconds=settings.webhook_poll_seconds,
            resolve=getattr(state, "webhook_resolver", system_resolver),
        )
        workers.webhooks.start()
    return workers
