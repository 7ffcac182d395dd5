"""The token endpoint: both grants, RFC 6749 errors as problem+json, audited failures and
the failed-login throttle (per username and per client address)."""

from __future__ import annotations

import threading

import pytest
from factories import TOKEN_PATH, auth_headers, create_service_account, create_user
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlmodel import Session, col

from service.audit.models import AuditEvent
from service.auth.models import Role
from service.auth.ratelimit import SlidingWindow
from service.main import create_app
from service.markings import Level
from service.settings import Settings

PROBLEM = "application/problem+json"


def password_grant(username: str, password: str) -> dict[str, str]:
    return {"grant_type": "password", "username": username, "password": password}


def audit_events(engine: Engine, action: str) -> list[AuditEvent]:
    with Session(engine) as session:
        statement = select(AuditEvent).where(col(AuditEvent.action) == action)
        return list(session.execute(statement.order_by(col(AuditEvent.seq))).scalars())


def test_password_grant_returns_a_bearer_token(client: TestClient, engine: Engine) -> None:
    _user, password = create_user(
        engine, username="alice", roles=[Role.reviewer], clearance=Level.SECRET
    )
    response = client.post(TOKEN_PATH, data=password_grant("alice", password))
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in"}
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 3600
    assert response.headers["cache-control"] == "no-store"
    me = client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200
    assert me.json() == {
        "username": "alice",
        "kind": "user",
        "roles": ["reviewer"],
        "clearance": "SECRET",
        "queues": [],
    }


def test_client_credentials_grant_for_a_service_account(client: TestClient, engine: Engine) -> None:
    account, secret = create_service_account(engine, name="Records", clearance=Level.CONFIDENTIAL)
    data = {
        "grant_type": "client_credentials",
        "client_id": account.client_id,
        "client_secret": secret,
    }
    response = client.post(TOKEN_PATH, data=data)
    assert response.status_code == 200
    headers = {"Authorization": f"Bearer {response.json()['access_token']}"}
    assert client.get("/api/v1/users/me", headers=headers).json() == {
        "username": account.client_id,
        "kind": "service",
        "roles": ["integration"],
        "clearance": "CONFIDENTIAL",
        "queues": [],
    }


def test_wrong_password_is_invalid_grant_and_audited_in_its_own_transaction(
    client: TestClient, engine: Engine
) -> None:
    create_user(
        engine,
        username="alice",
        roles=[Role.reviewer],
        clearance=Level.SECRET,
        password="pw-right-0123",
    )
    response = client.post(TOKEN_PATH, data=password_grant("alice", "pw-wrong-0123"))
    assert response.status_code == 400
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["error"] == "invalid_grant"
    assert response.json()["detail"] == "Wrong username or password"
    [event] = audit_events(engine, "auth.failed")
    assert event.actor == "anonymous"
    assert event.entity_id == "alice"
    assert event.detail == {"username": "alice", "client": "testclient", "grant_type": "password"}
    assert "pw-wrong" not in str(event.model_dump())


def test_unknown_and_inactive_users_get_the_same_answer(client: TestClient, engine: Engine) -> None:
    _user, password = create_user(
        engine, username="gone", roles=[Role.reviewer], clearance=Level.SECRET
    )
    admin = auth_headers(client, *_admin(engine, "root"))
    assert (
        client.patch("/api/v1/users/gone", json={"active": False}, headers=admin).status_code == 200
    )
    inactive = client.post(TOKEN_PATH, data=password_grant("gone", password))
    unknown = client.post(TOKEN_PATH, data=password_grant("nobody", password))
    assert inactive.status_code == unknown.status_code == 400
    assert inactive.json() == unknown.json()
    assert [e.entity_id for e in audit_events(engine, "auth.failed")] == ["gone", "nobody"]


def _admin(engine: Engine, username: str) -> tuple[str, str]:
    _user, password = create_user(
        engine, username=username, roles=[Role.admin], clearance=Level.TOP_SECRET
    )
    return username, password


def test_wrong_client_secret_is_invalid_client(client: TestClient, engine: Engine) -> None:
    account, _secret = create_service_account(engine, name="Records")
    data = {
        "grant_type": "client_credentials",
        "client_id": account.client_id,
        "client_secret": "x",
    }
    response = client.post(TOKEN_PATH, data=data)
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert response.headers["www-authenticate"].startswith("Bearer")
    [event] = audit_events(engine, "auth.failed")
    assert event.detail["grant_type"] == "client_credentials"


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"grant_type": "authorization_code", "code": "x"}, "unsupported_grant_type"),
        ({}, "unsupported_grant_type"),
        ({"grant_type": "password", "username": "alice"}, "invalid_request"),
        ({"grant_type": "client_credentials", "client_id": "x"}, "invalid_request"),
    ],
)
def test_malformed_token_requests_are_400_problems(
    client: TestClient, data: dict[str, str], error: str
) -> None:
    response = client.post(TOKEN_PATH, data=data)
    assert response.status_code == 400
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["error"] == error


