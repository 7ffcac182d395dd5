"""`db.autocommit_reads`: a PostgreSQL read session runs its statements without BEGIN and
COMMIT round trips (the portion read does this); a writer session, one that has begun, or a
SQLite session is left as it is."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, text

from service.db import autocommit_reads, open_session


def _in_driver_transaction(dbapi: Any) -> bool:
    if hasattr(dbapi, "in_transaction"):  # sqlite3
        return bool(dbapi.in_transaction)
    return dbapi.info.transaction_status.name != "IDLE"  # psycopg


def _runs_in_a_transaction(engine: Engine, *, write: bool, begin_first: bool) -> bool:
    session = open_session(engine, write=write)
    try:
        if begin_first:
            session.execute(text("SELECT 1"))
        autocommit_reads(session)
        assert session.execute(text("SELECT 2")).scalar_one() == 2
        inside = _in_driver_transaction(session.connection().connection.dbapi_connection)
        session.commit()
        return inside
    finally:
        session.close()


def test_only_a_fresh_read_session_runs_without_a_transaction(engine: Engine) -> None:
    fresh = _runs_in_a_transaction(engine, write=False, begin_first=False)
    assert fresh is (engine.dialect.name == "sqlite")
    assert _runs_in_a_transaction(engine, write=False, begin_first=True) is True
    assert _runs_in_a_transaction(engine, write=True, begin_first=False) is True


def test_the_pooled_connection_is_handed_back_transactional(engine: Engine) -> None:
    _runs_in_a_transaction(engine, write=False, begin_first=False)
    with engine.connect() as connection:
        # The next user of the pooled connection gets a normal transaction again.
        assert connection.get_isolation_level() != "AUTOCOMMIT"
        connection.execute(text("SELECT 1"))
        assert _in_driver_transaction(connection.connection.dbapi_connection)
