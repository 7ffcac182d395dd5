"""A real `declass serve` is killed with SIGKILL in the middle of a large import, then
restarted: the import resumes from its last committed batch and ends with exactly the
expected cables (no row imported twice, none lost). SQLite file and PostgreSQL alike."""

from __future__ import annotations

import csv
import io
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from factories import create_user
from sqlalchemy import Engine, func, select, text
from sqlmodel import Session, col

from service.audit.models import AuditAction, AuditEvent
from service.auth.models import Role
from service.cables.models import Cable
from service.integrations.csv_source import CSV_HEADER
from service.integrations.import_models import ImportJob
from service.markings import Level

SHARED = Path(__file__).resolve().parents[2].parent / "shared"


def shared_path(*parts: str) -> Path:
    """A path in ../shared/, or skip when the shared material is absent."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} not found: the shared corpus is not beside this clone")
    return path


BACKEND = os.environ.get("DECLASS_TEST_DATABASE", "sqlite")
SERVER_JWT_SECRET = "kill-test-secret-0123456789abcdef0123456789"
ROWS = int(os.environ.get("DECLASS_TEST_KILL_ROWS", "3000"))
BATCH = 50
DECLASS = Path(sys.executable).parent / "declass"

pytestmark = [pytest.mark.slow, pytest.mark.corpus]


def large_csv(path: Path, rows: int) -> None:
    """`rows` distinct cables: the corpus rows again and again, each copy under its own
    reference id (the id plus a copy number), so each row is a new cable."""
    with shared_path("corpus", "cables.csv").open(newline="", encoding="utf-8") as source:
        corpus = list(csv.reader(source))[1:]
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for n in range(rows):
        row = list(corpus[n % len(corpus)])
        row[2] = f"{row[2]}{n // len(corpus):03d}"
        writer.writerow(row)
    path.write_bytes(out.getvalue().encode("utf-8"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    def __init__(self, db_url: str, workdir: Path) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "DATABASE_URL": db_url,
            "DECLASS_JWT_SECRET": SERVER_JWT_SECRET,
            "DECLASS_ENVIRONMENT": "test",
            "DECLASS_IMPORT_SPOOL_DIR": str(workdir / "spool"),
            "DECLASS_IMPORT_BATCH_SIZE": str(BATCH),
            "DECLASS_IMPORT_LEASE_SECONDS": "3",
            "DECLASS_IMPORT_POLL_SECONDS": "0.2",
            "DECLASS_WEBHOOK_WORKER_ENABLED": "false",
        }
        self.workdir = workdir
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        log = (self.workdir / "server.log").open("ab")
        self.process = subprocess.Popen(
            [str(DECLASS), "serve", "--port", str(self.port)],
            env=self.env,
            cwd=self.workdir,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.base}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.2)
        raise AssertionError("declass serve did not start")

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(30)


@pytest.fixture
def server(db_url: str, tmp_path: Path) -> Iterator[Server]:
    running = Server(db_url, tmp_path)
    yield running
    running.stop()


def token(server: Server, username: str, password: str) -> dict[str, str]:
    response = httpx.post(
        f"{server.base}/api/v1/auth/token",
        data={"grant_type": "password", "username": username, "password": password},
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def job_state(engine: Engine) -> tuple[Any, ...]:
    with Session(engine) as session:
        job = session.execute(select(ImportJob)).scalar_one()
        cables = session.execute(select(func.count()).select_from(Cable)).scalar_one()
        ingested = session.execute(
            select(func.count()).where(col(AuditEvent.action) == AuditAction.cable_ingested.value)
        ).scalar_one()
    return job.status, job.rows_done, job.imported, cables, ingested


def test_sigkill_mid_import_then_restart_completes_exactly(
    server: Server, engine: Engine, tmp_path: Path
) -> None:
    body_path = tmp_path / "large.csv"
    large_csv(body_path, ROWS)
    _user, password = create_user(
        engine, username="importer", roles=[Role.admin], clearance=Level.TOP_SECRET
    )
    upload = {"Content-Type": "text/csv", "Idempotency-Key": "large-import-1"}

    server.start()
    auth = token(server, "importer", password)
    response = httpx.post(
        f"{server.base}/api/v1/imports",
        content=body_path.read_bytes(),
        headers={**auth, **upload},
        timeout=60,
    )
    assert response.status_code == 202, response.text
    import_id = response.json()["id"]
    href = f"{server.base}/api/v1/imports/{import_id}"

    deadline = time.monotonic() + 600
    while httpx.get(href, headers=auth, timeout=10).json()["total"] < 3 * BATCH:
        assert time.monotonic() < deadline, "the import made no progress"
        time.sleep(0.05)
    server.kill()

    status, rows_done, imported, cables, ingested = job_state(engine)
    assert status == "running"
    assert 3 * BATCH <= rows_done < ROWS
    assert rows_done % BATCH == 0  # whole batches only
    assert imported == cables == ingested == rows_done  # the committed batches, nothing else
    if BACKEND == "sqlite":
        with engine.connect() as connection:
            assert connection.execute(text("PRAGMA integrity_check")).scalar_one() == "ok"

    server.start()
    auth = token(server, "importer", password)
    again = httpx.post(
        f"{server.base}/api/v1/imports",
        content=body_path.read_bytes(),
        headers={**auth, **upload},
        timeout=60,
    )
    assert (again.status_code, again.json()["id"]) == (202, import_id)
    deadline = time.monotonic() + 1200
    while (body := httpx.get(href, headers=auth, timeout=10).json())["status"] == "running":
        assert time.monotonic() < deadline, f"the import did not finish: {body}"
        time.sleep(0.2)
    assert (body["status"], body["total"], body["imported"], body["duplicates"]) == (
        "completed",
        ROWS,
        ROWS,
        0,
    )
    assert body["rejected"] == []
    assert job_state(engine) == ("completed", ROWS, ROWS, ROWS, ROWS)
    assert sorted((tmp_path / "spool").iterdir()) == []
