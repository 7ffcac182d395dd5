"""The busiest review routes load their caller in their own thread (`auth.deps.Caller`),
with a hint of the roles each caller held when last seen: the hint only decides *when* the
account is checked, never what it may do. A role removed or an account deactivated after
the process learned it takes effect on the very next request."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from review_factories import Run, audit_events, if_match, portion_path, start_run
from sqlalchemy import Engine

from service.auth import service as auth
from service.auth.models import Role
from service.auth.principal import system_principal
from service.db import unit_of_work


@pytest.fixture
def run(app: FastAPI, client: TestClient, engine: Engine) -> Iterator[Run]:
    yield start_run(app, client, engine)
    app.dependency_overrides.clear()


def _update(engine: Engine, username: str, **change: object) -> None:
    with unit_of_work(engine) as session:
        auth.update_user(session, actor=system_principal("test"), username=username, **change)  # type: ignore[arg-type]


def _decide(run: Run, seq: int, version: int, body: object) -> tuple[int, str]:
    response = run.client.put(
        portion_path(run.ref_id, seq, "decision"),
        json=body,
        headers={**run.rita, **if_match(version)},
    )
    return response.status_code, response.text


def test_a_role_removed_after_it_was_seen_is_refused_at_once(run: Run, engine: Engine) -> None:
    assert run.claim(5).status_code == 200
    version = run.portion(5)["version"]  # the process now knows rita as a reviewer
    _update(engine, "rita", roles=[Role.approver])
    before = len(audit_events(engine))
    status, text = _decide(run, 5, version, {"action": "release"})
    assert status == 403, text
    assert "reviewer" in text
    assert len(audit_events(engine)) == before
    assert run.portion(5)["version"] == version  # nothing changed
    assert run.portion(5)["decisions"] == []


def test_an_account_deactivated_after_it_was_seen_is_refused_at_once(
    run: Run, engine: Engine
) -> None:
    assert run.claim(5).status_code == 200
    version = run.portion(5)["version"]
    _update(engine, "rita", is_active=False)
    read = run.client.get(portion_path(run.ref_id, 5), headers=run.rita)
    assert read.status_code == 401
    assert read.headers["www-authenticate"].startswith("Bearer")
    assert _decide(run, 5, version, {"action": "release"})[0] == 401


def test_a_caller_never_seen_without_the_role_gets_403_before_422(app: FastAPI, run: Run) -> None:
    app.state.known_roles.forget_all()
    # alan is an approver only; his malformed decision is refused for the role, unjudged.
    response = run.client.put(
        portion_path(run.ref_id, 5, "decision"),
        json={"action": "nonsense"},
        headers={**run.alan, **if_match(1)},
    )
    assert response.status_code == 403, response.text
    assert "needs one of the roles: reviewer" in response.text


def test_a_role_granted_after_a_refusal_is_honoured_at_once(run: Run, engine: Engine) -> None:
    # uma is a reviewer: take her reviewer role, be refused, give it back, be let through
    # (a remembered refusal is never reused: the account is read again).
    _update(engine, "uma", roles=[Role.approver])
    body = {"action": "release"}
    response = run.client.put(
        portion_path(run.ref_id, 5, "decision"), json=body, headers={**run.uma, **if_match(1)}
    )
    assert response.status_code == 403
    assert "needs one of the roles: reviewer" in response.text
    _update(engine, "uma", roles=[Role.reviewer])
    response = run.client.put(
        portion_path(run.ref_id, 5, "decision"), json=body, headers={**run.uma, **if_match(1)}
    )
    # Past the role check: the portion is rita's and above uma's clearance.
    assert response.status_code == 403
    assert "clearance" in response.text
