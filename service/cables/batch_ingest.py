"""`declass ingest FILE...` in batches: many files per transaction, routed with one router.

`store_files` stores a batch of files in the caller's one transaction; `ingest_files` runs
the files batch by batch, one unit of work each. Guarantees: every file ends up `stored`,
`unchanged` or `rejected` (with the reason `ingest_cable` would give), and the database
ends up exactly as if the files had been ingested one by one through `ingest_cable` in
the same order (same rows, same queues and assignees, the same `cable.ingested` detail):

* a file that cannot be parsed is rejected with the 422's detail;
* the same text as a cable already stored, or as an earlier file of the batch, is
  `unchanged`; other text under such a reference id is rejected with the 409's detail;
* the rules and the reviewers' loads are read once per batch and the loads carried from
  cable to cable (`service.routing.placement.load_router`), and the new cables are written
  with one executemany per table and one `cable.ingested` event each
  (`service.cables.store.write_new_cables`, as the bulk import does);
* when the database refuses a batch, that batch is redone file by file through
  `ingest_cable`, so the file it refuses is rejected alone.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import structlog
from sqlalchemy import Engine
from sqlalchemy.exc import DataError, IntegrityError
from sqlmodel import Session

from service.auth.principal import Principal
from service.cables.service import ingest_cable, parse_or_422, sha256_hex, text_conflict
from service.cables.store import NewCable, plan_cable, stored_shas, write_new_cables
from service.db import unit_of_work
from service.errors import DomainError, Unprocessable
from service.orm import utcnow
from service.parsing import ParsedCable
from service.routing.placement import load_router

DEFAULT_BATCH_SIZE = 200
log = structlog.get_logger(__name__)


class Outcome(StrEnum):
    stored = "stored"
    unchanged = "unchanged"
    rejected = "rejected"


@dataclass(frozen=True, slots=True)
class PreparedFile:
    """One file read and parsed outside the transaction: `parsed`, `text` and `sha`, or
    `error`."""

    name: str
    text: str | None
    sha: str | None
    parsed: ParsedCable | None
    error: str | None


@dataclass(frozen=True, slots=True)
class FileResult:
    name: str
    outcome: Outcome
    reason: str | None = None


def prepare_file(name: str, data: bytes) -> PreparedFile:
    """`data` parsed (the parser decodes strict UTF-8), or the 422's detail."""
    try:
        parsed = parse_or_422(data)
    except Unprocessable as error:
        return PreparedFile(name, None, None, None, error.detail)
    text = data.decode("utf-8")
    return PreparedFile(name, text, sha256_hex(text), parsed, None)


def read_file(path: Path) -> PreparedFile:
    """`path` read and prepared; a file that cannot be read is rejected with the reason."""
    try:
        data = path.read_bytes()
    except OSError as error:
        return PreparedFile(str(path), None, None, None, f"cannot be read: {error.strerror}")
    return prepare_file(str(path), data)


def store_files(
    session: Session, files: Sequence[PreparedFile], *, actor: Principal
) -> list[FileResult]:
    """Store a batch of files in the caller's transaction (see the module docstring); one
    result per file, in order."""
    known = stored_shas(session, {f.parsed.ref_id for f in files if f.parsed is not None})
    router = load_router(session)
    now = utcnow()
    fresh: list[NewCable] = []
    results: list[FileResult] = []
    for file in files:
        if file.parsed is None or file.text is None or file.sha is None:
            results.append(FileResult(file.name, Outcome.rejected, file.error))
            continue
        ref_id = file.parsed.ref_id
        sha = known.get(ref_id)
        if sha == file.sha:
            results.append(FileResult(file.name, Outcome.unchanged))
        elif sha is not None:
            conflict = text_conflict(ref_id, stored_sha=sha, posted_sha=file.sha)
            results.append(FileResult(file.name, Outcome.rejected, conflict.detail))
        else:
            fresh.append(plan_cable(file.parsed, file.text, file.sha, place=router.place, now=now))
            known[ref_id] = file.sha
            results.append(FileResult(file.name, Outcome.stored))
    write_new_cables(session, fresh, actor)
    return results


def _one_by_one(engine: Engine, file: PreparedFile, actor: Principal) -> FileResult:
    if file.text is None:
        return FileResult(file.name, Outcome.rejected, file.error)
    try:
        with unit_of_work(engine) as session:
            created = ingest_cable(session, text=file.text, actor=actor).created
    except DomainError as error:
        return FileResult(file.name, Outcome.rejected, error.detail)
    except (IntegrityError, DataError) as error:
        reason = f"the database refused the cable ({type(error).__name__})"
        return FileResult(file.name, Outcome.rejected, reason)
    return FileResult(file.name, Outcome.stored if created else Outcome.unchanged)


def ingest_files(
    engine: Engine,
    paths: Sequence[Path],
    *,
    actor: Principal,
    batch_size: int = DEFAULT_BATCH_SIZE,
    advance: Callable[[int], None] | None = None,
) -> list[FileResult]:
    """Ingest `paths` in order, `batch_size` files per unit of work (see the module
    docstring); one result per file, in order. `advance` is told how many files each
    batch settled."""
    results: list[FileResult] = []
    for start in range(0, len(paths), max(batch_size, 1)):
        chunk = paths[start : start + max(batch_size, 1)]
        files = [read_file(path) for path in chunk]
        try:
            with unit_of_work(engine) as session:
                done = store_files(session, files, actor=actor)
        except (IntegrityError, DataError) as error:
            log.warning("ingest_batch_redone_file_by_file", error=type(error).__name__)
            done = [_one_by_one(engine, file, actor) for file in files]
        results.extend(done)
        if advance is not None:
            advance(len(chunk))
    return results
