"""The authorization matrix, generated from the app's route table.

Every (method, path) of the application is called by every role and without a token, and
must answer exactly what `RULES` says:

- `PUBLIC`: anyone; never 401 or 403 (with or without a token);
- a set of roles: no token -> 401 with `WWW-Authenticate: Bearer`; a caller holding one of
  the roles -> "allowed" (any status but 401/403: the dummy ids give 404, a dummy body 422);
  any other role -> 403;
- `OWN_TOKEN`: the route checks its own credential (the calendar feed's `?token=`), so a
  bearer token is not enough: 401 for everyone without that credential.

A route with no entry fails `test_every_route_has_a_rule`, so each new route must declare
who may call it here. Add `REQUESTS` entries where a route needs a particular body so the
status is about authorization, not validation.
"""

from __future__ import annotations

import re
from typing import Any, Literal

import pytest
from factories import make_principal_headers
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from service.auth.models import Role

PUBLIC: Literal["public"] = "public"
OWN_TOKEN: Literal["own-token"] = "own-token"
Rule = set[Role] | Literal["public", "own-token"]

ANY_ROLE = set(Role)
ADMIN = {Role.admin}
INGEST = {Role.supervisor, Role.admin, Role.integration}
SUPERVISOR_OR_INTEGRATION = {Role.supervisor, Role.integration}
AUDIT = {Role.supervisor, Role.admin}
SUPERVISOR = {Role.supervisor}

RULES: dict[tuple[str, str], Rule] = {
    # operations and documentation
    ("GET", "/healthz"): PUBLIC,
    ("GET", "/metrics"): PUBLIC,
    ("GET", "/readyz"): PUBLIC,
    ("GET", "/openapi.json"): PUBLIC,
    ("GET", "/docs"): PUBLIC,
    ("GET", "/docs/oauth2-redirect"): PUBLIC,
    ("GET", "/redoc"): ANY_ROLE,  # not in settings.public_paths
    # identity
    ("POST", "/api/v1/auth/token"): PUBLIC,
    ("GET", "/api/v1/users/me"): ANY_ROLE,
    ("POST", "/api/v1/users"): ADMIN,
    ("GET", "/api/v1/users"): ADMIN,
    ("GET", "/api/v1/users/{username}"): ADMIN,
    ("PATCH", "/api/v1/users/{username}"): ADMIN,
    ("POST", "/api/v1/service-accounts"): ADMIN,
    ("GET", "/api/v1/service-accounts"): ADMIN,
    ("GET", "/api/v1/service-accounts/{client_id}"): ADMIN,
    ("PATCH", "/api/v1/service-accounts/{client_id}"): ADMIN,
    # cables
    ("POST", "/api/v1/cables"): INGEST,
    ("GET", "/api/v1/cables"): ANY_ROLE,
    ("GET", "/api/v1/cables/{ref_id}"): ANY_ROLE,
    # schedule
    ("GET", "/api/v1/schedule/due"): SUPERVISOR_OR_INTEGRATION,
    ("GET", "/api/v1/schedule/overdue"): SUPERVISOR_OR_INTEGRATION,
    ("GET", "/api/v1/schedule/summary"): SUPERVISOR_OR_INTEGRATION,
    ("POST", "/api/v1/schedule/calendar-token"): SUPERVISOR_OR_INTEGRATION,
    ("GET", "/api/v1/schedule/calendar.ics"): OWN_TOKEN,
    # routing
    ("GET", "/api/v1/routing/rules"): SUPERVISOR,
    ("POST", "/api/v1/routing/rules"): SUPERVISOR,
    ("GET", "/api/v1/routing/rules/{rule_id}"): SUPERVISOR,
    ("PUT", "/api/v1/routing/rules/{rule_id}"): SUPERVISOR,
    ("DELETE", "/api/v1/routing/rules/{rule_id}"): SUPERVISOR,
    ("POST", "/api/v1/routing/apply"): SUPERVISOR,
    ("GET", "/api/v1/queues"): SUPERVISOR,
    # review and release
    ("GET", "/api/v1/cables/{ref_id}/portions/{seq}"): ANY_ROLE,
    ("POST", "/api/v1/cables/{ref_id}/portions/{seq}/claim"): {Role.reviewer},
    ("PUT", "/api/v1/cables/{ref_id}/portions/{seq}/decision"): {Role.reviewer},
    ("POST", "/api/v1/cables/{ref_id}/portions/{seq}/approve"): {Role.approver},
    ("POST", "/api/v1/cables/{ref_id}/portions/{seq}/return"): {Role.approver},
    ("POST", "/api/v1/cables/{ref_id}/portions/{seq}/referral"): {
        Role.supervisor,
        Role.integration,
    },
    ("PUT", "/api/v1/cables/{ref_id}/portions/{seq}/assignee"): {Role.supervisor},
    ("GET", "/api/v1/queue"): {Role.reviewer, Role.approver},
    ("GET", "/api/v1/review/policy"): {Role.supervisor},
    ("PUT", "/api/v1/review/policy"): {Role.supervisor},
    ("POST", "/api/v1/cables/{ref_id}/finalize"): {Role.supervisor},
    ("GET", "/api/v1/cables/{ref_id}/release"): ANY_ROLE,
    # audit
    ("GET", "/api/v1/audit"): AUDIT,
    ("GET", "/api/v1/audit/verify"): AUDIT,
    ("GET", "/api/v1/cables/{ref_id}/audit"): ANY_ROLE,
    # records-system integration
    ("POST", "/api/v1/imports"): {Role.admin, Role.integration},
    ("GET", "/api/v1/imports/{import_id}"): {Role.admin, Role.integration},
    ("GET", "/api/v1/releases"): ANY_ROLE,
    ("POST", "/api/v1/webhooks"): ADMIN,
    ("GET", "/api/v1/webhooks"): ADMIN,
    ("GET", "/api/v1/webhooks/{webhook_id}"): ADMIN,
    ("PATCH", "/api/v1/webhooks/{webhook_id}"): ADMIN,
    ("GET", "/api/v1/webhooks/{webhook_id}/deliveries"): ADMIN,
    ("POST", "/api/v1/webhooks/{webhook_id}/secret"): ADMIN,
}

