"""Bulk-import jobs: creating one, reading its state, claiming it and storing one batch.
Services never commit: the request or the runner's unit of work does (see `import_runner`).

Guarantees:

* `store_batch` writes a batch's cables (each stored, routed and audited exactly as
  `ingest_cable` does for a cable posted alone, in bulk), its rejections and the
  job's new offset and counters in the caller's one transaction, so the job row always
  describes exactly what is in the database;
* it writes only while the caller still holds the job's lease and the job is still at the
  offset the batch was read from (compare-and-set under `SELECT ... FOR UPDATE`), so a
  batch is never stored twice, even by two processes;
* every row ends up in exactly one of `imported`, `duplicates` (same reference id, same
  text) and `rejected` (with its row number, reference id and reason), and `rows_done` is
  their sum;
* an `Idempotency-Key` is scoped to the principal: the same key with the same body gives
  the same job; with another body it is a 422; keys are honoured for
  `settings.import_idempotency_ttl_seconds` (at least a day).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sqlalchemy import insert, or_, select, update
from sqlmodel import Session, col

from service.audit.models import AuditAction
from service.audit.service import record
from service.auth.models import Role
from service.auth.principal import Principal, PrincipalKind
from service.cables.store import NewCable, plan_cable, stored_shas, write_new_cables
from service.errors import NotFound, Unprocessable
from service.integrations.csv_source import MAX_REF_ID, ImportFormat
from service.integrations.import_models import (
    ImportJob,
    ImportRejection,
    ImportRunner,
    ImportStatus,
)
from service.integrations.webhooks.outbox import enqueue_event
from service.markings import Level
from service.orm import utcnow
from service.parsing import ParsedCable
from service.routing.placement import load_router

RUNNABLE = (ImportStatus.queued.value, ImportStatus.running.value)


@dataclass(frozen=True, slots=True)
class PreparedRow:
    """One row read and parsed outside the transaction: `parsed` and `sha`, or `error`."""

    number: int
    ref_id: str | None
    text: str | None
    sha: str | None
    parsed: ParsedCable | None
    error: str | None


@dataclass(frozen=True, slots=True)
class Batch:
    """Rows read from byte `start` (after `rows_before` rows) up to byte `end`."""

    start: int
    rows_before: int
    end: int
    rows: Sequence[PreparedRow]
    at_eof: bool


@dataclass(frozen=True, slots=True)
class BatchResult:
    imported: int
    duplicates: int
    rejected: int
    job: ImportJob


def new_import_id() -> str:
    return uuid.uuid4().hex


def create_import(
    session: Session,
    *,
    actor: Principal,
    import_id: str,
    fmt: ImportFormat,
    spool_path: Path,
    size_bytes: int,
    body_sha256: str,
    idempotency_key: str | None,
    idempotency_ttl_seconds: int,
    runner: ImportRunner = ImportRunner.server,
    source_name: str | None = None,
) -> tuple[ImportJob, bool]:
    """Record a queued import of the file at `spool_path`; returns (job, created).

    With an `idempotency_key` already used by `actor` within the TTL: the same body gives
    that job back (created False); another body raises Unprocessable (422)."""
    if idempotency_key is not None:
        existing = session.execute(
            select(ImportJob)
            .where(
                col(ImportJob.created_by_sub) == actor.sub,
                col(ImportJob.idempotency_key) == idempotency_key,
            )
            .with_for_update()
        ).scalar_one_or_none()
        expired_before = utcnow() - timedelta(seconds=idempotency_ttl_seconds)
        if existing is not None and existing.created_at < expired_before:
            existing.idempotency_key = None  # the key is free again; the old job stays
            session.add(existing)
            session.flush()
        elif existing is not None:
            if existing.body_sha256 != body_sha256:
                raise Unprocessable(
                    "This Idempotency-Key was used for an upload with a different body"
                )
            return existing, False
    job = ImportJob.model_validate(
        {
            "id": import_id,
            "status": ImportStatus.queued,
            "format": fmt.value,
            "runner": runner.value,
            "source_name": source_name,
            "spool_path": str(spool_path),
            "size_bytes": size_bytes,
            "body_sha256": body_sha256,
            "created_by": actor.name,
            "created_by_sub": actor.sub,
            "idempotency_key": idempotency_key,
        }
    )
    session.add(job)
    session.flush()
    record(
        session,
        actor=actor,
        action=AuditAction.import_created,
        entity="import",
        entity_id=job.id,
        detail={"format": fmt.value, "size_bytes": size_bytes, "sha256": body_sha256},
    )
    return job, True


def get_import(session: Session, *, import_id: str, viewer: Principal) -> ImportJob:
    """An import the viewer may see (admins: all; others: their own), else NotFound."""
    job = session.get(ImportJob, import_id)
    if job is None or (not viewer.has_role(Role.admin) and job.created_by_sub != viewer.sub):
        raise NotFound(f"No import {import_id}")
    return job


def rejections(session: Session, *, import_id: str, limit: int) -> list[ImportRejection]:
    """The first `limit` rejected rows of an import, by row number."""
    statement = (
        select(ImportRejection)
        .where(col(ImportRejection.import_id) == import_id)
        .order_by(col(ImportRejection.row))
        .limit(limit)
    )
    return list(session.execute(statement).scalars())


def has_runnable(session: Session, *, runner: ImportRunner) -> bool:
    """Whether any job of `runner` is queued or running (a cheap read before claiming)."""
    statement = select(col(ImportJob.id)).where(
        col(ImportJob.status).in_(RUNNABLE), col(ImportJob.runner) == runner.value
    )
    return session.execute(statement.limit(1)).first() is not None


def claim_job(
    session: Session,
    *,
    owner: str,
    lease_seconds: float,
    runner: ImportRunner,
    import_id: str | None = None,
) -> ImportJob | None:
    """Take the lease of the oldest runnable job (or of `import_id`) whose lease is free,
    expired or already `owner`'s. PostgreSQL: `FOR UPDATE SKIP LOCKED`, so processes
    claiming at once take different jobs; SQLite: the writer transaction serialises."""
    now = utcnow()
    statement = (
        select(ImportJob)
        .where(
            col(ImportJob.status).in_(RUNNABLE),
            col(ImportJob.runner) == runner.value,
            or_(
                col(ImportJob.lease_until).is_(None),
                col(ImportJob.lease_until) < now,
                col(ImportJob.lease_owner) == owner,
            ),
        )
        .order_by(col(ImportJob.created_at), col(ImportJob.id))
        .limit(1)
        .with_for_update(skip_locked=True)
    )
    if import_id is not None:
        statement = statement.where(col(ImportJob.id) == import_id)
    job: ImportJob | None = session.execute(statement).scalar_one_or_none()
    if job is None:
        return None
    job.lease_owner = owner
    job.lease_until = now + timedelta(seconds=lease_seconds)
    job.status = ImportStatus.running
    job.started_at = job.started_at or now
    job.updated_at = now
    session.add(job)
    session.flush()
    return job


def release_lease(session: Session, *, import_id: str, owner: str) -> None:
    """Give up `owner`'s lease (a worker stopping cleanly), so another takes over at once."""
    session.execute(
        update(ImportJob)
        .where(col(ImportJob.id) == import_id, col(ImportJob.lease_owner) == owner)
        .values(lease_owner=None, lease_until=None)
    )


