"""Idempotency-Key on the decision route (T-3.4): a retry replays the first response byte
for byte with no second decision or audit event; another body with the key is a 422; a
retry while the first is still inside the handler is a 409; bad keys are 400s; outcomes
after the handler ran (a 412) are stored, validation failures before it are not. Runs on
SQLite and PostgreSQL (DECLASS_TEST_DATABASE)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response
from review_factories import Run, audit_actions, if_match, portion_path, start_run
from sqlalchemy import Engine, func
from sqlmodel import Session, select

from service.errors import ServiceUnavailable
from service.idempotency.models import IdempotencyRecord
from service.review import decisions
from service.review.models import Decision

WITHHOLD = {"action": "withhold", "exemptions": ["1.4(b)"], "note": "first"}


@pytest.fixture
def run(app: FastAPI, client: TestClient, engine: Engine) -> Iterator[Run]:
    yield start_run(app, client, engine)
    app.dependency_overrides.clear()


def _put(run: Run, body: dict[str, Any], version: int, key: str | None) -> Response:
    headers = {**run.rita, **if_match(version)}
    if key is not None:
        headers["Idempotency-Key"] = key
    return run.client.put(portion_path(run.ref_id, 5, "decision"), json=body, headers=headers)


def _count(engine: Engine, table: Any) -> int:
    with Session(engine) as session:
        return int(session.exec(select(func.count()).select_from(table)).one())


def _claimed_version(run: Run) -> int:
    assert run.claim(5).status_code == 200
    version: int = run.portion(5)["version"]
    return version


def test_retry_replays_the_first_response_byte_for_byte(run: Run, engine: Engine) -> None:
    version = _claimed_version(run)
    before = audit_actions(engine)
    first = _put(run, WITHHOLD, version, "key-1")
    assert first.status_code == 200, first.text
    assert "Idempotent-Replayed" not in first.headers
    assert audit_actions(engine)[len(before) :] == ["portion.decided"]

    again = _put(run, WITHHOLD, version, "key-1")
    assert again.status_code == 200
    assert again.content == first.content
    assert again.headers["ETag"] == first.headers["ETag"] == f'"{version + 1}"'
    assert again.headers["content-type"] == first.headers["content-type"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert _count(engine, Decision) == 1
    assert audit_actions(engine)[len(before) :] == ["portion.decided"]
    assert run.portion(5)["version"] == version + 1


def test_same_key_with_another_body_is_a_422(run: Run, engine: Engine) -> None:
    version = _claimed_version(run)
    assert _put(run, WITHHOLD, version, "key-2").status_code == 200
    before = audit_actions(engine)
    other = _put(run, {**WITHHOLD, "note": "second"}, version, "key-2")
    assert other.status_code == 422
    assert other.headers["content-type"] == "application/problem+json"
    assert other.json()["detail"] == "This Idempotency-Key was already used for a different request"
    # Another If-Match is another request too.
    assert _put(run, WITHHOLD, version + 1, "key-2").status_code == 422
    assert _count(engine, Decision) == 1
    assert audit_actions(engine) == before


BAD_KEYS = ["", " ", "a b", "clé", "x" * 256, "tab\there", "new\nline"]


def test_bad_keys_are_400_and_nothing_happens_and_255_characters_pass(
    run: Run, engine: Engine
) -> None:
    version = _claimed_version(run)
    path = portion_path(run.ref_id, 5, "decision")
    for key in BAD_KEYS:
        headers = {**run.rita, **if_match(version)}
        raw = [(k.encode(), v.encode()) for k, v in headers.items()]
        raw.append((b"Idempotency-Key", key.encode()))
        response = run.client.put(path, json=WITHHOLD, headers=raw)
        assert response.status_code == 400, (key, response.text)
        assert response.json()["detail"] == (
            "Idempotency-Key must be 1-255 visible ASCII characters"
        )
    assert _count(engine, Decision) == 0
    assert _count(engine, IdempotencyRecord) == 0
    assert _put(run, WITHHOLD, version, "k" * 255).status_code == 200


def test_outcome_after_the_handler_ran_is_stored_and_replayed(run: Run, engine: Engine) -> None:
    version = _claimed_version(run)
    stale = _put(run, WITHHOLD, version + 7, "key-412")
    assert stale.status_code == 412
    # The portion moves on; the retry still gets the stored 412, not a fresh outcome.
    assert _put(run, WITHHOLD, version, None).status_code == 200
    again = _put(run, WITHHOLD, version + 7, "key-412")
    assert (again.status_code, again.content) == (412, stale.content)
    assert again.headers["ETag"] == stale.headers["ETag"] == f'"{version}"'
    assert again.headers["Idempotent-Replayed"] == "true"
    assert _count(engine, Decision) == 1


def test_failures_before_or_outside_the_handler_are_not_stored(
    run: Run, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Validation (422), a caller without the role (403), a missing If-Match (428), a 5xx
    domain error and an unexpected exception (after the effect) store nothing: the key is
    released and the corrected request runs."""
    version = _claimed_version(run)
    path = portion_path(run.ref_id, 5, "decision")
    invalid = _put(run, {"action": "shred"}, version, "key-1")
    assert invalid.status_code == 422
    assert invalid.json()["type"].endswith("/validation-error")
    forbidden = run.client.put(
        path, json=WITHHOLD, headers={**run.alan, **if_match(version), "Idempotency-Key": "key-1"}
    )
    assert forbidden.status_code == 403
    missing = run.client.put(path, json=WITHHOLD, headers={**run.rita, "Idempotency-Key": "key-1"})
    assert missing.status_code == 428
    real_decide = decisions.decide

    def unavailable(*args: Any, **kwargs: Any) -> Any:
        raise ServiceUnavailable("try again", headers={"Retry-After": "1"})

    def broken(*args: Any, **kwargs: Any) -> Any:
        real_decide(*args, **kwargs)
        raise RuntimeError("a bug after the effect")

    monkeypatch.setattr(decisions, "decide", unavailable)
    assert _put(run, WITHHOLD, version, "key-1").status_code == 503
    monkeypatch.setattr(decisions, "decide", broken)
    with pytest.raises(RuntimeError):
        _put(run, WITHHOLD, version, "key-1")
    assert _count(engine, Decision) == 0  # the effect rolled back with the request
    assert _count(engine, IdempotencyRecord) == 0
    monkeypatch.setattr(decisions, "decide", real_decide)
    fixed = _put(run, WITHHOLD, version, "key-1")
    assert fixed.status_code == 200, fixed.text
    assert "Idempotent-Replayed" not in fixed.headers
    assert _count(engine, Decision) == 1


