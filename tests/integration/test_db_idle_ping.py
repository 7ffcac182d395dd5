"""PostgreSQL connections are pinged before use only after being idle (service/db.py,
`PING_AFTER_IDLE_SECONDS`): a connection killed while idle is replaced, not handed out;
one used moments ago is handed out without the extra round trip."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool

from service import db
from service.settings import Settings


def _engine(settings: Settings, idle_seconds: float, monkeypatch: pytest.MonkeyPatch) -> Engine:
    if not settings.database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL only")
    monkeypatch.setattr(db, "PING_AFTER_IDLE_SECONDS", idle_seconds)
    return db.make_engine(settings)


def _backend_pid(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text("SELECT pg_backend_pid()")).scalar_one())


def _terminate(engine: Engine, pid: int) -> None:
    # From another engine: the pool's own connection stays checked in, idle.
    other = create_engine(engine.url, poolclass=NullPool)
    try:
        with other.connect() as connection:
            terminated = connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            assert terminated.scalar() is True
    finally:
        other.dispose()
    time.sleep(0.1)  # the server closes the socket


@pytest.fixture
def pinging(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    engine = _engine(settings, 0.2, monkeypatch)
    yield engine
    engine.dispose()


def test_a_connection_killed_while_idle_is_replaced(pinging: Engine) -> None:
    dead = _backend_pid(pinging)
    _terminate(pinging, dead)
    time.sleep(0.3)  # idle past the threshold
    # The pool hands out a working connection: the ping found the dead one.
    live = _backend_pid(pinging)
    assert live != dead


def test_a_recently_used_connection_is_not_pinged(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = _engine(settings, 3600.0, monkeypatch)
    try:
        dead = _backend_pid(engine)
        _terminate(engine, dead)
        # Used within the threshold: handed out unchecked, so its first query fails (as a
        # request it would be a 503) and the pool then replaces it.
        with pytest.raises(OperationalError), engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        assert _backend_pid(engine) != dead
    finally:
        engine.dispose()
