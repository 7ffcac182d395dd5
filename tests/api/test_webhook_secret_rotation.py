"""Webhook signing-secret rotation (issue #8): `POST /api/v1/webhooks/{id}/secret` returns
the new secret once; during the grace period a real receiver can verify every delivery
with the old secret or the new one (two signatures in `webhook-signature`), after it only
with the new; rotations are audited without secrets, replayable with an Idempotency-Key.
Also the issue's last unproven requirement: a 410 Gone disables the subscription at once."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from factories import make_principal_headers
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, update
from sqlmodel import Session, col
from standardwebhooks import Webhook, WebhookVerificationError
from test_webhooks_api import (
    Receiver,
    announce,
    deliveries,
    fake_resolver,
    fast,
    subscribe,
    wait_for,
)

from service.audit.models import AuditAction, AuditEvent
from service.auth.models import Role
from service.db import unit_of_work
from service.integrations.webhooks.delivery import signing_secrets
from service.integrations.webhooks.models import WebhookSubscription
from service.integrations.webhooks.outbox import enqueue_event
from service.main import create_app
from service.settings import Settings

GRACE = 3600


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    endpoint = Receiver()
    yield endpoint
    endpoint.close()


@pytest.fixture
def app(settings: Settings) -> FastAPI:
    application = create_app(fast(settings, webhook_secret_grace_seconds=GRACE))
    application.state.webhook_resolver = fake_resolver
    return application


@pytest.fixture
def admin(client: TestClient, engine: Engine) -> dict[str, str]:
    return make_principal_headers(client, engine, Role.admin)


def _rotate(client: TestClient, admin: dict[str, str], hook_id: int, **headers: str) -> Any:
    response = client.post(f"/api/v1/webhooks/{hook_id}/secret", headers={**admin, **headers})
    assert response.status_code == 200, response.text
    return response.json()


def _signatures(headers: dict[str, str]) -> list[str]:
    return headers["webhook-signature"].split(" ")


def _verifies(secret: str, headers: dict[str, str], body: bytes) -> bool:
    try:
        Webhook(secret).verify(body, headers)
    except WebhookVerificationError:
        return False
    return True


def test_during_the_grace_period_both_secrets_verify_every_delivery(
    client: TestClient, admin: dict[str, str], engine: Engine, receiver: Receiver
) -> None:
    hook = subscribe(client, admin, receiver.url, ["cable.released"])
    before = datetime.now(UTC)
    rotated = _rotate(client, admin, hook["id"])
    after = datetime.now(UTC)
    assert rotated["id"] == hook["id"]
    assert rotated["secret"].startswith("whsec_")
    assert rotated["secret"] != hook["secret"]
    until = datetime.fromisoformat(rotated["previous_secret_valid_until"])
    assert before + timedelta(seconds=GRACE) <= until <= after + timedelta(seconds=GRACE)

    announce(engine)
    wait_for(lambda: len(receiver.requests) == 1)
    headers, body = receiver.requests[0]
    assert len(_signatures(headers)) == 2
    assert all(s.startswith("v1,") for s in _signatures(headers))
    assert _verifies(rotated["secret"], headers, body)
    assert _verifies(hook["secret"], headers, body)
    assert not _verifies("whsec_" + "A" * 44, headers, body)

    # Neither secret is readable afterwards, nor written to the audit trail.
    listed = client.get("/api/v1/webhooks", headers=admin).text
    assert rotated["secret"] not in listed
    assert hook["secret"] not in listed
    with Session(engine) as session:
        details = [
            d
            for (d,) in session.execute(
                select(AuditEvent.detail).where(
                    col(AuditEvent.action) == AuditAction.webhook_changed.value
                )
            ).all()
        ]
    assert [d["change"] for d in details] == ["created", "secret_rotated"]
    assert details[1]["previous_secret_valid_until"] == until.isoformat()
    dumped = json.dumps(details)
    assert rotated["secret"] not in dumped
    assert hook["secret"] not in dumped


def test_after_the_grace_period_only_the_new_secret_signs(
    client: TestClient, admin: dict[str, str], engine: Engine, receiver: Receiver
) -> None:
    hook = subscribe(client, admin, receiver.url, ["cable.released"])
    rotated = _rotate(client, admin, hook["id"])
    with unit_of_work(engine) as session:
        session.execute(
            update(WebhookSubscription).values(
                previous_secret_expires_at=datetime.now(UTC) - timedelta(seconds=1)
            )
        )
    announce(engine)
    wait_for(lambda: len(receiver.requests) == 1)
    headers, body = receiver.requests[0]
    assert len(_signatures(headers)) == 1
    assert _verifies(rotated["secret"], headers, body)
    assert not _verifies(hook["secret"], headers, body)


def test_a_zero_grace_period_drops_the_old_secret_at_once(
    settings: Settings, engine: Engine, receiver: Receiver
) -> None:
    application = create_app(fast(settings, webhook_secret_grace_seconds=0))
    with TestClient(application) as client:
        admin = make_principal_headers(client, engine, Role.admin)
        hook = subscribe(client, admin, receiver.url, ["cable.released"])
        rotated = _rotate(client, admin, hook["id"])
        assert rotated["previous_secret_valid_until"] is None
        announce(engine)
        wait_for(lambda: len(receiver.requests) == 1)
    headers, body = receiver.requests[0]
    assert len(_signatures(headers)) == 1
    assert _verifies(rotated["secret"], headers, body)
    assert not _verifies(hook["secret"], headers, body)


def test_a_second_rotation_keeps_only_the_last_replaced_secret() -> None:
    now = datetime(2026, 11, 29, 12, tzinfo=UTC)
    sub = WebhookSubscription.model_validate(
        {
            "url": "https://records.example.org/h",
            "secret": "whsec_new",
            "previous_secret": "whsec_old",
            "previous_secret_expires_at": now + timedelta(seconds=10),
            "created_by": "root",
        }
    )
    assert signing_secrets(sub, now) == ("whsec_new", "whsec_old")
    assert signing_secrets(sub, now + timedelta(seconds=10)) == ("whsec_new",)
    sub.previous_secret_expires_at = None
    assert signing_secrets(sub, now) == ("whsec_new",)


def test_rotation_with_an_idempotency_key_rotates_once_and_unknown_ids_are_404(
    client: TestClient, admin: dict[str, str], engine: Engine
) -> None:
    hook = subscribe(client, admin, "https://records.example.org/hooks", ["cable.released"])
    first = _rotate(client, admin, hook["id"], **{"Idempotency-Key": "rotate-1"})
    again = client.post(
        f"/api/v1/webhooks/{hook['id']}/secret", headers={**admin, "Idempotency-Key": "rotate-1"}
    )
    assert again.status_code == 200
    assert again.json() == first
    assert again.headers["Idempotent-Replayed"] == "true"
    with Session(engine) as session:
        stored = session.get(WebhookSubscription, hook["id"])
        assert stored is not None
        assert (stored.secret, stored.previous_secret) == (first["secret"], hook["secret"])
        changes = session.execute(
            select(AuditEvent.detail).where(
                col(AuditEvent.action) == AuditAction.webhook_changed.value
            )
        ).all()
    assert [d["change"] for (d,) in changes] == ["created", "secret_rotated"]
    unknown = client.post("/api/v1/webhooks/999/secret", headers=admin)
    assert unknown.status_code == 404
    assert unknown.headers["content-type"] == "application/problem+json"


def test_a_410_gone_disables_the_subscription_at_once(
    client: TestClient, admin: dict[str, str], engine: Engine, receiver: Receiver
) -> None:
    hook = subscribe(client, admin, receiver.url, ["cable.released"])
    receiver.statuses = [410]
    with unit_of_work(engine) as session:  # both events before the worker sees either
        for ref_id in ("07TOKYO5624", "08PARIS1"):
            enqueue_event(
                session,
                event_type="cable.released",
                payload={"ref_id": ref_id, "status": "released", "links": {}},
            )

    def disabled() -> bool:
        return not client.get(f"/api/v1/webhooks/{hook['id']}", headers=admin).json()["active"]

    wait_for(disabled)
    now = client.get(f"/api/v1/webhooks/{hook['id']}", headers=admin).json()
    assert now["disabled_reason"] == "the endpoint answered 410 Gone"
    listed = deliveries(client, admin, hook["id"])
    # The second delivery (claimed in the same pass, or later) is never sent.
    assert [d["status"] for d in listed] == ["failed", "failed"]
    assert [[(a["outcome"], a["status_code"]) for a in d["attempts"]] for d in listed] == [
        [("http_error", 410)],
        [],
    ]
    assert len(receiver.requests) == 1
