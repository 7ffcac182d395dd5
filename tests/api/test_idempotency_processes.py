"""In-flight detection across processes: another process claims an Idempotency-Key (a
committed `in_progress` row) and holds it; this process's request with the same key and
request is a 409 without running the handler; once the other process releases the claim,
the same request runs. Runs on SQLite (a file both processes open) and PostgreSQL."""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
import sys
import textwrap

from factories import make_principal_headers
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import Engine, func, select
from sqlmodel import Session
from test_webhooks_api import fake_resolver, fast

from service.auth.models import Role
from service.idempotency import service
from service.integrations.webhooks.models import WebhookSubscription
from service.main import create_app
from service.settings import Settings

BODY = json.dumps({"url": "https://records.example.org/hooks", "events": ["cable.released"]})

HOLDER = textwrap.dedent(
    """
    import sys
    from sqlalchemy import create_engine
    from service.db import unit_of_work
    from service.idempotency import service
    engine = create_engine(sys.argv[1])
    with unit_of_work(engine) as session:
        begun = service.begin(
            session, principal_sub=sys.argv[2], key="cross-process", fingerprint=sys.argv[3],
            route="POST /api/v1/webhooks", ttl_seconds=86400, lock_seconds=600, write=True,
        )
    print("claimed", flush=True)
    sys.stdin.readline()
    with unit_of_work(engine) as session:
        service.release(session, claim=begun.claim)
    print("released", flush=True)
    """
)


def _sub(headers: dict[str, str]) -> str:
    payload = headers["Authorization"].split(" ")[1].split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return str(claims["sub"])


def _post(client: TestClient, headers: dict[str, str]) -> Response:
    return client.post(
        "/api/v1/webhooks",
        content=BODY.encode(),
        headers={**headers, "Content-Type": "application/json", "Idempotency-Key": "cross-process"},
    )


def test_a_key_claimed_by_another_process_is_a_409(settings: Settings, engine: Engine) -> None:
    app: FastAPI = create_app(fast(settings, webhook_worker_enabled=False))
    app.state.webhook_resolver = fake_resolver
    with TestClient(app) as client:
        admin = make_principal_headers(client, engine, Role.admin)
        fingerprint = service.fingerprint(
            method="POST",
            route="/api/v1/webhooks",
            path_params={},
            query=[],
            body_sha256=hashlib.sha256(BODY.encode()).hexdigest(),
            if_match=None,
        )
        url = engine.url.render_as_string(hide_password=False)
        holder = subprocess.Popen(
            [sys.executable, "-c", HOLDER, url, _sub(admin), fingerprint],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert holder.stdout is not None
            assert holder.stdin is not None
            assert holder.stdout.readline().strip() == "claimed"
            refused = _post(client, admin)
            assert refused.status_code == 409, refused.text
            holder.stdin.write("go\n")
            holder.stdin.flush()
            assert holder.stdout.readline().strip() == "released"
        finally:
            if holder.poll() is None:
                holder.kill()
            holder.wait(30)
        created = _post(client, admin)
        assert created.status_code == 201, created.text
    with Session(engine) as session:
        count = session.execute(select(func.count()).select_from(WebhookSubscription)).one()[0]
    assert count == 1
