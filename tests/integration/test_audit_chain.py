"""The audit chain on a real database (SQLite or PostgreSQL, per DECLASS_TEST_DATABASE):
appends, serialisation under concurrent writers, fail-closed writes, and the database's
refusal to change or remove events."""

from __future__ import annotations

import itertools
import threading
from datetime import UTC, date, datetime

import pytest
from audit_helpers import events_since, head_seq, one_event
from sqlalchemy import Engine, insert, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlmodel import Session

from service.audit import service as audit_service
from service.audit.chain import event_hash
from service.audit.models import GENESIS_HASH, AuditAction, AuditEvent
from service.audit.service import AuditUnavailable, record
from service.audit.verify import verify_chain
from service.auth.models import User
from service.auth.principal import system_principal
from service.db import open_session, unit_of_work
from service.request_context import request_id_var

ACTOR = system_principal("tester")


def _record(session: Session, entity_id: str, **detail: object) -> AuditEvent:
    return record(
        session,
        actor=ACTOR,
        action=AuditAction.rule_changed,
        entity="rule",
        entity_id=entity_id,
        detail=detail,
    )


def _verify(engine: Engine) -> tuple[bool, int, int | None]:
    with unit_of_work(engine, write=False) as session:
        result = verify_chain(session)
    return result.valid, result.count, result.first_bad_seq


def test_first_events_chain_from_genesis(engine: Engine) -> None:
    token = request_id_var.set("req-123")
    try:
        with unit_of_work(engine) as session:
            first = _record(session, "r1", old=None, new={"queue": "east-asia"})
            second = _record(session, "r2", on=date(2032, 12, 20))
    finally:
        request_id_var.reset(token)

    events = events_since(engine, 0)
    assert [e.seq for e in events] == [1, 2]
    assert events[0].prev_hash == GENESIS_HASH
    assert events[1].prev_hash == events[0].hash
    assert events[0].hash == first.hash
    assert events[1].hash == second.hash
    assert events[0].actor == "tester"
    assert events[0].actor_sub == "system:tester"
    assert events[0].action == "rule.changed"
    assert events[0].request_id == "req-123"
    assert events[0].detail == {"old": None, "new": {"queue": "east-asia"}}
    assert events[1].detail == {"on": "2032-12-20"}
    assert events[1].at >= events[0].at
    assert events[0].at.tzinfo is not None
    for event in events:
        assert event_hash(event.model_dump()) == event.hash
    assert _verify(engine) == (True, 2, None)


def test_empty_log_verifies(engine: Engine) -> None:
    with unit_of_work(engine, write=False) as session:
        result = verify_chain(session)
    assert (result.valid, result.count, result.head) == (True, 0, GENESIS_HASH)


def test_integral_floats_are_stored_as_integers_so_hashes_survive_the_database(
    engine: Engine,
) -> None:
    with unit_of_work(engine) as session:
        _record(session, "r1", big=1e16, one=1.0, half=0.5, zero=-0.0)
    (event,) = events_since(engine, 0)
    assert event.detail == {"big": 10**16, "one": 1, "half": 0.5, "zero": 0}
    assert _verify(engine) == (True, 1, None)


def test_a_detail_that_is_not_json_is_refused_and_nothing_is_written(engine: Engine) -> None:
    with pytest.raises(AuditUnavailable), unit_of_work(engine) as session:
        _record(session, "r1", bad=float("nan"))
    with pytest.raises(AuditUnavailable), unit_of_work(engine) as session:
        _record(session, "r1", bad=object())
    assert head_seq(engine) == 0


