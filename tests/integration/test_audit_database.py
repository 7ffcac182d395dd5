"""Database-level guarantees the audit log leans on (T-2.5, T-3.6): PostgreSQL error codes
and role grants, SQLite connection settings."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from audit_helpers import events_since
from sqlalchemy import Engine, insert, text
from sqlalchemy.exc import DBAPIError

from service.audit.models import AuditAction, AuditEvent
from service.audit.service import record
from service.auth.principal import system_principal
from service.db import unit_of_work

ACTOR = system_principal("tester")


def _append(engine: Engine, entity_id: str) -> AuditEvent:
    with unit_of_work(engine) as session:
        return record(
            session,
            actor=ACTOR,
            action=AuditAction.rule_changed,
            entity="rule",
            entity_id=entity_id,
        )


@pytest.fixture
def postgresql(engine: Engine) -> Engine:
    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only")
    return engine


def _sqlstate(engine: Engine, statement: str) -> tuple[str, str]:
    with pytest.raises(DBAPIError) as raised, engine.begin() as connection:
        connection.execute(text(statement))
    orig = raised.value.orig
    return str(getattr(orig, "sqlstate", "")), str(orig)


def test_trigger_refusals_are_insufficient_privilege(postgresql: Engine) -> None:
    _append(postgresql, "r1")
    for statement, operation in (
        ("UPDATE audit_event SET actor = 'x'", "UPDATE"),
        ("DELETE FROM audit_event", "DELETE"),
        ("TRUNCATE audit_event", "TRUNCATE"),
    ):
        code, message = _sqlstate(postgresql, statement)
        assert code == "42501"
        assert f"audit_event is append-only ({operation} rejected)" in message


def test_a_second_event_after_the_same_event_is_a_unique_violation(postgresql: Engine) -> None:
    first = _append(postgresql, "r1")
    fork = {**first.model_dump(), "seq": 2, "hash": "f" * 64}
    with pytest.raises(DBAPIError) as raised, postgresql.begin() as connection:
        connection.execute(insert(AuditEvent), [fork])
    assert getattr(raised.value.orig, "sqlstate", None) == "23505"
    assert "uq_audit_event_prev_hash" in str(raised.value.orig)


@pytest.fixture
def app_role(postgresql: Engine) -> Iterator[str]:
    """A role granted what the service needs on audit_event: SELECT and INSERT only."""
    role = f"declass_app_{uuid.uuid4().hex[:8]}"
    with postgresql.begin() as connection:
        connection.execute(text(f'CREATE ROLE "{role}" NOLOGIN'))
        connection.execute(text(f'GRANT SELECT, INSERT ON audit_event TO "{role}"'))
    yield role
    with postgresql.begin() as connection:
        connection.execute(text(f'REVOKE ALL ON audit_event FROM "{role}"'))
        connection.execute(text(f'DROP ROLE "{role}"'))


def test_an_app_role_may_append_but_not_change_or_remove(postgresql: Engine, app_role: str) -> None:
    with unit_of_work(postgresql) as session:
        session.execute(text(f'SET LOCAL ROLE "{app_role}"'))
        record(session, actor=ACTOR, action=AuditAction.rule_changed, entity="rule", entity_id="r1")
    assert [e.entity_id for e in events_since(postgresql, 0)] == ["r1"]
    for statement in (
        "UPDATE audit_event SET actor = 'x'",
        "DELETE FROM audit_event",
        "TRUNCATE audit_event",
    ):
        with postgresql.begin() as connection:
            connection.execute(text(f'SET LOCAL ROLE "{app_role}"'))
            with pytest.raises(DBAPIError) as raised:
                connection.execute(text(statement))
        assert getattr(raised.value.orig, "sqlstate", None) == "42501"
        assert "permission denied for table audit_event" in str(raised.value.orig)


def _pragma(engine: Engine, name: str) -> object:
    with engine.connect() as connection:
        return connection.exec_driver_sql(f"PRAGMA {name}").scalar()


@pytest.fixture
def sqlite(engine: Engine) -> Engine:
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite only")
    return engine


def test_sqlite_connections_are_set_up_for_concurrent_writers(sqlite: Engine) -> None:
    assert _pragma(sqlite, "journal_mode") == "wal"
    assert int(str(_pragma(sqlite, "busy_timeout"))) >= 5000
    assert _pragma(sqlite, "foreign_keys") == 1


def test_sqlite_commits_are_durable_across_power_loss(sqlite: Engine) -> None:
    assert _pragma(sqlite, "synchronous") == 2
