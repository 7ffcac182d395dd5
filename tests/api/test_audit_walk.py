"""Every mutating endpoint of the API is audited: each declares the action it writes, the
configuration endpoints are walked here (exactly one event of the right action each), and
every mutating endpoint is called with bad input to show a failed request writes no event
(except `auth.failed` for a failed login).

The review endpoints' happy paths are walked by tests/api/test_review_run.py and
tests/api/test_review_api.py with the same exactly-one-event check (`Run.one_event`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from audit_helpers import SEED_CABLE, events_since, head_seq
from factories import create_user
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import Engine

from service.auth.models import Role
from service.markings import Level

REVIEW_TESTS = "tests/api/test_review_run.py, tests/api/test_review_api.py"

# (method, path) -> the action(s) a successful call writes, or why it writes none.
DECLARED: dict[tuple[str, str], str] = {
    ("POST", "/api/v1/auth/token"): "none on success; auth.failed on a failed login",
    ("POST", "/api/v1/users"): "user.changed",
    ("PATCH", "/api/v1/users/{username}"): "user.changed",
    ("POST", "/api/v1/service-accounts"): "service_account.changed",
    ("PATCH", "/api/v1/service-accounts/{client_id}"): "service_account.changed",
    ("POST", "/api/v1/cables"): "cable.ingested, its detail listing each portion's routing",
    ("POST", "/api/v1/schedule/calendar-token"): "none: a signed token, nothing is stored",
    ("POST", "/api/v1/imports"): "import.created (the job later writes its cables' events)",
    ("POST", "/api/v1/webhooks"): "webhook.changed",
    ("PATCH", "/api/v1/webhooks/{webhook_id}"): "webhook.changed",
    ("POST", "/api/v1/webhooks/{webhook_id}/secret"): "webhook.changed (secret_rotated)",
    ("POST", "/api/v1/routing/rules"): "rule.changed",
    ("PUT", "/api/v1/routing/rules/{rule_id}"): "rule.changed",
    ("DELETE", "/api/v1/routing/rules/{rule_id}"): "rule.changed",
    ("POST", "/api/v1/routing/apply"): "portion.routed for each portion it routes",
    ("POST", "/api/v1/cables/{ref_id}/portions/{seq}/claim"): "portion.claimed",
    ("PUT", "/api/v1/cables/{ref_id}/portions/{seq}/decision"): "portion.decided",
    ("POST", "/api/v1/cables/{ref_id}/portions/{seq}/approve"): "portion.approved",
    ("POST", "/api/v1/cables/{ref_id}/portions/{seq}/return"): "portion.returned",
    ("POST", "/api/v1/cables/{ref_id}/portions/{seq}/referral"): "portion.referral_answered",
    ("PUT", "/api/v1/cables/{ref_id}/portions/{seq}/assignee"): "portion.reassigned",
    ("PUT", "/api/v1/review/policy"): "rule.changed",
    ("POST", "/api/v1/cables/{ref_id}/finalize"): "cable.finalized",
}
MUTATING = {"POST", "PUT", "PATCH", "DELETE"}
DUMMY = {"ref_id": "07NOSUCH1", "seq": "99", "username": "nobody", "client_id": "nobody"}


def mutating_routes(app: FastAPI) -> set[tuple[str, str]]:
    return {
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        for method in operations
        if method.upper() in MUTATING
    }


def test_every_mutating_route_declares_its_audit_action(app: FastAPI) -> None:
    assert mutating_routes(app) == set(DECLARED)


@pytest.fixture
def everything(client: TestClient, engine: Engine) -> dict[str, str]:
    """Headers of one TOP SECRET account holding every role (so no call fails for its role)."""
    _, password = create_user(
        engine, username="omni", roles=list(Role), clearance=Level.TOP_SECRET, queues=["general"]
    )
    response = client.post(
        "/api/v1/auth/token",
        data={"grant_type": "password", "username": "omni", "password": password},
    )
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def _path(template: str) -> str:
    path = template
    for name, value in DUMMY.items():
        path = path.replace("{" + name + "}", value)
    return path.replace("{rule_id}", "999999").replace("{webhook_id}", "999999")


def test_failed_requests_write_no_event(
    client: TestClient, engine: Engine, app: FastAPI, everything: dict[str, str]
) -> None:
    accepted: set[tuple[str, str]] = set()
    for method, template in sorted(mutating_routes(app)):
        path = _path(template)
        for headers, body in (({}, None), (everything, {"bogus": True})):
            before = head_seq(engine)
            response = client.request(method, path, headers=headers, json=body)
            # Only this request's events: an accepted import keeps writing from its worker.
            request_id = response.headers["x-request-id"]
            actions = [e.action for e in events_since(engine, before) if e.request_id == request_id]
            if response.status_code < 400:
                accepted.add((method, template))
                continue  # not a failure; the happy paths are checked below and elsewhere
            expected = ["auth.failed"] if template == "/api/v1/auth/token" and headers else []
            assert actions in ([], expected), (method, template, response.status_code, actions)
    # Only these accept a body of unknown fields: a routing pass with nothing to route, a
    # calendar token with default options, and an import (its rows are rejected later).
    assert accepted <= {
        ("POST", "/api/v1/routing/apply"),
        ("POST", "/api/v1/schedule/calendar-token"),
        ("POST", "/api/v1/imports"),
    }


def test_a_failed_login_writes_exactly_one_auth_failed(
    client: TestClient, engine: Engine, everything: dict[str, str]
) -> None:
    before = head_seq(engine)
    response = client.post(
        "/api/v1/auth/token",
        data={"grant_type": "password", "username": "omni", "password": "wrong-password-123"},
    )
    assert response.status_code in (400, 401)
    (event,) = events_since(engine, before)
    assert event.action == "auth.failed"
    assert "wrong-password-123" not in str(event.detail)


def _one(engine: Engine, call: Callable[[], Response], action: str, status: int) -> Any:
    before = head_seq(engine)
    response = call()
    assert response.status_code == status, response.text
    assert [e.action for e in events_since(engine, before)] == [action], response.text
    return response.json() if response.content else None


def test_configuration_endpoints_write_exactly_one_event(
    client: TestClient, engine: Engine, everything: dict[str, str]
) -> None:
    h = everything
    user = {
        "username": "walker",
        "password": "a-long-password-1",
        "roles": ["reviewer"],
        "clearance": "SECRET",
        "queues": ["general"],
    }
    _one(engine, lambda: client.post("/api/v1/users", json=user, headers=h), "user.changed", 201)
    _one(
        engine,
        lambda: client.patch("/api/v1/users/walker", json={"clearance": "CONFIDENTIAL"}, headers=h),
        "user.changed",
        200,
    )

    account = _one(
        engine,
        lambda: client.post(
            "/api/v1/service-accounts",
            json={"name": "records", "clearance": "UNCLASSIFIED"},
            headers=h,
        ),
        "service_account.changed",
        201,
    )
    _one(
        engine,
        lambda: client.patch(
            f"/api/v1/service-accounts/{account['client_id']}", json={"active": False}, headers=h
        ),
        "service_account.changed",
        200,
    )

    hook = {"url": "https://93.184.215.14/hooks/declass", "events": ["cable.released"]}
    webhook = _one(
        engine,
        lambda: client.post("/api/v1/webhooks", json=hook, headers=h),
        "webhook.changed",
        201,
    )
    _one(
        engine,
        lambda: client.post(f"/api/v1/webhooks/{webhook['id']}/secret", headers=h),
        "webhook.changed",
        200,
    )
    _one(
        engine,
        lambda: client.patch(
            f"/api/v1/webhooks/{webhook['id']}", json={"active": False}, headers=h
        ),
        "webhook.changed",
        200,
    )

    rule = {"name": "walk", "priority": 5, "match": {"levels": ["SECRET"]}, "queue": "general"}
    created = client.post("/api/v1/routing/rules", json=rule, headers=h)
    assert created.status_code == 201, created.text
    rule_id, etag = created.json()["id"], created.headers["ETag"]
    _one(
        engine,
        lambda: client.put(
            f"/api/v1/routing/rules/{rule_id}",
            json={**rule, "priority": 6},
            headers={**h, "If-Match": etag},
        ),
        "rule.changed",
        200,
    )
    etag = client.get(f"/api/v1/routing/rules/{rule_id}", headers=h).headers["ETag"]
    _one(
        engine,
        lambda: client.delete(f"/api/v1/routing/rules/{rule_id}", headers={**h, "If-Match": etag}),
        "rule.changed",
        204,
    )

    policy = {"sampling_enabled": True, "sample_rate": 0.25}
    _one(
        engine,
        lambda: client.put("/api/v1/review/policy", json=policy, headers=h),
        "rule.changed",
        200,
    )

    before = head_seq(engine)
    posted = client.post(
        "/api/v1/cables",
        content=SEED_CABLE.read_bytes(),
        headers={**h, "Content-Type": "text/plain"},
    )
    assert posted.status_code == 201, posted.text
    actions = [e.action for e in events_since(engine, before)]
    assert actions == ["cable.ingested"]
