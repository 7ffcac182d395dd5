"""The deferred append (service/audit/service.py): `record()` queues, the commit appends
every queued event of the transaction at once (one chain lock, one head read, one INSERT);
savepoints that roll back drop their events; the chain is not locked before the commit."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from audit_helpers import events_since, head_seq
from sqlalchemy import Engine, event
from sqlmodel import Session

from service.audit.models import AuditAction, AuditEvent
from service.audit.service import AuditUnavailable, flush_audit, record
from service.audit.verify import verify_chain
from service.auth.models import User
from service.auth.principal import system_principal
from service.db import open_session, unit_of_work

ACTOR = system_principal("tester")


def _record(session: Session, entity_id: str) -> AuditEvent:
    return record(
        session, actor=ACTOR, action=AuditAction.rule_changed, entity="rule", entity_id=entity_id
    )


@contextmanager
def audit_statements(engine: Engine) -> Iterator[list[str]]:
    """The SQL statements touching audit_event (or its lock) sent while the block runs."""
    seen: list[str] = []

    def listener(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if "audit_event" in statement or "pg_advisory_xact_lock" in statement:
            seen.append(" ".join(statement.split())[:40])

    event.listen(engine, "before_cursor_execute", listener)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", listener)


def _verified(engine: Engine) -> tuple[bool, int]:
    with unit_of_work(engine, write=False) as session:
        result = verify_chain(session)
    return result.valid, result.count


def test_events_of_a_transaction_are_appended_at_commit_in_one_go(engine: Engine) -> None:
    with audit_statements(engine) as seen, unit_of_work(engine) as session:
        events = [_record(session, f"r{i}") for i in range(5)]
        assert seen == []  # nothing is written, read or locked before the commit
    lock = ["SELECT pg_advisory_xact_lock(%(key)s)"] if engine.dialect.name == "postgresql" else []
    assert [s.split(" ")[0] for s in seen] == [*["SELECT"] * len(lock), "SELECT", "INSERT"]
    assert seen[: len(lock)] == [s[:40] for s in lock]
    stored = events_since(engine, 0)
    assert [(e.seq, e.entity_id) for e in stored] == [(i + 1, f"r{i}") for i in range(5)]
    assert [(e.seq, e.hash, e.prev_hash, e.at) for e in events] == [
        (e.seq, e.hash, e.prev_hash, e.at) for e in stored
    ]
    assert _verified(engine) == (True, 5)


def test_a_rolled_back_savepoint_drops_its_events_and_keeps_the_others(engine: Engine) -> None:
    def refused_part(session: Session) -> None:
        with session.begin_nested():
            _record(session, "inside-dropped")
            with session.begin_nested():
                _record(session, "nested-dropped")
            raise RuntimeError("refuse this part")

    with unit_of_work(engine) as session:
        _record(session, "before")
        with pytest.raises(RuntimeError):
            refused_part(session)
        with session.begin_nested():
            _record(session, "inside-kept")
        _record(session, "after")
    assert [(e.seq, e.entity_id) for e in events_since(engine, 0)] == [
        (1, "before"),
        (2, "inside-kept"),
        (3, "after"),
    ]
    assert _verified(engine) == (True, 3)


def test_a_rolled_back_transaction_leaves_nothing_queued(engine: Engine) -> None:
    session = open_session(engine, write=True)
    try:
        _record(session, "dropped")
        session.rollback()
        _record(session, "kept")
        session.commit()
    finally:
        session.close()
    assert [(e.seq, e.entity_id) for e in events_since(engine, 0)] == [(1, "kept")]


def test_flush_audit_appends_early_for_a_reader_in_the_same_transaction(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        _record(session, "r1")
        flush_audit(session)
        assert session.get(AuditEvent, 1) is not None
        _record(session, "r2")
    assert [(e.seq, e.entity_id) for e in events_since(engine, 0)] == [(1, "r1"), (2, "r2")]
    assert _verified(engine) == (True, 2)


def test_an_append_failing_at_commit_rolls_back_the_change(engine: Engine) -> None:
    def change_and_record() -> None:
        user = {"username": "ghost", "password_hash": "x", "clearance": "SECRET"}
        with unit_of_work(engine) as session:
            session.add(User.model_validate(user))
            queued = _record(session, "ghost")  # a valid event, spoilt before the commit
            queued.detail = {"bad": object()}

    with pytest.raises(AuditUnavailable):
        change_and_record()
    with Session(engine) as session:
        assert session.get(User, 1) is None
    assert head_seq(engine) == 0


def test_the_chain_is_not_locked_before_the_commit(engine: Engine) -> None:
    """A transaction that recorded an event but has not committed does not hold up another
    writer's append (PostgreSQL; SQLite writers are serialised by BEGIN IMMEDIATE)."""
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite serialises whole writer transactions")
    slow = open_session(engine, write=True)
    try:
        _record(slow, "slow")
        done = threading.Event()

        def other_writer() -> None:
            with unit_of_work(engine) as session:
                _record(session, "fast")
            done.set()

        thread = threading.Thread(target=other_writer)
        thread.start()
        assert done.wait(timeout=10), "the other writer waited for the uncommitted one"
        thread.join()
        slow.commit()
    finally:
        slow.close()
    assert [(e.seq, e.entity_id) for e in events_since(engine, 0)] == [(1, "fast"), (2, "slow")]
    assert _verified(engine) == (True, 2)
