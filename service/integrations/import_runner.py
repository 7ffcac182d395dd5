"""Running import jobs: one batch per transaction, resumable, by the server's background
thread (`ImportWorker`) or by `declass import` (`run_job`).

A batch is read from the job's committed byte offset and parsed outside any transaction
(optionally in a process pool), then stored by `imports.store_batch` in one unit of work
that also advances the offset. A process killed at any point leaves the job at its last
committed batch; whoever next holds the lease (after `import_lease_seconds`) goes on from
there. A batch the database refuses as a whole is retried once with a savepoint per
cable, so one bad row is rejected alone.
"""

from __future__ import annotations

import contextlib
import os
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass
from itertools import islice

import structlog
from sqlalchemy import Engine
from sqlalchemy.exc import DataError, IntegrityError

from service.cables.service import parse_or_422, sha256_hex
from service.db import unit_of_work
from service.errors import Unprocessable
from service.integrations.csv_source import ImportFormat, SourceFormatError, SourceRow, read_rows
from service.integrations.import_models import ImportJob, ImportRunner, ImportStatus
from service.integrations.imports import (
    Batch,
    BatchResult,
    PreparedRow,
    claim_job,
    fail_job,
    has_runnable,
    release_lease,
    store_batch,
)
from service.settings import Settings

log = structlog.get_logger(__name__)
PARSE_CHUNK = 25


@dataclass(frozen=True, slots=True)
class RunnerOptions:
    batch_size: int
    lease_seconds: float
    max_line_bytes: int
    parse_workers: int

    @classmethod
    def from_settings(cls, settings: Settings) -> RunnerOptions:
        return cls(
            batch_size=settings.import_batch_size,
            lease_seconds=settings.import_lease_seconds,
            max_line_bytes=settings.import_max_line_bytes,
            parse_workers=settings.import_parse_workers,
        )


def new_owner() -> str:
    """A worker identity: host, process and a random part (unique across restarts)."""
    return f"{os.uname().nodename[:24]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def prepare(row: SourceRow) -> PreparedRow:
    """Parse one row (any parser failure rejects the row, never the import)."""
    if row.text is None:
        return PreparedRow(row.number, row.ref_id, None, None, None, row.error or "no text")
    try:
        parsed = parse_or_422(row.text)
    except Unprocessable as error:
        return PreparedRow(row.number, row.ref_id, None, None, None, error.detail[:1000])
    except Exception as error:
        message = f"the parser failed on this row ({type(error).__name__})"
        return PreparedRow(row.number, row.ref_id, None, None, None, message)
    return PreparedRow(row.number, row.ref_id, row.text, sha256_hex(row.text), parsed, None)


def _prepare_chunk(rows: Sequence[SourceRow]) -> list[PreparedRow]:
    return [prepare(row) for row in rows]