def job_actor(job: ImportJob) -> Principal:
    """The principal the import's audit events name: whoever created the import."""
    return Principal(
        name=job.created_by,
        sub=job.created_by_sub,
        kind=PrincipalKind.system,
        roles=frozenset(),
        clearance=Level.TOP_SECRET,
    )


def _locked_job(session: Session, *, import_id: str, owner: str, start: int) -> ImportJob | None:
    job: ImportJob | None = session.execute(
        select(ImportJob)
        .where(col(ImportJob.id) == import_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if job is None or job.status != ImportStatus.running or job.lease_owner != owner:
        return None
    if job.byte_offset != start:
        return None
    return job


def store_batch(
    session: Session,
    *,
    import_id: str,
    owner: str,
    batch: Batch,
    lease_seconds: float,
    careful: bool = False,
) -> BatchResult | None:
    """Store `batch` and advance the job past it (see the module docstring); None when the
    job is no longer `owner`'s at `batch.start` (nothing is written then).

    The rules and the reviewers' loads are read once for the batch and the loads carried
    from cable to cable, so each cable is placed as if it had been ingested alone, in row
    order. The new cables are written with one executemany per table. `careful` stores
    each cable under a savepoint so a row the database refuses is rejected alone (the
    runner retries a failed batch this way)."""
    job = _locked_job(session, import_id=import_id, owner=owner, start=batch.start)
    if job is None:
        return None
    actor = job_actor(job)
    stored = stored_shas(session, {r.parsed.ref_id for r in batch.rows if r.parsed})
    router = load_router(session)
    now = utcnow()
    imported = duplicates = 0
    refused: list[dict[str, object]] = []
    fresh: list[NewCable] = []

    def refuse(row: PreparedRow, error: str, ref_id: str | None) -> None:
        refused.append({"import_id": job.id, "row": row.number, "ref_id": ref_id, "error": error})

    for row in batch.rows:
        if row.parsed is None or row.sha is None or row.text is None:
            refuse(row, row.error or "unreadable row", row.ref_id)
            continue
        ref_id = row.parsed.ref_id
        if len(ref_id) > MAX_REF_ID:
            refuse(row, f"the reference id is longer than {MAX_REF_ID} characters", None)
            continue
        known = stored.get(ref_id)
        if known is not None:
            if known == row.sha:
                duplicates += 1
            else:
                refuse(row, f"{ref_id} is already stored with different text", ref_id)
            continue
        cable = plan_cable(row.parsed, row.text, row.sha, place=router.place, now=now)
        if not careful:
            fresh.append(cable)
        else:
            try:
                with session.begin_nested():
                    write_new_cables(session, [cable], actor)
            except Exception as error:
                for placement in cable.placements:  # not stored: its load goes back
                    router.balancer.release(placement.assignee)
                refuse(row, f"the database refused the cable ({type(error).__name__})", ref_id)
                continue
        stored[ref_id] = row.sha
        imported += 1
    write_new_cables(session, fresh, actor)
    if refused:
        session.execute(insert(ImportRejection), refused)
    counts = (imported, duplicates, len(refused))
    _advance(session, job=job, batch=batch, counts=counts, lease_seconds=lease_seconds)
    return BatchResult(imported=imported, duplicates=duplicates, rejected=len(refused), job=job)


def _advance(
    session: Session,
    *,
    job: ImportJob,
    batch: Batch,
    counts: tuple[int, int, int],
    lease_seconds: float,
) -> None:
    imported, duplicates, rejected = counts
    now = utcnow()
    job.byte_offset = batch.end
    job.rows_done = batch.rows_before + len(batch.rows)
    job.imported += imported
    job.duplicates += duplicates
    job.rejected += rejected
    job.batches += 1
    job.updated_at = now
    job.lease_until = now + timedelta(seconds=lease_seconds)
    if batch.at_eof:
        job.status = ImportStatus.completed
        job.finished_at = now
        job.lease_owner = None
        job.lease_until = None
    session.add(job)
    session.flush()
    if batch.at_eof:
        _announce_finished(session, job)


def _announce_finished(session: Session, job: ImportJob) -> None:
    summary = {
        "total": job.rows_done,
        "imported": job.imported,
        "duplicates": job.duplicates,
        "rejected": job.rejected,
    }
    record(
        session,
        actor=job_actor(job),
        action=AuditAction.import_finished,
        entity="import",
        entity_id=job.id,
        detail={"status": job.status, **summary},
    )
    enqueue_event(
        session,
        event_type="import.finished",
        payload={
            "import_id": job.id,
            "status": job.status,
            **summary,
            "links": {"self": f"/api/v1/imports/{job.id}"},
        },
    )


def fail_job(session: Session, *, import_id: str, error: str) -> None:
    """Stop a job that cannot go on (its file is unreadable or gone)."""
    job = session.get(ImportJob, import_id, with_for_update=True)
    if job is None or job.status not in RUNNABLE:
        return
    job.status = ImportStatus.failed
    job.error = error[:2000]
    job.finished_at = utcnow()
    job.lease_owner = None
    job.lease_until = None
    session.add(job)
    session.flush()
    _announce_finished(session, job)
