"""A real `declass serve` on a SQLite file is killed with SIGKILL while three clients are
writing cables (T-3.9's crash half; tests/integration/test_import_kill.py does the same to
a bulk import and its resumption, and its server helpers are reused here).

Afterwards, and again once the app has started on the file and written to it: `PRAGMA
integrity_check` is `ok`, the audit chain verifies (`verify_chain`, what `declass
verify-audit` runs), every acknowledged (201) cable is stored, and every stored cable is
whole: its portions rejoin to its text and it has exactly one `cable_ingested` event. The
requests cut off by the kill left either a whole cable or nothing. The kill is sent right
after a probe saw a server transaction holding the SQLite write lock, so it lands inside
(or within a few microseconds of) a write.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from factories import auth_headers, create_user
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, text
from sqlmodel import Session, col
from test_fault_database_errors import cable_text
from test_import_kill import Server, token

from service.audit.models import AuditAction, AuditEvent
from service.audit.verify import verify_chain
from service.auth.models import Role
from service.cables.models import Cable, Portion
from service.main import create_app
from service.markings import Level
from service.settings import Settings

BACKEND = os.environ.get("DECLASS_TEST_DATABASE", "sqlite")
WRITERS = 3
ACKNOWLEDGED_BEFORE_KILL = 12

pytestmark = pytest.mark.skipif(BACKEND != "sqlite", reason="a SQLite fault (SQLite run)")


@pytest.fixture
def server(db_url: str, tmp_path: Path) -> Iterator[Server]:
    running = Server(db_url, tmp_path)
    yield running
    running.stop()


class Writers:
    """Clients posting distinct cables until the server goes away."""

    def __init__(self, server: Server, headers: dict[str, str]) -> None:
        self.server, self.headers = server, headers
        self.acknowledged: list[str] = []
        self.cut_off: list[str] = []
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self.write, args=(n,)) for n in range(WRITERS)]

    def write(self, writer: int) -> None:
        for n in range(10_000):
            ref_id = f"07KILL{writer}{n:04d}"
            try:
                response = httpx.post(
                    f"{self.server.base}/api/v1/cables",
                    content=cable_text(ref_id),
                    headers={**self.headers, "Content-Type": "text/plain"},
                    timeout=30,
                )
            except httpx.HTTPError:
                with self.lock:
                    self.cut_off.append(ref_id)
                return
            assert response.status_code == 201, response.text
            with self.lock:
                self.acknowledged.append(ref_id)

    def count(self) -> int:
        with self.lock:
            return len(self.acknowledged)


def stored_state(engine: Engine) -> dict[str, int]:
    """ref_id -> number of its cable_ingested events, after checking each cable is whole."""
    with Session(engine) as session:
        cables = session.execute(select(Cable)).scalars().all()
        events = session.execute(
            select(AuditEvent.entity_id).where(
                col(AuditEvent.action) == AuditAction.cable_ingested.value
            )
        ).all()
        for cable in cables:
            portions = (
                session.execute(
                    select(Portion).where(col(Portion.cable_id) == cable.id).order_by(Portion.seq)
                )
                .scalars()
                .all()
            )
            assert portions, cable.ref_id
            assert "".join(p.text for p in portions) == cable.raw_text
    counts = {cable.ref_id: 0 for cable in cables}
    for (entity_id,) in events:
        assert entity_id in counts, f"an ingest event for a cable that is not stored: {entity_id}"
        counts[entity_id] += 1
    return counts


def check_file(engine: Engine) -> int:
    """integrity_check is ok and the audit chain verifies; the number of events."""
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA integrity_check")).scalar_one() == "ok"
    with Session(engine) as session:
        result = verify_chain(session)
    assert (result.valid, result.first_bad_seq) == (True, None)
    return result.count


def kill_while_a_write_is_open(server: Server, settings: Settings) -> bool:
    """SIGKILL the server right after seeing one of its transactions hold the write lock.

    The probe asks for the lock without waiting (`BEGIN IMMEDIATE`, timeout 0): "database
    is locked" means a server writer is inside its transaction, and the kill follows at
    once. Returns whether it was seen (the probe gives the lock straight back otherwise)."""
    probe = sqlite3.connect(str(settings.sqlite_path), timeout=0, isolation_level=None)
    try:
        for _ in range(2000):
            try:
                probe.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError:
                server.kill()
                return True
            probe.execute("ROLLBACK")
            time.sleep(0.001)
        server.kill()
        return False
    finally:
        probe.close()


def test_sigkill_during_concurrent_writes_leaves_whole_cables_and_a_valid_chain(
    server: Server, engine: Engine, settings: Settings
) -> None:
    _user, password = create_user(
        engine, username="ingester", roles=[Role.supervisor], clearance=Level.TOP_SECRET
    )
    server.start()
    writers = Writers(server, token(server, "ingester", password))
    for thread in writers.threads:
        thread.start()
    deadline = time.monotonic() + 120
    while writers.count() < ACKNOWLEDGED_BEFORE_KILL:
        assert time.monotonic() < deadline, "the writers made no progress"
        time.sleep(0.01)
    assert kill_while_a_write_is_open(server, settings), "never saw the server hold the lock"
    for thread in writers.threads:
        thread.join(60)

    assert len(writers.cut_off) == WRITERS  # each writer had a request in flight
    state = stored_state(engine)
    assert set(writers.acknowledged) <= set(state)
    assert set(state) <= set(writers.acknowledged) | set(writers.cut_off)
    assert set(state.values()) == {1}
    events = check_file(engine)

    # The app starts again on the same file (in-process: a second `declass serve` would
    # cost seconds of start-up) and writes.
    with TestClient(create_app(settings)) as client:
        again = client.post(
            "/api/v1/cables",
            content=cable_text("07AFTER0001"),
            headers={**auth_headers(client, "ingester", password), "Content-Type": "text/plain"},
        )
        assert again.status_code == 201, again.text
    after = stored_state(engine)
    assert set(after) == set(state) | {"07AFTER0001"}
    assert check_file(engine) == events + 1
