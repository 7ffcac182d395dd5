"""Running import jobs: one batch per transaction, resumable, by the server's background
thread (`ImportWorker`) or by `declass import` (`run_job`).

A batch is read from the job's committed byte offset and parsed outside any transaction
(with a process pool: the next batch is read and parsed in a worker while this one is
stored, see `run_job`), then stored by `imports.store_batch` in one unit of work
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
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from dataclasses import dataclass, replace
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
    max_rows: int = 1_000_000  # rows one import may hold (DECLASS_IMPORT_MAX_ROWS)

    @classmethod
    def from_settings(cls, settings: Settings) -> RunnerOptions:
        return cls(
            batch_size=settings.import_batch_size,
            lease_seconds=settings.import_lease_seconds,
            max_line_bytes=settings.import_max_line_bytes,
            parse_workers=settings.import_parse_workers,
            max_rows=settings.import_max_rows,
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


@dataclass(frozen=True, slots=True)
class BatchSpec:
    """Where a batch starts in a job's file: all a worker process needs to read and parse
    it (picklable)."""

    spool_path: str
    fmt: str
    start: int
    rows_before: int
    batch_size: int
    max_line_bytes: int

    @classmethod
    def of(cls, job: ImportJob, options: RunnerOptions) -> BatchSpec:
        """The next batch of `job`, from its committed offset."""
        return cls(
            job.spool_path,
            job.format,
            job.byte_offset,
            job.rows_done,
            options.batch_size,
            options.max_line_bytes,
        )

    def after(self, batch: Batch) -> BatchSpec:
        """The batch that follows `batch` (where the job will be once `batch` is stored)."""
        return replace(self, start=batch.end, rows_before=batch.rows_before + len(batch.rows))


def _read_rows(spec: BatchSpec) -> tuple[list[SourceRow], bool]:
    with open(spec.spool_path, "rb") as stream:
        rows = list(
            islice(
                read_rows(
                    stream,
                    fmt=ImportFormat(spec.fmt),
                    offset=spec.start,
                    rows_before=spec.rows_before,
                    max_line_bytes=spec.max_line_bytes,
                ),
                spec.batch_size,
            )
        )
        at_eof = len(rows) < spec.batch_size
        if not at_eof:
            at_eof = stream.seek(rows[-1].end) == os.fstat(stream.fileno()).st_size
    return rows, at_eof


def load_batch(spec: BatchSpec, pool: Executor | None = None) -> Batch:
    """The batch at `spec`, read and parsed (in this process, or in chunks on `pool`)."""
    rows, at_eof = _read_rows(spec)
    if pool is None:
        prepared = _prepare_chunk(rows)
    else:
        prepared = [
            p for chunk in pool.map(_prepare_chunk, _chunks(rows, PARSE_CHUNK)) for p in chunk
        ]
    end = rows[-1].end if rows else spec.start
    return Batch(
        start=spec.start, rows_before=spec.rows_before, end=end, rows=prepared, at_eof=at_eof
    )


def read_batch(job: ImportJob, *, options: RunnerOptions, pool: Executor | None) -> Batch:
    """The next batch of `job` from its committed offset, parsed."""
    return load_batch(BatchSpec.of(job, options), pool)


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
    is lost, or `should_stop()` says so between batches. Returns the job as last stored.

    With a `pool`, batches are pipelined: while one batch is being stored, the next one is
    read and parsed in a worker process, so parsing and the database writes overlap. The
    next batch is only ever stored at the offset the job row holds (`store_batch` checks
    it), so a read-ahead batch is used only when the job is exactly where it starts."""
    ahead: Future[Batch] | None = None
    ahead_spec: BatchSpec | None = None
    try:
        while job.status == ImportStatus.running and not should_stop():
            spec = BatchSpec.of(job, options)
            try:
                if ahead is not None and ahead_spec == spec:
                    batch = ahead.result()
                else:
                    batch = load_batch(spec)
            except (OSError, SourceFormatError) as error:
                log.error("import_failed", import_id=job.id, error=str(error))
                with unit_of_work(engine) as session:
                    fail_job(session, import_id=job.id, error=f"cannot read the file: {error}")
                    failed = session.get(ImportJob, job.id)
                return failed or job
            if spec.rows_before + len(batch.rows) > options.max_rows:
                # A resource cap (OWASP API4): the batch that would pass it is not stored.
                with unit_of_work(engine) as session:
                    fail_job(
                        session,
                        import_id=job.id,
                        error=f"the file has more than {options.max_rows} rows, the most one "
                        f"import may hold; the first {spec.rows_before} rows are stored",
                    )
                    failed = session.get(ImportJob, job.id)
                return failed or job
            ahead = None
            if pool is not None and not batch.at_eof:
                ahead_spec = spec.after(batch)
                ahead = pool.submit(load_batch, ahead_spec)
            result = _store(engine, job, owner, batch, options.lease_seconds)
            if result is None:
                log.info("import_lease_lost", import_id=job.id, owner=owner)
                return job
            job = result.job
            if on_batch is not None:
                on_batch(job, result)
        return job
    finally:
        if ahead is not None:
            ahead.cancel()


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
