"""HTTP routes for records systems: bulk imports and the release feed."""

from __future__ import annotations

import hashlib
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import anyio
from fastapi import APIRouter, Depends, Query, Request, Response

from service.auth import service as auth_service
from service.auth.deps import AdminOrIntegrationDep, CurrentPrincipal, verified_claims
from service.auth.models import Role
from service.auth.principal import Principal
from service.auth.security import Claims
from service.db import open_session
from service.deps import PageCursor, PageLimit, SessionDep, SettingsDep
from service.errors import Forbidden, PayloadTooLarge, Unprocessable
from service.idempotency.http import (
    Idempotency,
    KeyHeader,
    begin_key,
    check_key,
    held,
    with_idempotency_responses,
)
from service.integrations import feed, imports
from service.integrations.csv_source import ImportFormat, detect_format
from service.integrations.schemas import (
    ImportAccepted,
    ImportProgress,
    ImportPublic,
    ImportRejectedRow,
    ReleaseItem,
    ReleaseLinks,
    ReleasePage,
)
from service.pagination import next_link
from service.routes import CommittingRoute
from service.settings import Settings

router = APIRouter(prefix="/api/v1", tags=["integration"], route_class=CommittingRoute)

MAX_REJECTIONS_SHOWN = 1000
NDJSON_TYPES = frozenset({"application/x-ndjson", "application/jsonl", "application/ndjson"})
IMPORT_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "text/csv": {"schema": {"type": "string", "format": "binary"}},
            "application/x-ndjson": {"schema": {"type": "string", "format": "binary"}},
        },
    }
}


@dataclass(frozen=True, slots=True)
class Upload:
    import_id: str
    principal: Principal
    path: Path
    size: int
    sha256: str
    fmt: ImportFormat
    idempotency_key: str | None


def _uploader(request: Request) -> Principal:
    """Who is uploading, checked before a byte of the body is read (a short read-only
    session, so no write transaction is open while the body streams in)."""
    claims = getattr(request.state, "claims", None)
    if not isinstance(claims, Claims):
        claims = verified_claims(request.app.state.settings, request.headers.get("authorization"))
    session = open_session(request.app.state.engine, write=False)
    try:
        principal = auth_service.principal_for(session, claims)
    finally:
        session.close()
    if not principal.has_role(Role.admin, Role.integration):
        raise Forbidden("This needs one of the roles: admin, integration")
    request.state.principal = principal
    request.state.actor = principal.name
    return principal


def _format(request: Request, head: bytes) -> ImportFormat:
    given = request.query_params.get("format")
    if given is not None:
        try:
            return ImportFormat(given)
        except ValueError:
            choices = ", ".join(f.value for f in ImportFormat)
            raise Unprocessable(f"format must be one of: {choices}") from None
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type in NDJSON_TYPES:
        return ImportFormat.ndjson
    return detect_format(head)


async def receive_upload(request: Request) -> Upload:
    """Stream the body to the spool directory (never whole in memory), enforcing
    `import_max_bytes`; fsync it before the import is recorded."""
    principal = await anyio.to_thread.run_sync(_uploader, request)
    key = request.headers.get("idempotency-key")
    if key is not None:
        check_key(key)  # 400 before a byte of the body is read
    settings: Settings = request.app.state.settings
    spool = Path(settings.import_spool_dir)
    spool.mkdir(parents=True, exist_ok=True)
    import_id = imports.new_import_id()
    path = spool / f"{import_id}.body"
    digest = hashlib.sha256()
    size = 0
    head = b""
    try:
        with path.open("wb") as out:
            async for chunk in request.stream():
                size += len(chunk)
                if size > settings.import_max_bytes:
                    raise PayloadTooLarge(
                        f"The upload is larger than the limit of {settings.import_max_bytes} bytes"
                    )
                digest.update(chunk)
                if len(head) < 4096:
                    head += chunk[: 4096 - len(head)]
                await anyio.to_thread.run_sync(out.write, chunk)
            await anyio.to_thread.run_sync(out.flush)
            await anyio.to_thread.run_sync(os.fsync, out.fileno())
        if size == 0:
            raise Unprocessable("The body is empty: send a CSV or NDJSON file")
        fmt = _format(request, head)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return Upload(import_id, principal, path, size, digest.hexdigest(), fmt, key)


UploadDep = Annotated[Upload, Depends(receive_upload)]


async def import_idempotency(request: Request, upload: UploadDep) -> AsyncIterator[Idempotency]:
    """The upload's `Idempotency-Key`, begun once the body is spooled (its SHA-256 is part
    of the request's fingerprint). A refused key or a replay needs no spooled copy."""
    try:
        idem = await begin_key(request, key=upload.idempotency_key, body_sha256=upload.sha256)
    except BaseException:
        upload.path.unlink(missing_ok=True)
        raise
    if idem.replay is not None:
        upload.path.unlink(missing_ok=True)  # the first request's upload is the import
    async with held(request, idem):
        yield idem


