"""Idempotency-Key on webhook creation and on imports (T-3.4): byte-identical replays
(status, body, Location) with no second subscription, import or audit event; 422 for
another body; keys scoped per principal; expired keys pruned and executed afresh; the
stored creation response (it holds the signing secret) readable by no other route. Runs on
SQLite and PostgreSQL (DECLASS_TEST_DATABASE)."""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from factories import make_principal_headers
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select, update
from sqlmodel import Session, col
from test_webhooks_api import fake_resolver, fast

from service.audit.models import AuditAction, AuditEvent
from service.auth.models import Role
from service.db import unit_of_work
from service.idempotency.models import IdempotencyRecord, RecordState
from service.integrations.import_models import ImportJob
from service.integrations.webhooks.models import WebhookSubscription
from service.main import create_app
from service.orm import utcnow
from service.settings import Settings

HOOK = {"url": "https://records.example.org/hooks", "events": ["cable.released"]}
SEED = Path(__file__).resolve().parents[2] / "service" / "demo" / "07TOKYO5624.txt"


@pytest.fixture
def app(settings: Settings, tmp_path: Path) -> FastAPI:
    application = create_app(
        fast(
            settings,
            webhook_worker_enabled=False,
            import_worker_enabled=False,
            import_spool_dir=tmp_path / "spool",
        )
    )
    application.state.webhook_resolver = fake_resolver
    return application


def _count(engine: Engine, table: Any, *where: Any) -> int:
    with Session(engine) as session:
        return int(session.execute(select(func.count()).select_from(table).where(*where)).one()[0])


def _audited(engine: Engine, action: AuditAction) -> int:
    return _count(engine, AuditEvent, col(AuditEvent.action) == action.value)


def _create(client: TestClient, headers: dict[str, str], key: str, **body: Any) -> Any:
    return client.post(
        "/api/v1/webhooks", json={**HOOK, **body}, headers={**headers, "Idempotency-Key": key}
    )


def _expire_all(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        session.execute(
            update(IdempotencyRecord).values(expires_at=utcnow() - timedelta(seconds=1))
        )


def test_creation_is_replayed_with_its_secret_and_nothing_is_created_twice(
    client: TestClient, engine: Engine
) -> None:
    admin = make_principal_headers(client, engine, Role.admin)
    first = _create(client, admin, "create-1")
    assert first.status_code == 201, first.text
    again = _create(client, admin, "create-1")
    assert again.status_code == 201
    assert again.content == first.content
    assert again.headers["Location"] == first.headers["Location"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["secret"] == first.json()["secret"]
    assert _count(engine, WebhookSubscription) == 1
    assert _audited(engine, AuditAction.webhook_changed) == 1
    different = _create(client, admin, "create-1", description="another")
    assert different.status_code == 422
    assert different.headers["content-type"] == "application/problem+json"
    assert _count(engine, WebhookSubscription) == 1


def test_a_refused_url_is_stored_and_replayed_as_the_same_422(
    client: TestClient, engine: Engine
) -> None:
    admin = make_principal_headers(client, engine, Role.admin)
    refused = _create(client, admin, "refused", url="http://10.0.0.5/hooks")
    assert refused.status_code == 422
    again = _create(client, admin, "refused", url="http://10.0.0.5/hooks")
    assert (again.status_code, again.content) == (422, refused.content)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert _count(engine, IdempotencyRecord, col(IdempotencyRecord.status_code) == 422) == 1


def test_keys_are_scoped_per_principal(client: TestClient, engine: Engine) -> None:
    alice = make_principal_headers(client, engine, Role.admin)
    bob = make_principal_headers(client, engine, Role.admin)
    mine = _create(client, alice, "shared-key")
    theirs = _create(client, bob, "shared-key")
    assert (mine.status_code, theirs.status_code) == (201, 201)
    assert "Idempotent-Replayed" not in theirs.headers
    assert theirs.json()["id"] != mine.json()["id"]
    assert theirs.json()["secret"] != mine.json()["secret"]
    assert _count(engine, WebhookSubscription) == 2


def test_expired_keys_run_afresh_and_are_pruned(client: TestClient, engine: Engine) -> None:
    admin = make_principal_headers(client, engine, Role.admin)
    first = _create(client, admin, "old-key")
    other = _create(client, admin, "other-key")
    _expire_all(engine)
    fresh = _create(client, admin, "old-key")
    assert fresh.status_code == 201
    assert "Idempotent-Replayed" not in fresh.headers
    assert fresh.json()["id"] not in (first.json()["id"], other.json()["id"])
    assert _count(engine, WebhookSubscription) == 3
    # Claiming a key pruned every expired record: only the fresh one is left.
    with Session(engine) as session:
        rows = session.execute(select(IdempotencyRecord.key, IdempotencyRecord.state)).all()
    assert [tuple(r) for r in rows] == [("old-key", RecordState.completed.value)]


def test_the_stored_secret_is_readable_through_no_other_route(
    client: TestClient, engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    admin = make_principal_headers(client, engine, Role.admin)
    caplog.set_level(logging.DEBUG)
    created = _create(client, admin, "secret-key")
    replayed = _create(client, admin, "secret-key")
    secret = created.json()["secret"]
    assert replayed.json()["secret"] == secret
    logged = caplog.text + "".join(str(r.__dict__) for r in caplog.records)
    assert "/api/v1/webhooks" in logged  # the requests were logged ...
    assert secret not in logged  # ... but never the stored response
    hook_id = created.json()["id"]
    for path in (
        "/api/v1/webhooks",
        f"/api/v1/webhooks/{hook_id}",
        f"/api/v1/webhooks/{hook_id}/deliveries",
        "/api/v1/audit",
    ):
        response = client.get(path, headers=admin)
        assert response.status_code == 200, path
        assert secret not in response.text, path
    # Another admin with the same key gets a fresh execution, never this response.
    other = _create(client, make_principal_headers(client, engine, Role.admin), "secret-key")
    assert secret not in other.text


def _upload(client: TestClient, headers: dict[str, str], body: bytes, key: str) -> Any:
    return client.post("/api/v1/imports", content=body, headers={**headers, "Idempotency-Key": key})


def test_import_replay_is_byte_identical_with_no_second_import(
    client: TestClient, engine: Engine, tmp_path: Path
) -> None:
    caller = make_principal_headers(client, engine, Role.integration)
    body = (json.dumps({"text": SEED.read_text(encoding="utf-8")}) + "\n").encode()
    first = _upload(client, caller, body, "import-1")
    assert first.status_code == 202, first.text
    again = _upload(client, caller, body, "import-1")
    assert (again.status_code, again.content) == (202, first.content)
    assert again.headers["Location"] == first.headers["Location"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert _count(engine, ImportJob) == 1
    assert _audited(engine, AuditAction.import_created) == 1
    assert _upload(client, caller, body + b"\n", "import-1").status_code == 422
    # The same body with another query string is another request.
    other_query = client.post(
        "/api/v1/imports?format=ndjson",
        content=body,
        headers={**caller, "Idempotency-Key": "import-1"},
    )
    assert other_query.status_code == 422
    # Past the generic record's lifetime the job still holds the key (the import TTL),
    # so the same upload still gives the same import.
    _expire_all(engine)
    late = _upload(client, caller, body, "import-1")
    assert late.status_code == 202
    assert late.json() == first.json()
    assert _count(engine, ImportJob) == 1
    spooled = sorted(p.name for p in (tmp_path / "spool").iterdir())
    assert spooled == [f"{first.json()['id']}.body"]