def test_second_request_while_the_first_is_in_flight_is_a_409(
    run: Run, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    version = _claimed_version(run)
    inside, release = threading.Event(), threading.Event()
    real_decide = decisions.decide

    def held_decide(*args: Any, **kwargs: Any) -> Any:
        inside.set()
        assert release.wait(30)
        return real_decide(*args, **kwargs)

    monkeypatch.setattr(decisions, "decide", held_decide)
    results: list[Response] = []
    first = threading.Thread(target=lambda: results.append(_put(run, WITHHOLD, version, "k-c")))
    first.start()
    try:
        assert inside.wait(30)
        second = _put(run, WITHHOLD, version, "k-c")
    finally:
        release.set()
        first.join(60)
    assert second.status_code == 409, second.text
    assert second.headers["content-type"] == "application/problem+json"
    assert second.json()["detail"] == (
        "A request with this Idempotency-Key is still in progress; retry later"
    )
    assert int(second.headers["Retry-After"]) >= 1
    assert [r.status_code for r in results] == [200]
    assert _count(engine, Decision) == 1
    # Once the first has finished, the retry is a replay.
    third = _put(run, WITHHOLD, version, "k-c")
    assert (third.status_code, third.content) == (200, results[0].content)
    assert third.headers["Idempotent-Replayed"] == "true"