def test_events_since_and_one_event_helpers(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        _record(session, "r1")
    before = head_seq(engine)
    with unit_of_work(engine) as session:
        _record(session, "r2")
    event = one_event(engine, before, AuditAction.rule_changed)
    assert (event.seq, event.entity_id) == (2, "r2")
    with pytest.raises(AssertionError):
        one_event(engine, 0, AuditAction.rule_changed)


def test_concurrent_writers_leave_a_gapless_unforked_chain(engine: Engine) -> None:
    threads, per_thread = 8, 50
    errors: list[BaseException] = []
    start = threading.Barrier(threads)

    def writer(worker: int) -> None:
        try:
            start.wait()
            for i in range(per_thread):
                with unit_of_work(engine) as session:
                    _record(session, f"w{worker}-{i}", worker=worker, i=i)
        except BaseException as error:  # reported below, with the assertion
            errors.append(error)

    workers = [threading.Thread(target=writer, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    assert errors == []
    events = events_since(engine, 0)
    assert len(events) == threads * per_thread
    assert [e.seq for e in events] == list(range(1, 401))
    assert len({e.prev_hash for e in events}) == 400
    assert all(e.prev_hash == p.hash for p, e in itertools.pairwise(events))
    assert {e.entity_id for e in events} == {
        f"w{w}-{i}" for w in range(threads) for i in range(per_thread)
    }
    assert _verify(engine) == (True, 400, None)


def test_a_failed_audit_write_rolls_back_the_change(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken_hash(_fields: object) -> str:
        raise RuntimeError("hash unavailable")

    monkeypatch.setattr(audit_service, "event_hash", broken_hash)

    def change_and_record() -> None:
        with unit_of_work(engine) as session:
            user = {"username": "ghost", "password_hash": "x", "clearance": "SECRET"}
            session.add(User.model_validate(user))
            _record(session, "ghost")

    with pytest.raises(AuditUnavailable) as raised:
        change_and_record()
    assert raised.value.status == 503
    assert "rolled back" in raised.value.detail
    assert isinstance(raised.value.__cause__, RuntimeError)
    with Session(engine) as session:
        assert session.execute(text('SELECT count(*) FROM "user"')).scalar_one() == 0
    assert head_seq(engine) == 0


def test_a_conflicting_prev_hash_fails_the_write(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    with unit_of_work(engine) as session:
        _record(session, "r1")
    # Pretend the head was not read: the next append reuses the genesis hash as prev_hash.
    monkeypatch.setattr(audit_service, "_head", lambda _session: (5, GENESIS_HASH, None))
    with pytest.raises(AuditUnavailable) as raised, unit_of_work(engine) as session:
        _record(session, "r2")
    assert isinstance(raised.value.__cause__, IntegrityError)
    assert [e.seq for e in events_since(engine, 0)] == [1]


def test_a_fork_is_impossible_at_the_schema_level(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        first = _record(session, "r1")
    fork = {**first.model_dump(), "seq": 2, "hash": "f" * 64, "prev_hash": first.prev_hash}
    with pytest.raises(IntegrityError), engine.begin() as connection:
        connection.execute(insert(AuditEvent), [fork])


def test_a_read_session_may_not_append_on_sqlite(engine: Engine) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL serialises appends with the advisory lock in any session")
    session = open_session(engine, write=False)
    try:
        with pytest.raises(AuditUnavailable) as raised:
            _record(session, "r1")
        assert "writer session" in str(raised.value.__cause__)
    finally:
        session.rollback()
        session.close()
    assert head_seq(engine) == 0


def _refusal(engine: Engine, statement: str) -> str:
    with pytest.raises(DBAPIError) as raised, engine.begin() as connection:
        connection.execute(text(statement))
    return str(raised.value.orig)


def test_update_and_delete_are_refused_by_the_database(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        _record(session, "r1")
        _record(session, "r2")
    update = _refusal(engine, "UPDATE audit_event SET detail = '{}' WHERE seq = 1")
    delete = _refusal(engine, "DELETE FROM audit_event WHERE seq = 2")
    assert "audit_event is append-only (UPDATE rejected)" in update
    assert "audit_event is append-only (DELETE rejected)" in delete
    if engine.dialect.name == "postgresql":
        truncate = _refusal(engine, "TRUNCATE audit_event")
        assert "audit_event is append-only (TRUNCATE rejected)" in truncate
    assert [e.seq for e in events_since(engine, 0)] == [1, 2]
    assert _verify(engine) == (True, 2, None)


def test_orm_changes_to_a_recorded_event_are_refused(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        _record(session, "r1")

    def load_then_edit() -> None:
        with unit_of_work(engine) as session:
            event = session.get(AuditEvent, 1)
            assert event is not None
            event.detail = {"forged": True}
            session.add(event)
            session.flush()

    with pytest.raises(DBAPIError):
        load_then_edit()
    assert [e.detail for e in events_since(engine, 0)] == [{}]
    assert _verify(engine) == (True, 1, None)


def test_time_never_goes_backwards_along_seq(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    with unit_of_work(engine) as session:
        first = _record(session, "r1")
    monkeypatch.setattr(audit_service, "utcnow", lambda: datetime(2001, 1, 1, tzinfo=UTC))
    with unit_of_work(engine) as session:
        second = _record(session, "r2")
    assert second.at == first.at
    assert _verify(engine) == (True, 2, None)
