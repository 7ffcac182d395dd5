"""`declass import FILE`: a bulk import straight into the database, with a progress bar.

The file is imported in place (not copied) as an import job run by this process, batch by
batch exactly as the server's worker does. Importing the same file again (same SHA-256)
finds the same job: a finished one is only summarised, an interrupted one resumes from its
last committed batch. Exit status: 0 when the import completed (rejected rows are listed,
not an error), 1 when it failed, 2 for a configuration error.
"""

from __future__ import annotations

import hashlib
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from sqlalchemy import Engine

from service.auth.principal import system_principal
from service.db import make_engine, unit_of_work
from service.integrations import imports
from service.integrations.csv_source import ImportFormat, detect_format
from service.integrations.import_models import ImportJob, ImportRunner, ImportStatus
from service.integrations.import_runner import RunnerOptions, make_pool, new_owner, run_job
from service.integrations.imports import BatchResult
from service.settings import Settings, SettingsError, get_settings

console = Console(stderr=True)
SHOWN_REJECTIONS = 20


def _digest(path: Path) -> tuple[str, int, bytes]:
    digest = hashlib.sha256()
    size = 0
    head = b""
    with path.open("rb") as stream:
        while chunk := stream.read(1024 * 1024):
            if not head:
                head = chunk[:4096]
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size, head


def _claim(engine: Engine, job: ImportJob, owner: str, lease: float) -> ImportJob:
    """Take the job's lease, waiting while another process still holds it."""
    while True:
        with unit_of_work(engine) as session:
            claimed = imports.claim_job(
                session,
                owner=owner,
                lease_seconds=lease,
                runner=ImportRunner.cli,
                import_id=job.id,
            )
            current = claimed or session.get(ImportJob, job.id)
        if claimed is not None or current is None or current.status not in imports.RUNNABLE:
            return claimed or current or job
        console.print(f"import {job.id} is held by {current.lease_owner}; waiting for its lease")
        time.sleep(min(lease, 5.0))


def _summary(job: ImportJob, engine: Engine) -> None:
    table = Table(title=f"import {job.id} ({job.format}): {job.status}")
    for name in ("rows", "imported", "duplicates", "rejected"):
        table.add_column(name, justify="right")
    table.add_row(str(job.rows_done), str(job.imported), str(job.duplicates), str(job.rejected))
    console.print(table)
    if job.error:
        console.print(f"[red]error[/red] {job.error}")
    with unit_of_work(engine, write=False) as session:
        shown = imports.rejections(session, import_id=job.id, limit=SHOWN_REJECTIONS)
    for rejection in shown:
        console.print(f"[yellow]row {rejection.row}[/yellow] {rejection.ref_id}: {rejection.error}")
    if job.rejected > len(shown):
        console.print(f"... and {job.rejected - len(shown)} more (GET /api/v1/imports/{job.id})")


def _settings() -> Settings:
    try:
        return get_settings()
    except SettingsError as error:
        console.print(f"[red]{error}[/red]")
        raise typer.Exit(2) from None


def import_file(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    fmt: Annotated[
        ImportFormat | None,
        typer.Option("--format", help="csv, csv-original or ndjson (default: detected)"),
    ] = None,
    batch_size: Annotated[int | None, typer.Option(min=1, max=10_000)] = None,
    parse_workers: Annotated[
        int | None, typer.Option(min=0, max=64, help="processes that parse (0: none)")
    ] = None,
) -> None:
    """Bulk-import a cablegate CSV (with header, or the original headerless file) or an
    NDJSON file of {"text": ...} lines; resumable, one transaction per batch."""
    settings = _settings()
    options = RunnerOptions.from_settings(settings)
    options = RunnerOptions(
        batch_size=batch_size or options.batch_size,
        lease_seconds=options.lease_seconds,
        max_line_bytes=options.max_line_bytes,
        parse_workers=options.parse_workers if parse_workers is None else parse_workers,
        max_rows=options.max_rows,
    )
    engine = make_engine(settings)
    sha, size, head = _digest(file)
    with unit_of_work(engine) as session:
        job, _created = imports.create_import(
            session,
            actor=system_principal("cli"),
            import_id=imports.new_import_id(),
            fmt=fmt or detect_format(head),
            spool_path=file.resolve(),
            size_bytes=size,
            body_sha256=sha,
            idempotency_key=f"file:{sha}",
            idempotency_ttl_seconds=settings.import_idempotency_ttl_seconds,
            runner=ImportRunner.cli,
            source_name=file.name[:255],
        )
    if job.status in imports.RUNNABLE:
        job = _run(engine, job, options)
    else:
        console.print(f"{file} was already imported by import {job.id}")
    _summary(job, engine)
    engine.dispose()
    if job.status != ImportStatus.completed:
        raise typer.Exit(1)


def _run(engine: Engine, job: ImportJob, options: RunnerOptions) -> ImportJob:
    owner = new_owner()
    job = _claim(engine, job, owner, options.lease_seconds)
    if job.status != ImportStatus.running:
        return job
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TextColumn("{task.fields[rows]} rows, {task.fields[rate]} rows/s"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    started = time.monotonic()
    first_row = job.rows_done
    pool = make_pool(options.parse_workers)
    try:
        with Progress(*columns, console=console) as progress:
            task: TaskID = progress.add_task(
                "importing",
                total=job.size_bytes,
                completed=job.byte_offset,
                rows=job.rows_done,
                rate=0,
            )

            def on_batch(current: ImportJob, _result: BatchResult) -> None:
                elapsed = max(time.monotonic() - started, 1e-6)
                progress.update(
                    task,
                    completed=current.byte_offset,
                    rows=current.rows_done,
                    rate=int((current.rows_done - first_row) / elapsed),
                )

            return run_job(
                engine, job=job, owner=owner, options=options, pool=pool, on_batch=on_batch
            )
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
