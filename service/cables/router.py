"""HTTP routes for cables: ingest, list, read."""

from __future__ import annotations

import hashlib
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import ValidationError

from service.auth.deps import CurrentPrincipal, require_roles
from service.auth.models import Role
from service.auth.principal import Principal
from service.cables import service
from service.cables.schemas import CableIn, CablePage, CablePublic
from service.cables.views import cable_summary, cable_view
from service.deps import PageCursor, PageLimit, SessionDep
from service.errors import Unprocessable, UnsupportedMediaType
from service.markings import Level
from service.pagination import next_link
from service.routes import CommittingRoute

router = APIRouter(prefix="/api/v1/cables", tags=["cables"], route_class=CommittingRoute)

Ingester = Annotated[
    Principal, Depends(require_roles(Role.supervisor, Role.admin, Role.integration))
]

CABLE_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "text/plain": {"schema": {"type": "string"}},
            "application/json": {"schema": CableIn.model_json_schema()},
        },
    }
}


async def cable_text(request: Request) -> str | bytes:
    """The posted cable: a text/plain body (bytes, decoded by the parser) or `{"text"}`."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    body = await request.body()
    if media_type == "application/json":
        try:
            return CableIn.model_validate_json(body).text
        except ValidationError as error:
            raise Unprocessable(
                'The body must be a JSON object {"text": "..."}',
                errors=[
                    {"loc": ["body", *(str(p) for p in e["loc"])], "msg": e["msg"]}
                    for e in error.errors()
                ],
            ) from None
    if media_type in ("text/plain", ""):
        return body
    raise UnsupportedMediaType('Send the cable as text/plain or as JSON {"text": "..."}')


@router.post(
    "",
    status_code=201,
    response_model=CablePublic,
    openapi_extra=CABLE_BODY,
    responses={200: {"model": CablePublic, "description": "The same text was already stored"}},
)
def ingest(
    session: SessionDep,
    principal: Ingester,
    text: Annotated[str | bytes, Depends(cable_text)],
    response: Response,
) -> CablePublic:
    """Store one cable. 201 when new, 200 when the same text is already stored, 409 when
    the reference id is stored with other text, 422 (with line numbers) when unreadable."""
    result = service.ingest_cable(session, text=text, actor=principal)
    response.status_code = 201 if result.created else 200
    response.headers["Location"] = f"/api/v1/cables/{result.cable.ref_id}"
    portions = service.cable_portions(session, result.cable)
    return cable_view(principal, result.cable, portions)


@router.get("", response_model=CablePage)
def list_cables(
    session: SessionDep,
    principal: CurrentPrincipal,
    request: Request,
    response: Response,
    classification: Level | None = None,
    origin: str | None = Query(None, max_length=200),
    tag: str | None = Query(None, max_length=64),
    status: str | None = Query(None, max_length=16),
    declassify_before: date | None = Query(None, description="declassify_on on or before"),
    declassify_after: date | None = Query(None, description="declassify_on on or after"),
    q: str | None = Query(None, max_length=200, description="words of the subject"),
    limit: PageLimit = 50,
    cursor: PageCursor = None,
) -> CablePage:
    """Cables in ingest order, filtered; cursor-paginated with a `Link` header."""
    filters = service.CableFilters(
        classification=classification.value if classification else None,
        origin=origin,
        tag=tag,
        status=status,
        declassify_before=declassify_before,
        declassify_after=declassify_after,
        q=q,
    )
    rows, next_cursor = service.list_cables(
        session, principal=principal, filters=filters, limit=limit, cursor=cursor
    )
    response.headers.update(next_link(request.url, next_cursor))
    return CablePage(items=[cable_summary(principal, c) for c in rows], next_cursor=next_cursor)


@router.get(
    "/{ref_id}", response_model=CablePublic, responses={304: {"description": "Not modified"}}
)
def read_cable(
    session: SessionDep, principal: CurrentPrincipal, ref_id: str, request: Request
) -> Response:
    """One cable with its portions; portions above the caller's clearance have `text: null`.
    The strong `ETag` changes whenever anything the caller sees changes."""
    cable = service.get_cable(session, ref_id)
    view = cable_view(principal, cable, service.cable_portions(session, cable))
    body = view.model_dump_json().encode()
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    if etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers={"ETag": etag})
    return Response(body, media_type="application/json", headers={"ETag": etag})
