"""Engines and transactions.

One transaction per request or command, and services never commit:
- HTTP: `get_session` opens a session, the route runs, and the session commits before the
  response is sent (a failed commit becomes a problem response, never a 2xx).
- CLI and background jobs: `with unit_of_work(engine) as session:`.

SQLite runs in WAL mode with a busy timeout; a transaction that will write starts with
`BEGIN IMMEDIATE`, so two writers queue on the lock instead of failing when one upgrades a
read snapshot (SQLITE_BUSY_SNAPSHOT). A PostgreSQL connection idle for more than
`PING_AFTER_IDLE_SECONDS` is checked before use (a pre-ping), so a database restart costs
one reconnect, not an error; one used within that time is not (a round trip saved on
every request under load).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.orm import SessionTransaction
from sqlalchemy.pool import ConnectionPoolEntry
from sqlmodel import Session

from service.settings import Settings

WRITE_OPTION = "declass_write"
PG_CONNECT_TIMEOUT = 10
"""Seconds a new PostgreSQL connection may take to open (libpq `connect_timeout`)."""
PING_AFTER_IDLE_SECONDS = 0.1
"""A pooled PostgreSQL connection idle for longer is pinged before it is handed out. A
restart takes longer than that (stop, crash recovery, start: 0.42 s for an empty cluster
here, `pg_ctl restart -m immediate`), so a connection used within the last 0.1 s was alive
after any restart that could have killed it; a backend killed alone within 0.1 s of its last
use fails its request as 503 (database unavailable) and the pool replaces it. Under load the
pool (last in, first out) hands out connections used moments ago: no ping."""
_LAST_USED = "declass_last_used"


def _configure_sqlite(engine: Engine, busy_timeout_ms: int) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        # Let SQLAlchemy, not pysqlite, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        # A record store: a committed change must survive power loss, not only a crash.
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        immediate = connection.get_execution_options().get(WRITE_OPTION, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def make_engine(settings: Settings) -> Engine:
    """Create the engine for `settings.database_url` with the per-backend setup above."""
    # SQL parameters never reach an exception message or a log line: they can be portion
    # text, password hashes or secrets.
    if settings.is_sqlite:
        path = settings.sqlite_path
        in_memory = path is None or str(path) == ":memory:"
        if path is not None and not in_memory:
            path.parent.mkdir(parents=True, exist_ok=True)
        pool: dict[str, Any] = (
            {}
            if in_memory
            else {"pool_size": settings.db_pool_size, "max_overflow": settings.db_pool_size}
        )
        engine = create_engine(
            settings.database_url,
            connect_args={
                "check_same_thread": False,
                "timeout": settings.sqlite_busy_timeout_ms / 1000,
            },
            hide_parameters=True,
            **pool,
        )
        _configure_sqlite(engine, settings.sqlite_busy_timeout_ms)
        _writer_lock(engine, settings.sqlite_busy_timeout_ms / 1000)
        return engine
    # A server that accepts connections but never answers (or a lost host) would hold a
    # request until the client gives up: opening a connection fails after this instead,
    # which is a 503. A connect_timeout in DATABASE_URL wins.
    url = make_url(settings.database_url)
    timeout = {} if "connect_timeout" in url.query else {"connect_timeout": PG_CONNECT_TIMEOUT}
    engine = create_engine(
        url,
        connect_args=timeout,
        hide_parameters=True,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_pool_size,
        pool_use_lifo=True,
    )
    _ping_when_idle(engine, PING_AFTER_IDLE_SECONDS)
    return engine


def _ping_when_idle(engine: Engine, idle_seconds: float) -> None:
    """SQLAlchemy's `pool_pre_ping`, for connections idle longer than `idle_seconds` only."""

    @event.listens_for(engine, "connect")
    @event.listens_for(engine, "checkin")
    def _used(_dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        record.info[_LAST_USED] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _check(dbapi_connection: Any, record: ConnectionPoolEntry, _proxy: Any) -> None:
        if time.monotonic() - record.info.get(_LAST_USED, 0.0) <= idle_seconds:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as error:
            # The pool discards this connection and checks out another (a new one if
            # need be), as its own pre-ping does.
            raise DisconnectionError(f"pre-ping failed: {type(error).__name__}") from error


_writer_locks: WeakKeyDictionary[Engine, tuple[threading.Lock, float]] = WeakKeyDictionary()
_writer_locks_guard = threading.Lock()
DEFAULT_WRITER_WAIT_SECONDS = 10.0
# session.info: the engine whose writer lock the session's transactions take, and the lock
# while a transaction holds it.
WRITER_ENGINE = "declass_writer_engine"
READ_PHASE = "declass_read_phase"
READ_ONLY = "declass_read_only"  # session.info: opened with write=False
FINISHED = "declass_finished"  # session.info: `finish(session)` ran; no transaction may begin


class SessionFinished(RuntimeError):
    """A statement on a session after `finish(session)` (a bug: see `finish`)."""


def _writer_lock(
    engine: Engine, wait_seconds: float = DEFAULT_WRITER_WAIT_SECONDS
) -> tuple[threading.Lock, float]:
    """The in-process writer lock of a SQLite engine, and how long a writer may wait for it."""
    with _writer_locks_guard:
        entry = _writer_locks.get(engine)
        if entry is None:
            entry = _writer_locks[engine] = (threading.Lock(), wait_seconds)
        return entry


@event.listens_for(Session, "after_transaction_create")
def _begin_root_transaction(session: Session, transaction: SessionTransaction) -> None:
    # A root transaction is created when the session is first used (or again after a
    # commit or rollback), before it asks the pool for a connection and SQLite for its lock:
    # refused after `finish(session)`; a SQLite writer takes the in-process writer lock.
    if transaction.parent is not None or transaction.nested:
        return
    if session.info.get(FINISHED):
        raise SessionFinished(
            "this session's work ended with finish(): nothing may run on it afterwards "
            "(load what the response needs before the route returns)"
        )
    engine = session.info.get(WRITER_ENGINE)
    if engine is None:
        return
    if session.info.get(READ_PHASE):
        return
    lock, wait_seconds = _writer_lock(engine)
    if not lock.acquire(timeout=wait_seconds):
        raise PoolTimeoutError("timed out waiting for the SQLite writer lock")
    session.info[WRITE_OPTION] = lock


@event.listens_for(Session, "after_transaction_end")
def _release_writer_lock(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None and not transaction.nested:
        lock = session.info.pop(WRITE_OPTION, None)
        if lock is not None:
            lock.release()


def open_session(engine: Engine, *, write: bool, lazy: bool = False) -> Session:
    """A session whose transactions begin as writers (`BEGIN IMMEDIATE` on SQLite) when
    `write`, else as plain (deferred) transactions.

    A writer session begins its first transaction now, or with `lazy` at its first
    statement (so a request holds the write lock from its first query, not while it is
    authenticated and validated); every later transaction of the session is a writer too.
    On SQLite, writers of one process also queue on an in-process lock before they ask
    SQLite for its write lock: SQLite's own busy handler polls with sleeps, so under load a
    waiting writer can lose every race and starve past the busy timeout, while threads
    blocked on a lock are woken as soon as it is free. The lock is taken when a transaction
    begins and released when it ends (commit, rollback or close).
    """
    if not (write and engine.dialect.name == "sqlite"):
        session = Session(engine, expire_on_commit=False)
        session.info[READ_ONLY] = not write
    else:
        session = Session(_writer_bind(engine), expire_on_commit=False)
        session.info[WRITER_ENGINE] = engine
    if WRITER_ENGINE in session.info and not lazy:
        try:
            session.connection()
        except BaseException:
            session.close()
            raise
    return session


def _writer_bind(engine: Engine) -> Engine:
    # The option makes the engine's "begin" hook emit BEGIN IMMEDIATE.
    return engine.execution_options(**{WRITE_OPTION: True})


def finish(session: Session) -> None:
    """Commit the session's transaction, if one is open, and refuse any later one
    (`SessionFinished`): for a request's session when its route returns
    (`service.routes`). A statement after that, such as an attribute loaded while the
    response is validated in another thread, would begin a transaction there (on SQLite,
    waiting for the writer lock while holding a worker thread) after the request's
    outcome was committed; it fails instead, loudly, in the tests that reach it."""
    if session.in_transaction():
        session.commit()
    session.info[FINISHED] = True


def autocommit_reads(session: Session) -> None:
    """On PostgreSQL, let a read session that has not begun run each statement on its own
    (autocommit): no BEGIN and COMMIT round trips. Only for reads that do not need one
    snapshot across statements (each statement still sees a consistent snapshot of its
    own). No effect on a writer session, one that has begun, or SQLite (where BEGIN and
    COMMIT cost no round trip, and resetting a connection's isolation would cost more)."""
    if session.in_transaction() or not session.info.get(READ_ONLY):
        return
    if session.get_bind().dialect.name != "postgresql":
        return
    session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})


