"""Import jobs on a real database: the CLI on both corpus files, routing and audit like a
cable posted alone, resuming after a crash, leases, and idempotency keys."""

from __future__ import annotations

import csv
import io
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlmodel import Session, col
from typer.testing import CliRunner

from service.audit.models import AuditAction, AuditEvent
from service.audit.verify import verify_chain
from service.auth.principal import system_principal
from service.cables.models import Cable, Portion
from service.cli import app
from service.db import unit_of_work
from service.errors import Unprocessable
from service.integrations import imports
from service.integrations.csv_source import CSV_HEADER, ImportFormat
from service.integrations.import_models import ImportJob, ImportRunner, ImportStatus
from service.integrations.import_runner import RunnerOptions, read_batch, run_job
from service.settings import get_settings

SHARED = Path(__file__).resolve().parents[2].parent / "shared"


def shared_path(*parts: str) -> Path:
    """A path in ../shared/, or skip when the shared material is absent."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} not found: the shared corpus is not beside this clone")
    return path


OPTIONS = RunnerOptions(batch_size=5, lease_seconds=30, max_line_bytes=1 << 24, parse_workers=0)


@pytest.fixture
def cli_env(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("DECLASS_ENVIRONMENT", "test")
    monkeypatch.setenv("DECLASS_IMPORT_BATCH_SIZE", "100")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def corpus_slice(tmp_path: Path, count: int, *, skip: int = 0) -> Path:
    """The first `count` rows of the corpus CSV (after `skip`), as an RFC 4180 file."""
    with shared_path("corpus", "cables.csv").open(newline="", encoding="utf-8") as source:
        rows = list(csv.reader(source))[1 + skip : 1 + skip + count]
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    writer.writerows(rows)
    path = tmp_path / f"slice-{skip}-{count}.csv"
    path.write_bytes(out.getvalue().encode("utf-8"))
    return path


def counts(engine: Engine) -> tuple[int, int]:
    with Session(engine) as session:
        cables = session.execute(select(func.count()).select_from(Cable)).scalar_one()
        ingested = session.execute(
            select(func.count()).where(col(AuditEvent.action) == AuditAction.cable_ingested.value)
        ).scalar_one()
    return int(cables), int(ingested)


def new_job(engine: Engine, path: Path, *, key: str | None = None) -> ImportJob:
    data = path.read_bytes()
    with unit_of_work(engine) as session:
        job, _created = imports.create_import(
            session,
            actor=system_principal("tests"),
            import_id=imports.new_import_id(),
            fmt=ImportFormat.csv,
            spool_path=path,
            size_bytes=len(data),
            body_sha256=str(hash(data)),
            idempotency_key=key,
            idempotency_ttl_seconds=86_400,
        )
    return job


def claim(engine: Engine, owner: str, *, lease: float = 30) -> ImportJob | None:
    with unit_of_work(engine) as session:
        return imports.claim_job(
            session, owner=owner, lease_seconds=lease, runner=ImportRunner.server
        )


@pytest.mark.corpus
@pytest.mark.slow
def test_cli_imports_both_corpus_files_with_every_row_accounted_for(
    engine: Engine, cli_env: None
) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["import", str(shared_path("corpus", "cables.csv"))])
    assert result.exit_code == 0, result.output
    assert counts(engine) == (295, 295)

    result = runner.invoke(
        app, ["import", str(shared_path("corpus", "cables-original-sample.csv"))]
    )
    assert result.exit_code == 0, result.output
    with Session(engine) as session:
        jobs = list(
            session.execute(select(ImportJob).order_by(col(ImportJob.created_at))).scalars()
        )
        rejected = imports.rejections(session, import_id=jobs[1].id, limit=100)
    assert [
        (j.format, j.status, j.rows_done, j.imported, j.duplicates, j.rejected) for j in jobs
    ] == [
        ("csv", "completed", 295, 295, 0, 0),
        # 32 corpus files were made from these rows (same text); the other 5 cables are in
        # the corpus from their HTML pages, so the same reference id comes with other text.
        ("csv-original", "completed", 37, 0, 32, 5),
    ]
    assert [(r.row, r.ref_id) for r in rejected] == [
        (1, "66BUENOSAIRES2481"),
        (2, "72TEHRAN1164"),
        (5, "72TEHRAN5055"),
        (9, "75TEHRAN2069"),
        (13, "79TEHRAN8980"),
    ]
    assert all(r.error.endswith("is already stored with different text") for r in rejected)

    # The same file again is the same import: summarised, not run again.
    result = runner.invoke(app, ["import", str(shared_path("corpus", "cables.csv"))])
    assert result.exit_code == 0
    assert "already imported" in result.output
    assert counts(engine) == (295, 295)
    with Session(engine) as session:
        assert verify_chain(session).valid


@pytest.mark.corpus
def test_an_imported_cable_is_stored_audited_and_routed_like_one_posted_alone(
    engine: Engine, tmp_path: Path
) -> None:
    job = new_job(engine, corpus_slice(tmp_path, 3))
    job = claim(engine, "w1") or job
    job = run_job(engine, job=job, owner="w1", options=OPTIONS)
    assert (job.status, job.imported, job.batches) == ("completed", 3, 1)
    with Session(engine) as session:
        cable = session.execute(select(Cable).order_by(col(Cable.id))).scalars().first()
        assert cable is not None
        portions = list(
            session.execute(select(Portion).where(col(Portion.cable_id) == cable.id)).scalars()
        )
        events = list(
            session.execute(
                select(AuditEvent)
                .where(col(AuditEvent.ref_id) == cable.ref_id)
                .order_by(col(AuditEvent.seq))
            ).scalars()
        )
    assert "".join(p.text for p in sorted(portions, key=lambda p: p.seq)) == cable.raw_text
    assert all(p.queue is not None for p in portions)
    # No reviewer exists: every portion waits in its queue, born there at version 1.
    assert {(p.status, p.assignee, p.version) for p in portions} == {("pending", None, 1)}
    assert cable.status == "received"
    # One event per cable, its routing folded in (no per-portion `portion.routed`).
    assert [e.action for e in events] == ["cable.ingested"]
    assert events[0].actor == "tests"
    assert events[0].detail["sha256"] == cable.raw_sha256
    assert events[0].detail["portions"] == len(portions)
    routing = events[0].detail["routing"]
    assert sorted((seq, r["queue"], r["assignee"]) for r in routing for seq in r["seqs"]) == [
        (p.seq, p.queue, None) for p in sorted(portions, key=lambda p: p.seq)
    ]
    assert {r["rule"] for r in routing if r["queue"] == "general"} <= {None}


@pytest.mark.corpus
def test_a_crash_leaves_the_job_at_its_last_batch_and_another_worker_finishes_it(
    engine: Engine, tmp_path: Path
) -> None:
    job = new_job(engine, corpus_slice(tmp_path, 12))
    first = claim(engine, "crashed", lease=3)
    assert first is not None
    batch = read_batch(first, options=OPTIONS, pool=None)
    with unit_of_work(engine) as session:
        assert imports.store_batch(
            session, import_id=job.id, owner="crashed", batch=batch, lease_seconds=3
        )
    stale_next = read_batch(
        imports_job(engine, job.id), options=OPTIONS, pool=None
    )  # read, then the process "dies" before storing it
    assert claim(engine, "other") is None  # the lease is still held
    time.sleep(3.2)
    second = claim(engine, "other")
    assert second is not None
    assert (second.byte_offset, second.rows_done, second.imported) == (batch.end, 5, 5)
    done = run_job(engine, job=second, owner="other", options=OPTIONS)
    assert (done.status, done.rows_done, done.imported, done.batches) == ("completed", 12, 12, 3)
    # The crashed worker's batch can no longer be stored: it lost the lease.
    with unit_of_work(engine) as session:
        late = imports.store_batch(
            session, import_id=job.id, owner="crashed", batch=stale_next, lease_seconds=1
        )
    assert late is None
    assert counts(engine) == (12, 12)


def imports_job(engine: Engine, import_id: str) -> ImportJob:
    with Session(engine) as session:
        job = session.get(ImportJob, import_id)
        assert job is not None
        return job


@pytest.mark.corpus
def test_a_batch_is_stored_once_even_when_read_twice(engine: Engine, tmp_path: Path) -> None:
    job = new_job(engine, corpus_slice(tmp_path, 4))
    claimed = claim(engine, "w")
    assert claimed is not None
    batch = read_batch(claimed, options=OPTIONS, pool=None)
    with unit_of_work(engine) as session:
        assert imports.store_batch(
            session, import_id=job.id, owner="w", batch=batch, lease_seconds=9
        )
    with unit_of_work(engine) as session:
        assert (
            imports.store_batch(session, import_id=job.id, owner="w", batch=batch, lease_seconds=9)
            is None
        )
    assert counts(engine) == (4, 4)


@pytest.mark.corpus
def test_concurrent_claims_take_a_job_once(engine: Engine, tmp_path: Path) -> None:
    new_job(engine, corpus_slice(tmp_path, 2))
    barrier = threading.Barrier(4)
    won: list[str] = []

    def worker(name: str) -> None:
        barrier.wait()
        if claim(engine, name) is not None:
            won.append(name)

    threads = [threading.Thread(target=worker, args=(f"w{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(won) == 1


def test_idempotency_keys_are_per_principal_and_check_the_body(
    engine: Engine, tmp_path: Path
) -> None:
    path = tmp_path / "a.ndjson"
    path.write_text('{"text": "x"}\n')

    def create(actor: str, key: str, sha: str) -> tuple[ImportJob, bool]:
        with unit_of_work(engine) as session:
            return imports.create_import(
                session,
                actor=system_principal(actor),
                import_id=imports.new_import_id(),
                fmt=ImportFormat.ndjson,
                spool_path=path,
                size_bytes=14,
                body_sha256=sha,
                idempotency_key=key,
                idempotency_ttl_seconds=86_400,
            )

    first, created = create("a", "k1", "s1")
    again, created_again = create("a", "k1", "s1")
    assert (created, created_again, again.id) == (True, False, first.id)
    with pytest.raises(Unprocessable):
        create("a", "k1", "s2")
    other, other_created = create("b", "k1", "s1")
    assert other_created
    assert other.id != first.id
    assert first.status == ImportStatus.queued