@pytest.mark.parametrize(("length", "status"), [(73, 400), (1024, 400), (5000, 422)])
def test_t1_12_long_passwords_at_login_are_never_a_500(
    client: TestClient, engine: Engine, length: int, status: int
) -> None:
    create_user(engine, username="alice", roles=[Role.reviewer], clearance=Level.SECRET)
    response = client.post(TOKEN_PATH, data=password_grant("alice", "p" * length))
    assert response.status_code == status
    assert response.headers["content-type"] == PROBLEM


def test_t1_12_a_73_byte_password_works_end_to_end(client: TestClient, engine: Engine) -> None:
    password = "é" * 36 + "x"  # 73 bytes in UTF-8: past bcrypt's 72-byte limit
    create_user(
        engine, username="alice", roles=[Role.reviewer], clearance=Level.SECRET, password=password
    )
    assert client.post(TOKEN_PATH, data=password_grant("alice", password)).status_code == 200


# Throttle ------------------------------------------------------------------------------


@pytest.fixture
def tight_app(settings: Settings) -> FastAPI:
    return create_app(settings.model_copy(update={"login_attempts_per_window": 3}))


def _client(app: FastAPI, address: str) -> TestClient:
    return TestClient(app, client=(address, 40000))


def test_failed_logins_per_username_are_limited_with_retry_after(
    tight_app: FastAPI, engine: Engine
) -> None:
    _user, password = create_user(
        engine, username="alice", roles=[Role.reviewer], clearance=Level.SECRET
    )
    statuses = []
    for address in ["10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4"]:
        with _client(tight_app, address) as client:
            statuses.append(client.post(TOKEN_PATH, data=password_grant("alice", "nope-nope-nope")))
    assert [r.status_code for r in statuses] == [400, 400, 400, 429]
    refused = statuses[-1]
    assert refused.headers["content-type"] == PROBLEM
    assert 1 <= int(refused.headers["retry-after"]) <= 300
    with _client(tight_app, "10.0.0.9") as client:
        # the right password does not help while the username's budget is spent
        assert client.post(TOKEN_PATH, data=password_grant("ALICE", password)).status_code == 429
        assert client.post(TOKEN_PATH, data=password_grant("bob", "x")).status_code == 400
    assert len(audit_events(engine, "auth.failed")) == 4


def test_failed_logins_per_address_are_limited(tight_app: FastAPI, engine: Engine) -> None:
    _user, password = create_user(
        engine, username="alice", roles=[Role.reviewer], clearance=Level.SECRET
    )
    with _client(tight_app, "10.0.0.1") as client:
        statuses = [
            client.post(TOKEN_PATH, data=password_grant(name, "nope-nope-nope")).status_code
            for name in ["u1", "u2", "u3", "u4"]
        ]
        assert statuses == [400, 400, 400, 429]
        blocked = client.post(TOKEN_PATH, data=password_grant("alice", password))
        assert blocked.status_code == 429
        assert "retry-after" in blocked.headers
    with _client(tight_app, "10.0.0.2") as other:
        assert other.post(TOKEN_PATH, data=password_grant("alice", password)).status_code == 200


def test_a_successful_login_clears_the_username_budget(tight_app: FastAPI, engine: Engine) -> None:
    _user, password = create_user(
        engine, username="alice", roles=[Role.reviewer], clearance=Level.SECRET
    )
    for address in ["10.0.0.1", "10.0.0.2", "10.0.0.3"]:
        with _client(tight_app, address) as client:
            if address == "10.0.0.3":
                assert (
                    client.post(TOKEN_PATH, data=password_grant("alice", password)).status_code
                    == 200
                )
            else:
                client.post(TOKEN_PATH, data=password_grant("alice", "nope-nope-nope"))
    with _client(tight_app, "10.0.0.4") as client:
        for _ in range(2):
            client.post(TOKEN_PATH, data=password_grant("alice", "nope-nope-nope"))
        assert client.post(TOKEN_PATH, data=password_grant("alice", password)).status_code == 200


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_sliding_window_counts_expires_and_reports_the_wait() -> None:
    clock = FakeClock()
    window = SlidingWindow(limit=2, window_seconds=60, clock=clock)
    assert window.retry_after("k") is None
    window.hit("k")
    clock.now += 10
    window.hit("k")
    assert window.retry_after("k") == 50
    assert window.retry_after("other") is None
    clock.now += 50
    assert window.retry_after("k") is None  # the first hit left the window
    window.hit("k")
    assert window.retry_after("k") == 10
    window.reset("k")
    assert window.retry_after("k") is None


def test_sliding_window_is_thread_safe() -> None:
    window = SlidingWindow(limit=10_000, window_seconds=60)
    barrier = threading.Barrier(8)

    def hammer() -> None:
        barrier.wait()
        for _ in range(500):
            window.hit("shared")

    threads = [threading.Thread(target=hammer) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(window._events["shared"]) == 8 * 500
