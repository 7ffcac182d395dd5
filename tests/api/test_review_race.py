"""16 threads decide the same portion with the same If-Match at once (T-3.2): exactly one
200, fifteen 412s carrying the current ETag, one decision stored, one audit event, and the
audit chain still verifies. Runs on SQLite and PostgreSQL (DECLASS_TEST_DATABASE)."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response
from review_factories import Run, audit_actions, if_match, portion_path, start_run
from sqlalchemy import Engine
from sqlmodel import Session, select

from service.review.models import Decision

THREADS = 16


@pytest.fixture
def run(app: FastAPI, client: TestClient, engine: Engine) -> Iterator[Run]:
    yield start_run(app, client, engine)
    app.dependency_overrides.clear()


def test_sixteen_racing_decisions_one_wins(run: Run, engine: Engine) -> None:
    assert run.claim(5).status_code == 200
    version = run.portion(5)["version"]
    before = audit_actions(engine)
    barrier = threading.Barrier(THREADS)
    responses: list[Response] = []
    lock = threading.Lock()

    def decide(index: int) -> None:
        body = {"action": "withhold", "exemptions": ["1.4(b)"], "note": f"thread {index}"}
        barrier.wait()
        response = run.client.put(
            portion_path(run.ref_id, 5, "decision"),
            json=body,
            headers={**run.rita, **if_match(version)},
        )
        with lock:
            responses.append(response)

    threads = [threading.Thread(target=decide, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert Counter(r.status_code for r in responses) == {200: 1, 412: THREADS - 1}
    winner = next(r for r in responses if r.status_code == 200)
    assert winner.headers["ETag"] == f'"{version + 1}"'
    for loser in (r for r in responses if r.status_code == 412):
        assert loser.headers["ETag"] == f'"{version + 1}"'
        assert loser.headers["content-type"] == "application/problem+json"
    with Session(engine) as session:
        stored = session.exec(select(Decision)).all()
    assert len(stored) == 1
    assert stored[0].note == winner.json()["decisions"][0]["note"]
    assert audit_actions(engine)[len(before) :] == ["portion.decided"]
    verify = run.client.get("/api/v1/audit/verify", headers=run.sue)
    assert (verify.status_code, verify.json()["valid"]) == (200, True)