ImportIdempotencyDep = Annotated[Idempotency, Depends(import_idempotency, scope="function")]


@router.post(
    "/imports",
    status_code=202,
    response_model=ImportAccepted,
    openapi_extra=IMPORT_BODY,
    responses=with_idempotency_responses(
        {
            413: {"description": "Larger than DECLASS_IMPORT_MAX_BYTES"},
            422: {"description": "Empty body or unknown format"},
        }
    ),
)
def create_import(
    idempotency: ImportIdempotencyDep,  # before the session: claimed before it opens
    upload: UploadDep,
    session: SessionDep,
    principal: AdminOrIntegrationDep,
    settings: SettingsDep,
    response: Response,
    idempotency_key: KeyHeader = None,
    format: Annotated[
        ImportFormat | None, Query(description="Default: detected from the body")
    ] = None,
) -> ImportAccepted | Response:
    """Accept a cablegate CSV (with the `id,date,refid,...` header, or the original
    headerless file with backslash escapes) or NDJSON (`{"text": ...}` per line). The body
    is stored, then imported in the background in batches; follow the `Location`. The same
    `Idempotency-Key` with the same body and query replays the first response (the same
    import, 202 again, `Idempotent-Replayed: true`)."""
    del idempotency_key, format  # read (and checked) by receive_upload before the body

    def produce() -> ImportAccepted:
        try:
            job, created = imports.create_import(
                session,
                actor=principal,
                import_id=upload.import_id,
                fmt=upload.fmt,
                spool_path=upload.path.resolve(),
                size_bytes=upload.size,
                body_sha256=upload.sha256,
                idempotency_key=upload.idempotency_key,
                idempotency_ttl_seconds=settings.import_idempotency_ttl_seconds,
            )
        except BaseException:
            upload.path.unlink(missing_ok=True)
            raise
        if not created:  # the key's record was pruned, but the job still holds it
            upload.path.unlink(missing_ok=True)
            response.headers["Idempotent-Replayed"] = "true"
        href = f"/api/v1/imports/{job.id}"
        response.headers["Location"] = href
        return ImportAccepted(id=job.id, href=href)

    return idempotency.respond(session, produce, response, status_code=202)


@router.get("/imports/{import_id}", response_model=ImportPublic)
def read_import(
    import_id: str, session: SessionDep, principal: AdminOrIntegrationDep
) -> ImportPublic:
    """An import's status, counts, progress and rejected rows (the first 1000 by row;
    `rejected_count` has them all). Integration accounts see their own imports."""
    job = imports.get_import(session, import_id=import_id, viewer=principal)
    shown = imports.rejections(session, import_id=job.id, limit=MAX_REJECTIONS_SHOWN)
    percent = 100.0 if job.size_bytes == 0 else round(100 * job.byte_offset / job.size_bytes, 2)
    return ImportPublic(
        id=job.id,
        status=job.status,
        format=job.format,
        source_name=job.source_name,
        total=job.rows_done,
        imported=job.imported,
        duplicates=job.duplicates,
        rejected_count=job.rejected,
        rejected=[ImportRejectedRow(row=r.row, ref_id=r.ref_id, error=r.error) for r in shown],
        rejected_truncated=job.rejected > len(shown),
        progress=ImportProgress(
            bytes_done=job.byte_offset,
            bytes_total=job.size_bytes,
            percent=percent,
            batches=job.batches,
        ),
        error=job.error,
        created_by=job.created_by,
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
    )


@router.get("/releases", response_model=ReleasePage)
def list_releases(
    session: SessionDep,
    _principal: CurrentPrincipal,
    request: Request,
    response: Response,
    limit: PageLimit = 50,
    cursor: PageCursor = None,
) -> ReleasePage:
    """Finalized cables (released or withheld) in release order. Keep `resume_cursor` and
    pass it as `cursor` to receive only later releases: none is skipped or repeated,
    however many arrive in between. No cable text is included."""
    page = feed.release_feed(session, cursor=cursor, limit=limit)
    response.headers.update(next_link(request.url, page.next_cursor))
    items = [
        ReleaseItem(
            sequence=e.sequence,
            ref_id=e.ref_id,
            status=e.status,
            released_at=e.released_at,
            links=ReleaseLinks(
                cable=f"/api/v1/cables/{e.ref_id}", release=f"/api/v1/cables/{e.ref_id}/release"
            ),
        )
        for e in page.entries
    ]
    return ReleasePage(items=items, next_cursor=page.next_cursor, resume_cursor=page.resume_cursor)
