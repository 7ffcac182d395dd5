"""`db.autocommit_reads`: a read session on PostgreSQL runs its statements without BEGIN and
COMMIT round trips (the portion read does); on SQLite, or once a transaction has begun,
nothing changes."""

from __future__ import annotations

from sqlalchemy import Engine, text

from service.db import autocommit_reads, open_session


def _driver_autocommit(engine: Engine, *, begin_first: bool) -> bool:
    session = open_session(engine, write=False)
    try:
        if begin_first:
            session.execute(text("SELECT 1"))
        autocommit_reads(session)
        assert session.execute(text("SELECT 2")).scalar_one() == 2
        dbapi = session.connection().connection.dbapi_connection
        autocommit = bool(getattr(dbapi, "autocommit", False))
        session.commit()
        return autocommit
    finally:
        session.close()


def test_only_a_fresh_postgresql_read_session_autocommits(engine: Engine) -> None:
    fresh = _driver_autocommit(engine, begin_first=False)
    begun = _driver_autocommit(engine, begin_first=True)
    if engine.dialect.name == "postgresql":
        assert (fresh, begun) == (True, False)
    else:
        assert (fresh, begun) == (False, False)


def test_the_pooled_connection_is_handed_back_transactional(engine: Engine) -> None:
    _driver_autocommit(engine, begin_first=False)
    with engine.connect() as connection:
        # The next user of the pooled connection gets a normal transaction again.
        assert connection.get_isolation_level() != "AUTOCOMMIT"
        connection.execute(text("SELECT 1"))
        assert connection.in_transaction()
