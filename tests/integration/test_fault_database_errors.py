"""Database faults reach the client as 503 problem+json with `Retry-After` and a title that
names the fault, never as a 500 and never with SQL, parameters or the driver's message.

Each fault is real, made on the test's own database (no mocked database):
- SQLite busy: another connection holds the write lock (`BEGIN IMMEDIATE`) past the busy
  timeout -> SQLITE_BUSY "database is locked";
- SQLite full: every connection of the app gets `PRAGMA max_page_count` = its current size,
  so the file cannot grow -> SQLITE_FULL "database or disk is full" (what a full disk gives);
- SQLite file replaced by garbage (SQLITE_NOTADB) -> unavailable, `/readyz` 503 too;
- SQLite read-only: the app opens the file with `mode=ro` (an O_RDONLY handle, what SQLite
  does when the file is not writable; tests run as root, so chmod would not stop a write);
- PostgreSQL read-only: `default_transaction_read_only` on the database -> SQLSTATE 25006;
- PostgreSQL busy: another session holds `LOCK TABLE ... ACCESS EXCLUSIVE` and the
  database's `lock_timeout` is 200 ms -> SQLSTATE 55P03.
A PostgreSQL disk-full (53100) cannot be made without filling a disk: the classifier is
checked on the driver's real exception classes instead.
After each fault is lifted, the next write succeeds on the same app (no restart).
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Any

import psycopg
import pytest
from audit_helpers import SEED_CABLE
from factories import auth_headers, create_user
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, event, func, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlmodel import Session

from service.auth.models import Role
from service.cables.models import Cable
from service.errors import (
    DATABASE_BUSY,
    DATABASE_FULL,
    DATABASE_READ_ONLY,
    DATABASE_UNAVAILABLE,
    DatabaseFault,
    classify_database_error,
)
from service.main import create_app
from service.markings import Level
from service.settings import Settings

BACKEND = os.environ.get("DECLASS_TEST_DATABASE", "sqlite")
SEED = SEED_CABLE.read_text(encoding="utf-8")
sqlite_only = pytest.mark.skipif(BACKEND != "sqlite", reason="a SQLite fault (SQLite run)")
postgresql_only = pytest.mark.skipif(
    BACKEND != "postgresql", reason="a PostgreSQL fault (PostgreSQL run)"
)


def cable_text(ref_id: str) -> bytes:
    """The demo cable under another reference id (the first line names it)."""
    return SEED.replace("07TOKYO5624", ref_id, 1).encode()


def quiet_settings(settings: Settings, **changes: Any) -> Settings:
    """No background workers: only the requests below touch the database."""
    return settings.model_copy(
        update={"import_worker_enabled": False, "webhook_worker_enabled": False, **changes}
    )


def ingest(client: TestClient, headers: dict[str, str], ref_id: str) -> Any:
    return client.post(
        "/api/v1/cables",
        content=cable_text(ref_id),
        headers={**headers, "Content-Type": "text/plain"},
    )


def assert_fault(response: Any, fault: DatabaseFault) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["retry-after"] == str(fault.retry_after_seconds)
    assert response.json() == {
        "type": f"https://declass.dev/problems/{fault.slug}",
        "title": fault.title,
        "status": 503,
        "detail": fault.detail,
    }
    lowered = response.text.lower()
    for leak in ("insert", "select", "sqlite", "psycopg", "cable", "07tokyo"):
        assert leak not in lowered


def cable_count(engine: Engine) -> int:
    with Session(engine) as session:
        return int(session.execute(select(func.count()).select_from(Cable)).scalar_one())


@pytest.fixture
def supervisor(engine: Engine) -> tuple[str, str]:
    _user, password = create_user(
        engine, username="ingester", roles=[Role.supervisor], clearance=Level.TOP_SECRET
    )
    return "ingester", password


def on_connect(app: FastAPI, pragma: str) -> Any:
    """Run `pragma` on every new connection of the app's engine, from now on."""
    engine: Engine = app.state.engine

    def listener(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute(pragma)

    event.listen(engine, "connect", listener)
    engine.dispose()  # pooled connections were made without it
    return listener


@sqlite_only
def test_sqlite_full_disk_is_503_then_writes_resume(
    settings: Settings, engine: Engine, supervisor: tuple[str, str]
) -> None:
    app = create_app(quiet_settings(settings))
    with TestClient(app) as client:
        headers = auth_headers(client, *supervisor)
        with engine.connect() as connection:
            pages = connection.exec_driver_sql("PRAGMA page_count").scalar_one()
        listener = on_connect(app, f"PRAGMA max_page_count={pages}")

        assert_fault(ingest(client, headers, "07TOKYO5624"), DATABASE_FULL)
        assert client.get("/api/v1/cables", headers=headers).status_code == 200  # reads work
        assert cable_count(engine) == 0

        event.remove(app.state.engine, "connect", listener)
        app.state.engine.dispose()
        assert ingest(client, headers, "07TOKYO5624").status_code == 201
    assert cable_count(engine) == 1


@sqlite_only
def test_sqlite_read_only_file_is_503_and_reads_still_work(
    settings: Settings, engine: Engine, supervisor: tuple[str, str]
) -> None:
    path = settings.sqlite_path
    assert path is not None
    app = create_app(quiet_settings(settings))
    with TestClient(app) as client:
        headers = auth_headers(client, *supervisor)
        assert ingest(client, headers, "07TOKYO5624").status_code == 201

        def read_only(
            _dialect: Any, _record: Any, cargs: list[Any], cparams: dict[str, Any]
        ) -> None:
            cargs[:] = [f"file:{path}?mode=ro"]
            cparams["uri"] = True

        event.listen(app.state.engine, "do_connect", read_only)
        app.state.engine.dispose()
        assert_fault(ingest(client, headers, "07TOKYO5625"), DATABASE_READ_ONLY)
        cable = client.get("/api/v1/cables/07TOKYO5624", headers=headers)
        assert (cable.status_code, cable.json()["ref_id"]) == (200, "07TOKYO5624")
        assert client.get("/readyz").status_code == 200  # readable: ready for reads

        event.remove(app.state.engine, "do_connect", read_only)
        app.state.engine.dispose()
        assert ingest(client, headers, "07TOKYO5625").status_code == 201
    assert cable_count(engine) == 2


@sqlite_only
def test_sqlite_write_lock_held_elsewhere_is_503_busy(
    settings: Settings, engine: Engine, supervisor: tuple[str, str]
) -> None:
    path = settings.sqlite_path
    app = create_app(quiet_settings(settings, sqlite_busy_timeout_ms=200))
    with TestClient(app) as client:
        headers = auth_headers(client, *supervisor)
        other = sqlite3.connect(str(path), isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")  # another process's writer, holding the lock
            assert_fault(ingest(client, headers, "07TOKYO5624"), DATABASE_BUSY)
        finally:
            other.rollback()
            other.close()
        assert ingest(client, headers, "07TOKYO5624").status_code == 201


@sqlite_only
def test_sqlite_file_replaced_by_garbage_is_503_unavailable(
    settings: Settings, supervisor: tuple[str, str], tmp_path: Path
) -> None:
    path = settings.sqlite_path
    assert path is not None
    app = create_app(quiet_settings(settings))
    with TestClient(app) as client:
        headers = auth_headers(client, *supervisor)
        app.state.engine.dispose()
        saved = tmp_path / "saved.db"
        path.rename(saved)
        path.write_bytes(b"not a database " * 512)  # SQLITE_NOTADB on the next connection
        ready = client.get("/readyz")
        assert (ready.status_code, ready.headers["retry-after"]) == (503, "5")
        assert_fault(ingest(client, headers, "07TOKYO5624"), DATABASE_UNAVAILABLE)
        assert_fault(client.get("/api/v1/cables", headers=headers), DATABASE_UNAVAILABLE)

        app.state.engine.dispose()
        saved.replace(path)
        assert client.get("/readyz").status_code == 200
        assert ingest(client, headers, "07TOKYO5624").status_code == 201


def _pg_admin_url(db_url: str) -> str:
    return db_url.rsplit("/", 1)[0] + "/postgres"


@postgresql_only
def test_postgresql_read_only_database_is_503_then_writes_resume(
    settings: Settings, engine: Engine, db_url: str, supervisor: tuple[str, str]
) -> None:
    name = db_url.rsplit("/", 1)[1]
    admin = create_engine(_pg_admin_url(db_url), isolation_level="AUTOCOMMIT")
    app = create_app(quiet_settings(settings))
    try:
        with TestClient(app) as client:
            headers = auth_headers(client, *supervisor)
            with admin.connect() as connection:
                connection.execute(
                    text(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on')
                )
            app.state.engine.dispose()  # new sessions pick up the database default
            assert_fault(ingest(client, headers, "07TOKYO5624"), DATABASE_READ_ONLY)
            assert client.get("/api/v1/cables", headers=headers).status_code == 200

            with admin.connect() as connection:
                connection.execute(text(f'ALTER DATABASE "{name}" RESET ALL'))
            app.state.engine.dispose()
            assert ingest(client, headers, "07TOKYO5624").status_code == 201
    finally:
        admin.dispose()
    assert cable_count(engine) == 1


@postgresql_only
def test_postgresql_lock_timeout_is_503_busy(
    settings: Settings, engine: Engine, db_url: str, supervisor: tuple[str, str]
) -> None:
    name = db_url.rsplit("/", 1)[1]
    admin = create_engine(_pg_admin_url(db_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"ALTER DATABASE \"{name}\" SET lock_timeout = '200ms'"))
    admin.dispose()
    app = create_app(quiet_settings(settings))
    with TestClient(app) as client:
        headers = auth_headers(client, *supervisor)
        with engine.connect() as holder:
            holder.execute(text("LOCK TABLE cable IN ACCESS EXCLUSIVE MODE"))
            assert_fault(ingest(client, headers, "07TOKYO5624"), DATABASE_BUSY)
            holder.rollback()
        assert ingest(client, headers, "07TOKYO5624").status_code == 201


def _wrapped(orig: Exception, cls: type[Exception] = OperationalError) -> Exception:
    return cls("INSERT INTO cable (raw_text) VALUES (?)", {"raw_text": "SECRET"}, orig)  # type: ignore[call-arg]


def _sqlite_error(code: int) -> sqlite3.Error:
    error = sqlite3.OperationalError("driver message")
    error.sqlite_errorcode = code  # type: ignore[attr-defined]
    return error


@pytest.mark.parametrize(
    ("orig", "expected"),
    [
        (psycopg.errors.DiskFull("no space left on device"), DATABASE_FULL),
        (psycopg.errors.ReadOnlySqlTransaction("read-only"), DATABASE_READ_ONLY),
        (psycopg.errors.LockNotAvailable("lock timeout"), DATABASE_BUSY),
        (psycopg.errors.DeadlockDetected("deadlock"), DATABASE_BUSY),
        (psycopg.errors.SerializationFailure("serialize"), DATABASE_BUSY),
        (psycopg.errors.QueryCanceled("statement timeout"), DATABASE_BUSY),
        (psycopg.errors.AdminShutdown("terminating"), DATABASE_UNAVAILABLE),
        (psycopg.errors.TooManyConnections("too many"), DATABASE_UNAVAILABLE),
        (psycopg.OperationalError("connection refused"), DATABASE_UNAVAILABLE),
        (_sqlite_error(5), DATABASE_BUSY),
        (_sqlite_error(13), DATABASE_FULL),
        (_sqlite_error(8 | (1 << 8)), DATABASE_READ_ONLY),  # SQLITE_READONLY_RECOVERY
        (_sqlite_error(14), DATABASE_UNAVAILABLE),
    ],
)
def test_driver_errors_are_classified(orig: Exception, expected: DatabaseFault) -> None:
    assert classify_database_error(_wrapped(orig)) == expected


def test_non_faults_stay_unclassified_and_pool_timeouts_are_busy() -> None:
    from sqlalchemy.exc import ProgrammingError

    assert classify_database_error(_wrapped(Exception("bug"), ProgrammingError)) is None
    assert classify_database_error(ValueError("not a database error")) is None
    assert classify_database_error(PoolTimeoutError("writer lock")) == DATABASE_BUSY