# Request details for routes whose authorization is decided after validating the body.
REQUESTS: dict[tuple[str, str], dict[str, Any]] = {}

PLACEHOLDERS = {"ref_id": "99NOWHERE1", "seq": "1", "username": "nobody", "client_id": "svc-0"}
SKIPPED_METHODS = {"HEAD", "OPTIONS"}
CALLERS: list[Role | None] = [None, *Role]


def app_routes(app: FastAPI) -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    for context in iter_route_contexts(app.routes):
        methods = getattr(context.original_route, "methods", None) or set()
        if context.path is None:
            continue
        found.update((method, context.path) for method in methods - SKIPPED_METHODS)
    return found


def concrete(path: str) -> str:
    return re.sub(r"{(\w+)(?::\w+)?}", lambda m: PLACEHOLDERS.get(m.group(1), "1"), path)


def test_every_route_has_a_rule_and_every_rule_a_route(app: FastAPI) -> None:
    routes = app_routes(app)
    assert sorted(routes - RULES.keys()) == [], "declare these routes in RULES"
    assert sorted(RULES.keys() - routes) == [], "these RULES name no route"


@pytest.fixture
def headers_by_role(client: TestClient, engine: Engine) -> dict[Role | None, dict[str, str]]:
    headers: dict[Role | None, dict[str, str]] = {None: {}}
    for role in Role:
        headers[role] = make_principal_headers(client, engine, role)
    return headers


def call(client: TestClient, method: str, path: str, headers: dict[str, str]) -> Any:
    extra = REQUESTS.get((method, path), {})
    if method in {"POST", "PUT", "PATCH"} and not extra:
        extra = {"json": {}}
    return client.request(method, concrete(path), headers=headers, **extra)


def expected(rule: Rule, caller: Role | None) -> str:
    if rule == PUBLIC:
        return "allowed"
    if rule == OWN_TOKEN:
        return "401"
    assert isinstance(rule, set)
    if caller is None:
        return "401"
    return "allowed" if caller in rule else "403"


def outcome(status: int) -> str:
    return str(status) if status in (401, 403) else "allowed"


def test_authorization_matrix(
    app: FastAPI, client: TestClient, headers_by_role: dict[Role | None, dict[str, str]]
) -> None:
    mismatches: list[str] = []
    for method, path in sorted(app_routes(app)):
        rule = RULES.get((method, path))
        if rule is None:
            continue  # reported by test_every_route_has_a_rule_and_every_rule_a_route
        for caller in CALLERS:
            response = call(client, method, path, headers_by_role[caller])
            want, got = expected(rule, caller), outcome(response.status_code)
            who = caller.value if caller else "no token"
            if want != got:
                mismatches.append(
                    f"{method} {path} as {who}: want {want}, got {response.status_code}"
                )
            if response.status_code in (401, 403):
                assert response.headers["content-type"] == "application/problem+json"
                assert response.json()["status"] == response.status_code
            if response.status_code == 401:
                assert response.headers["www-authenticate"].startswith("Bearer"), (method, path)
    assert mismatches == []
