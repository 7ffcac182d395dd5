"""PostgreSQL restarted or stopped under a running app (T-3.8), on a PRIVATE throwaway
cluster: initdb into a temporary directory, a free port, `pg_ctl` as the `postgres` user
(initdb refuses root). The shared server on 127.0.0.1:5432 is never touched.

- `pg_ctl restart -m immediate` kills every pooled connection: the next request succeeds
  on the same app, because the engine pings a pooled connection before using it (an
  engine without `pool_pre_ping` fails its first query after the restart);
- while the server is down, `/readyz` is 503 and every request touching the database is a
  503 problem+json with `Retry-After`, answered at once (the connection is refused), never a
  500 or a hang; once the server is back, the next request succeeds without restarting the
  app;
- a server that accepts connections and never answers (a hung server or a lost host)
  holds no request for long: opening a connection gives up after `connect_timeout` (10 s by
  default, service/db.py; in the test 1 s through DATABASE_URL, which the driver makes 2 s)
  and the answer is a 503.

Runs in the PostgreSQL run only; skipped when the PostgreSQL server binaries are missing.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from factories import auth_headers, create_user
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, event, text
from sqlalchemy.exc import OperationalError
from test_fault_database_errors import cable_text

from service import migrations
from service.auth.models import Role
from service.db import PG_CONNECT_TIMEOUT, make_engine
from service.errors import DATABASE_UNAVAILABLE
from service.main import create_app
from service.markings import Level
from service.settings import load_settings

BACKEND = os.environ.get("DECLASS_TEST_DATABASE", "sqlite")
PG_BINS = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0

pytestmark = pytest.mark.skipif(
    BACKEND != "postgresql", reason="a PostgreSQL fault (PostgreSQL run)"
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Cluster:
    bin_dir: Path
    data: Path
    log: Path
    port: int

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/declass"

    def run(self, *args: str) -> None:
        command = [str(self.bin_dir / args[0]), *args[1:]]
        if IS_ROOT:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=60)

    def pg_ctl(self, *args: str) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.data.parent}"
        self.run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", *args)


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    if not PG_BINS:
        pytest.skip("no PostgreSQL server binaries under /usr/lib/postgresql/*/bin")
    if IS_ROOT and not shutil.which("runuser"):
        pytest.skip("running as root without runuser: initdb cannot run as root")
    base = Path(tempfile.mkdtemp(prefix="declass-pg-"))
    if IS_ROOT:
        shutil.chown(base, user="postgres", group="postgres")
    running = Cluster(PG_BINS[-1].parent, base / "data", base / "server.log", free_port())
    try:
        running.run("initdb", "-D", str(running.data), "-U", "postgres", "--auth=trust",
                    "--no-sync", "-E", "UTF8")  # fmt: skip
        running.pg_ctl("start")
        admin = create_engine(running.url.rsplit("/", 1)[0] + "/postgres",
                              isolation_level="AUTOCOMMIT")  # fmt: skip
        with admin.connect() as connection:
            connection.execute(text("CREATE DATABASE declass"))
        admin.dispose()
        yield running
    finally:
        with contextlib.suppress(subprocess.CalledProcessError):  # never started, or stopped
            running.pg_ctl("stop", "-m", "immediate")
        shutil.rmtree(base, ignore_errors=True)


def test_restart_and_outage_under_a_running_app(cluster: Cluster) -> None:
    settings = load_settings(
        database_url=cluster.url,
        environment="test",
        jwt_secret="pg-restart-secret-0123456789abcdef0123456789",
        import_worker_enabled=False,
        webhook_worker_enabled=False,
    )
    engine = make_engine(settings)
    migrations.upgrade(engine)
    _user, password = create_user(
        engine, username="ingester", roles=[Role.supervisor], clearance=Level.TOP_SECRET
    )
    engine.dispose()

    def ingest(client: TestClient, headers: dict[str, str], ref_id: str) -> int:
        response = client.post(
            "/api/v1/cables",
            content=cable_text(ref_id),
            headers={**headers, "Content-Type": "text/plain"},
        )
        return response.status_code

    with TestClient(create_app(settings)) as client:
        headers = auth_headers(client, "ingester", password)
        assert ingest(client, headers, "07TOKYO0001") == 201
        assert client.get("/readyz").status_code == 200

        # Every pooled connection dies; the next request reconnects and succeeds. An engine
        # without pool_pre_ping, pooled the same way, shows the restart did kill them.
        assert client.app.state.engine.pool.checkedin() >= 1  # type: ignore[attr-defined]
        no_ping = create_engine(cluster.url)
        with no_ping.connect() as connection:
            connection.execute(text("SELECT 1"))
        cluster.pg_ctl("restart", "-m", "immediate")
        assert ingest(client, headers, "07TOKYO0002") == 201
        with pytest.raises(OperationalError), no_ping.connect() as connection:
            connection.execute(text("SELECT 1"))
        no_ping.dispose()
        assert client.get("/api/v1/cables/07TOKYO0001", headers=headers).status_code == 200

        cluster.pg_ctl("stop", "-m", "immediate")
        started = time.monotonic()
        ready = client.get("/readyz")
        assert (ready.status_code, ready.headers["retry-after"]) == (503, "5")
        assert ready.headers["content-type"] == "application/problem+json"
        for response in (
            client.post(
                "/api/v1/cables",
                content=cable_text("07TOKYO0003"),
                headers={**headers, "Content-Type": "text/plain"},
            ),
            client.get("/api/v1/cables/07TOKYO0001", headers=headers),
        ):
            assert response.status_code == 503, response.text
            assert response.headers["content-type"] == "application/problem+json"
            assert response.headers["retry-after"] == str(DATABASE_UNAVAILABLE.retry_after_seconds)
            assert response.json()["title"] == DATABASE_UNAVAILABLE.title
        assert time.monotonic() - started < 5  # refused at once: no hung request

        cluster.pg_ctl("start")
        assert client.get("/readyz").status_code == 200
        assert ingest(client, headers, "07TOKYO0003") == 201
        listing = client.get("/api/v1/cables", headers=headers).json()
        assert [c["ref_id"] for c in listing["items"]] == [
            "07TOKYO0001",
            "07TOKYO0002",
            "07TOKYO0003",
        ]


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A port on loopback that accepts connections and never says a word (a hung server)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    accepted: list[socket.socket] = []

    def accept() -> None:
        with contextlib.suppress(OSError):
            while True:
                accepted.append(listener.accept()[0])

    threading.Thread(target=accept, daemon=True).start()
    yield int(listener.getsockname()[1])
    listener.close()
    for connection in accepted:
        connection.close()


def test_a_server_that_never_answers_gives_503_after_the_connect_timeout(
    silent_server: int,
) -> None:
    url = f"postgresql://postgres@127.0.0.1:{silent_server}/declass"
    seen: list[object] = []

    def record(
        _dialect: object, _record: object, _cargs: object, cparams: dict[str, object]
    ) -> None:
        seen.append(cparams.get("connect_timeout"))
        raise RuntimeError("recorded")

    default = make_engine(load_settings(database_url=url, environment="test"))
    event.listen(default, "do_connect", record)
    with pytest.raises(RuntimeError, match="recorded"):
        default.connect()
    default.dispose()
    assert seen == [PG_CONNECT_TIMEOUT]  # 10 s unless DATABASE_URL says otherwise

    settings = load_settings(
        database_url=url + "?connect_timeout=1",
        environment="test",
        jwt_secret="pg-silent-secret-0123456789abcdef0123456789",
        import_worker_enabled=False,
        webhook_worker_enabled=False,
    )
    with TestClient(create_app(settings)) as client:
        for call in (
            lambda: client.get("/readyz"),
            lambda: client.post(
                "/api/v1/auth/token",
                data={"grant_type": "password", "username": "someone", "password": "x" * 12},
            ),
        ):
            started = time.monotonic()
            response = call()
            waited = time.monotonic() - started
            assert response.status_code == 503, response.text
            assert response.headers["content-type"] == "application/problem+json"
            assert "retry-after" in response.headers
            assert 0.9 <= waited < 10  # about 2 s: the connect timeout, then the answer
