"""Test harness: every test that touches a database gets a fresh one made by Alembic.

The backend is chosen by `DECLASS_TEST_DATABASE` (`sqlite`, the default, or `postgresql`);
`make test` runs the suite once per backend. The schema is migrated once per session into a
template (a SQLite file, or a PostgreSQL template database) and each test gets a copy, so
tests are isolated even when they use many connections and threads.
"""

from __future__ import annotations

import itertools
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from sqlalchemy import Engine, create_engine, text

from service import migrations
from service.db import make_engine
from service.settings import Settings, load_settings

BACKEND = os.environ.get("DECLASS_TEST_DATABASE", "sqlite")
PG_ADMIN_URL = os.environ.get(
    "DECLASS_TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
).replace("postgresql://", "postgresql+psycopg://", 1)
TEST_JWT_SECRET = "test-secret-0123456789abcdef0123456789abcdef"  # 44 bytes, tests only
SHARED = Path(__file__).resolve().parents[1].parent / "shared"
_counter = itertools.count()

# Property tests (tests/unit/test_*_properties.py) run the same examples on every run and
# machine: derandomized, a bounded example count (a test may ask for fewer or more), no
# deadline on a loaded 2-core machine, no example database. HYPOTHESIS_PROFILE=dev explores
# with fresh random examples, 1,000 per test.
hypothesis_settings.register_profile(
    "ci",
    derandomize=True,
    max_examples=100,
    deadline=None,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
hypothesis_settings.register_profile(
    "dev", max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(autouse=True)
def cheap_password_hashing(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests create and log in many accounts, so they hash with argon2id at its smallest
    cost; tests marked `production_hashing` (tests/unit/test_security.py) keep the real
    parameters and check them."""
    if request.node.get_closest_marker("production_hashing"):
        return
    from pwdlib import PasswordHash
    from pwdlib.hashers.argon2 import Argon2Hasher

    from service.auth import passwords

    cheap = PasswordHash((Argon2Hasher(time_cost=1, memory_cost=1024, parallelism=1),))
    monkeypatch.setattr(passwords, "_HASHER", cheap)


def shared_path(*parts: str) -> Path:
    """A path in ../shared/, or skip the test when the shared material is absent."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} not found: the shared corpus is not beside this clone")
    return path


def _pg_admin() -> Engine:
    return create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")


def _pg_url(name: str) -> str:
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name


def _settings(url: str) -> Settings:
    # Tests that sweep many expensive queries (the clearance-leak walk) must see real
    # answers, not 429s: the budget is off unless a test sets it (test_owasp_api_top10.py).
    return load_settings(
        database_url=url,
        environment="test",
        jwt_secret=TEST_JWT_SECRET,
        expensive_requests_per_window=1_000_000,
    )


@pytest.fixture(scope="session")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A migrated database to copy: a file path (SQLite) or a database name (PostgreSQL)."""
    if BACKEND == "postgresql":
        name = f"declass_tmpl_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        admin = _pg_admin()
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        engine = make_engine(_settings(_pg_url(name)))
        migrations.upgrade(engine)
        engine.dispose()
        yield name
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    else:
        path = tmp_path_factory.mktemp("template") / "declass.db"
        engine = make_engine(_settings(f"sqlite:///{path}"))
        migrations.upgrade(engine)
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        engine.dispose()
        yield str(path)


@pytest.fixture
def db_url(template_db: str, tmp_path: Path) -> Iterator[str]:
    """A fresh, migrated, empty database for one test."""
    if BACKEND == "postgresql":
        name = f"declass_t_{os.getpid()}_{next(_counter)}"
        admin = _pg_admin()
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template_db}"'))
        yield _pg_url(name)
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    else:
        path = tmp_path / "declass.db"
        shutil.copyfile(template_db, path)
        yield f"sqlite:///{path}"


@pytest.fixture
def settings(db_url: str) -> Settings:
    return _settings(db_url)


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    engine = make_engine(settings)
    yield engine
    engine.dispose()


@pytest.fixture
def app(settings: Settings):  # type: ignore[no-untyped-def]
    from service.main import create_app

    return create_app(settings)


@pytest.fixture
def client(app) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    with TestClient(app) as test_client:
        yield test_client