def read_phase(session: Session) -> None:
    """Let a lazy SQLite writer session (a request's) read before it writes: when it has
    not begun yet, its next transaction is a plain (deferred) read transaction, without
    the write lock, until `write_phase(session)`.

    No effect on a session that has begun already or that is not a SQLite writer (on
    PostgreSQL a writer takes no lock at BEGIN). What was read must be re-checked by the
    writes, as a compare-and-set does (`UPDATE ... WHERE version = :read_version`): other
    writers may commit between the two phases."""
    engine = session.info.get(WRITER_ENGINE)
    if engine is None or session.in_transaction():
        return
    session.info[READ_PHASE] = True
    session.bind = engine


def write_phase(session: Session) -> None:
    """End the read phase begun by `read_phase(session)`, if any: the read transaction
    commits (loaded rows stay, `expire_on_commit=False`) and the session's next statement
    begins its writer transaction (`BEGIN IMMEDIATE` and the in-process writer lock)."""
    if not session.info.pop(READ_PHASE, False):
        return
    session.commit()
    session.bind = _writer_bind(session.info[WRITER_ENGINE])


@contextmanager
def unit_of_work(engine: Engine, *, write: bool = True) -> Iterator[Session]:
    """One transaction: commit when the block ends normally, roll back on any exception."""
    session = open_session(engine, write=write)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def sqlite_file(engine: Engine) -> Path | None:
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database:
        return None
    return Path(database)