def _chunks(rows: Sequence[SourceRow], size: int) -> Iterator[Sequence[SourceRow]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def read_batch(job: ImportJob, *, options: RunnerOptions, pool: Executor | None) -> Batch:
    """The next batch of `job` from its committed offset, parsed."""
    with open(job.spool_path, "rb") as stream:
        rows = list(
            islice(
                read_rows(
                    stream,
                    fmt=ImportFormat(job.format),
                    offset=job.byte_offset,
                    rows_before=job.rows_done,
                    max_line_bytes=options.max_line_bytes,
                ),
                options.batch_size,
            )
        )
        at_eof = len(rows) < options.batch_size
        if not at_eof:
            at_eof = stream.seek(rows[-1].end) == os.fstat(stream.fileno()).st_size
    if pool is None:
        prepared = _prepare_chunk(rows)
    else:
        prepared = [
            p for chunk in pool.map(_prepare_chunk, _chunks(rows, PARSE_CHUNK)) for p in chunk
        ]
    end = rows[-1].end if rows else job.byte_offset
    return Batch(
        start=job.byte_offset, rows_before=job.rows_done, end=end, rows=prepared, at_eof=at_eof
    )


def _store(
    engine: Engine, job: ImportJob, owner: str, batch: Batch, lease: float
) -> BatchResult | None:
    try:
        with unit_of_work(engine) as session:
            return store_batch(
                session, import_id=job.id, owner=owner, batch=batch, lease_seconds=lease
            )
    except (IntegrityError, DataError) as error:
        log.warning("import_batch_retried_carefully", import_id=job.id, error=type(error).__name__)
    with unit_of_work(engine) as session:
        return store_batch(
            session, import_id=job.id, owner=owner, batch=batch, lease_seconds=lease, careful=True
        )


Progress = Callable[[ImportJob, BatchResult], None]


def run_job(
    engine: Engine,
    *,
    job: ImportJob,
    owner: str,
    options: RunnerOptions,
    pool: Executor | None = None,
    should_stop: Callable[[], bool] = lambda: False,
    on_batch: Progress | None = None,
) -> ImportJob:
    """Run `job` (whose lease `owner` holds) batch by batch until it is finished, the lease
    is lost, or `should_stop()` says so between batches. Returns the job as last stored."""
    while job.status == ImportStatus.running and not should_stop():
        try:
            batch = read_batch(job, options=options, pool=pool)
        except (OSError, SourceFormatError) as error:
            log.error("import_failed", import_id=job.id, error=str(error))
            with unit_of_work(engine) as session:
                fail_job(session, import_id=job.id, error=f"cannot read the file: {error}")
                failed = session.get(ImportJob, job.id)
            return failed or job
        result = _store(engine, job, owner, batch, options.lease_seconds)
        if result is None:
            log.info("import_lease_lost", import_id=job.id, owner=owner)
            return job
        job = result.job
        if on_batch is not None:
            on_batch(job, result)
    return job


def make_pool(workers: int) -> ProcessPoolExecutor | None:
    """A parse pool of `workers` processes, or None to parse in this thread."""
    return ProcessPoolExecutor(max_workers=workers) if workers > 0 else None


class ImportWorker:
    """The server's import thread: claims runnable server jobs and runs them; `stop()`
    lets the current batch commit and stops before the next one."""

    def __init__(self, engine: Engine, *, options: RunnerOptions, poll_seconds: float) -> None:
        self.engine = engine
        self.options = options
        self.poll_seconds = poll_seconds
        self.owner = new_owner()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="import-worker", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 60.0) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def run_once(self, pool: Executor | None = None) -> bool:
        """Claim one job and run it; False when there was nothing to do."""
        with unit_of_work(self.engine, write=False) as session:
            if not has_runnable(session, runner=ImportRunner.server):
                return False
        with unit_of_work(self.engine) as session:
            job = claim_job(
                session,
                owner=self.owner,
                lease_seconds=self.options.lease_seconds,
                runner=ImportRunner.server,
            )
        if job is None:
            return False
        log.info("import_started", import_id=job.id, offset=job.byte_offset, owner=self.owner)
        job = run_job(
            self.engine,
            job=job,
            owner=self.owner,
            options=self.options,
            pool=pool,
            should_stop=self._stop.is_set,
        )
        if job.status == ImportStatus.running and self._stop.is_set():
            with unit_of_work(self.engine) as session:
                release_lease(session, import_id=job.id, owner=self.owner)
        if job.status in (ImportStatus.completed, ImportStatus.failed):
            log.info("import_finished", import_id=job.id, status=job.status)
            if job.status == ImportStatus.completed:
                remove_spool(job)
        return True

    def _run(self) -> None:
        pool = make_pool(self.options.parse_workers)
        try:
            while not self._stop.is_set():
                try:
                    worked = self.run_once(pool)
                except Exception:
                    log.exception("import_pass_failed")
                    worked = False
                if not worked:
                    self._stop.wait(self.poll_seconds)
        finally:
            if pool is not None:
                pool.shutdown(cancel_futures=True)


def remove_spool(job: ImportJob) -> None:
    """Delete an uploaded body once its import completed (CLI sources are left alone)."""
    if job.runner != ImportRunner.server:
        return
    with contextlib.suppress(FileNotFoundError):
        os.unlink(job.spool_path)
