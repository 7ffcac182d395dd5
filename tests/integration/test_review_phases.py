"""A decision in two phases (service/review/decisions.py, service/db.py): it reads and checks
first (on SQLite without the write lock) and writes in a short writer transaction whose
compare-and-set makes a change committed between the phases a 412, never a lost update."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from review_factories import (
    audit_actions,
    context,
    make_cable,
    portion_row,
    principal,
    start_run,
)
from review_factories import if_match as if_match_header
from review_factories import portion_path as path_of
from sqlalchemy import Engine, event
from sqlmodel import Session, col, select

from service.auth.models import Role
from service.cables.models import Portion
from service.db import _writer_lock, open_session, unit_of_work
from service.errors import PreconditionFailed
from service.review import approvals, decisions, queries
from service.review import service as review
from service.review.models import Decision
from service.review.validation import DecisionInput

RITA = principal("rita", Role.reviewer)


def _claimed(engine: Engine) -> tuple[str, int]:
    ref_id = make_cable(engine, assignee="rita")
    with unit_of_work(engine) as session:
        review.claim(session, ref_id=ref_id, seq=1, actor=RITA, expected_version=None)
    return ref_id, portion_row(engine, ref_id, 1).version


def _decide(session: Session, ref_id: str, version: int, action: str) -> None:
    decisions.decide(
        session,
        ref_id=ref_id,
        seq=1,
        actor=RITA,
        expected_version=version,
        decision=DecisionInput(action=action, codes=("1.4(b)",) if action == "withhold" else ()),
        context=context(),
    )


def test_a_decision_committed_between_the_phases_makes_the_other_a_412(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    ref_id, version = _claimed(engine)
    real_write_phase = decisions.write_phase
    interleaved: list[str] = []

    def other_request_first(session: Session) -> None:
        if not interleaved:
            interleaved.append("withhold")
            with unit_of_work(engine) as other:  # commits while the first has only read
                _decide(other, ref_id, version, "withhold")
        real_write_phase(session)

    monkeypatch.setattr(decisions, "write_phase", other_request_first)
    session = open_session(engine, write=True, lazy=True)  # as a request's session
    try:
        with pytest.raises(PreconditionFailed) as raised:
            _decide(session, ref_id, version, "release")
        session.rollback()
    finally:
        session.close()

    assert interleaved == ["withhold"]
    assert raised.value.headers == {"ETag": f'"{version + 1}"'}
    with Session(engine) as check:
        stored = check.exec(select(Decision).order_by(col(Decision.id))).all()
    assert [d.action for d in stored] == ["withhold"]
    assert portion_row(engine, ref_id, 1).version == version + 1
    assert portion_row(engine, ref_id, 1).status == "decided"
    assert audit_actions(engine, ref_id=ref_id).count("portion.decided") == 1


def test_the_sqlite_write_lock_is_held_only_for_the_writes(
    app: FastAPI, client: TestClient, engine: Engine
) -> None:
    app_engine: Engine = app.state.engine
    if app_engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL takes no lock at BEGIN (its writers run in parallel)")
    run = start_run(app, client, engine)
    try:
        assert run.claim(5).status_code == 200
        version = run.portion(5)["version"]
        lock, _ = _writer_lock(app_engine)
        seen: list[tuple[bool, str]] = []
        unlocked_sql: list[str] = []

        def listener(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
            words = statement.split()
            table = next((w for w in words[1:] if w.isidentifier() or "." in w), "")
            if words[0] == "SELECT":
                table = words[words.index("FROM") + 1] if "FROM" in words else table
            elif words[0] in ("INSERT", "UPDATE"):
                table = words[2] if words[0] == "INSERT" else words[1]
            seen.append((lock.locked(), f"{words[0]} {table}".strip()))
            if not lock.locked():
                unlocked_sql.append(" ".join(words))

        event.listen(app_engine, "before_cursor_execute", listener)
        try:
            response = run.client.put(
                path_of(run.ref_id, 5, "decision"),
                json={"action": "release"},
                headers={**run.rita, **if_match_header(version)},
            )
        finally:
            event.remove(app_engine, "before_cursor_execute", listener)
    finally:
        app.dependency_overrides.clear()

    assert response.status_code == 200
    unlocked = [what for locked, what in seen if not locked]
    locked = [what for locked, what in seen if locked]
    # Authentication, the portion with its history (one statement) and the policy are read
    # without the lock.
    assert unlocked[0] == "BEGIN"
    assert {"SELECT user", "SELECT cable"} <= set(unlocked)
    assert any("JOIN decision" in sql and "JOIN approval" in sql for sql in unlocked_sql)
    assert all(what.split()[0] in ("BEGIN", "SELECT") for what in unlocked)
    # Under it: the writes, the outbox's subscriptions and the audit chain's head only.
    assert locked[0] == "BEGIN IMMEDIATE"
    assert [w for w in locked if w.split()[0] in ("INSERT", "UPDATE")] == [
        "INSERT decision",
        "UPDATE portion",
        "INSERT audit_event",
    ]
    assert not {"SELECT user", "SELECT cable", "SELECT portion", "SELECT decision"} & set(locked)
    assert response.json()["version"] == version + 1
    assert [entry["action"] for entry in response.json()["decisions"]] == ["release"]
    assert response.json()["decisions"] == run.portion(5)["decisions"]


def test_the_history_built_from_rows_in_hand_equals_a_fresh_read(engine: Engine) -> None:
    ref_id, version = _claimed(engine)
    alan = principal("alan", Role.approver)
    with unit_of_work(engine) as session:
        _decide(session, ref_id, version, "withhold")
    with unit_of_work(engine) as session:
        approvals.return_decision(
            session, ref_id=ref_id, seq=1, actor=alan, expected_version=version + 1, note="why"
        )
    session = open_session(engine, write=True, lazy=True)
    try:
        result = decisions.decide(
            session,
            ref_id=ref_id,
            seq=1,
            actor=RITA,
            expected_version=version + 2,
            decision=DecisionInput(action="release"),
            context=context(),
        )
        session.commit()
    finally:
        session.close()
    with Session(engine) as fresh:
        portion = fresh.exec(select(Portion).where(col(Portion.id) == result.located.portion.id))
        expected = queries.history(fresh, [portion.one()])[result.located.portion.id or 0]
    assert result.history is not None
    assert [(e.decision.id, e.decision.action) for e in result.history] == [
        (e.decision.id, e.decision.action) for e in expected
    ]
    assert [e.review.outcome if e.review else None for e in result.history] == [
        "returned",
        None,
    ]
    assert [e.review.outcome if e.review else None for e in expected] == ["returned", None]
