"""HTTP routes for finalizing a cable and reading its release (text, JSON or PDF)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import BaseModel

from service.auth.deps import CurrentPrincipal, SupervisorDep
from service.auth.models import Role
from service.deps import SessionDep
from service.errors import DomainError, Forbidden
from service.release import render_json, render_pdf, render_text
from service.review import finalize as finalizing
from service.review.router import ContextDep
from service.review.states import FINAL_CABLE_STATES
from service.routes import CommittingRoute

router = APIRouter(prefix="/api/v1/cables", tags=["release"], route_class=CommittingRoute)

RefId = Annotated[str, Path(max_length=64)]
TEXT, JSON, PDF = "text/plain", "application/json", "application/pdf"
OFFERED = (JSON, TEXT, PDF)  # the first is the default for */* or no Accept


class NotAcceptable(DomainError):
    status, slug = 406, "not-acceptable"


class FinalizedOut(BaseModel):
    ref_id: str
    status: str
    finalized_by: str
    finalized_at: datetime
    text_sha256: str
    json_sha256: str
    pdf_sha256: str


def negotiate(accept: str | None) -> str:
    """The offered media type the `Accept` header prefers (highest q, then header order;
    `*/*` and a missing header give JSON), or 406."""
    if not accept or not accept.strip():
        return OFFERED[0]
    choices: list[tuple[float, int, str]] = []
    for index, item in enumerate(accept.split(",")[:20]):
        media, _, params = item.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        media = media.strip().lower()
        for offered in OFFERED:
            if quality > 0 and media in (offered, offered.split("/")[0] + "/*", "*/*"):
                choices.append((-quality, index, offered))
                break
    if not choices:
        raise NotAcceptable(f"This resource is available as {', '.join(OFFERED)}")
    return sorted(choices)[0][2]


@router.post(
    "/{ref_id}/finalize",
    response_model=FinalizedOut,
    responses={409: {"description": "Already finalized, or a portion is not approved"}},
)
def finalize(
    session: SessionDep, principal: SupervisorDep, context: ContextDep, ref_id: RefId
) -> FinalizedOut:
    """Finalize a cable whose every portion is approved: it becomes `released` (or
    `withheld` when every portion is withheld) and its text, JSON and PDF are rendered once
    and stored; they never change afterwards. 409 otherwise."""
    release = finalizing.finalize(
        session, ref_id=ref_id, actor=principal, today=context.clock.today()
    )
    return FinalizedOut(
        ref_id=ref_id,
        status=release.status,
        finalized_by=release.finalized_by,
        finalized_at=release.finalized_at,
        text_sha256=release.text_sha256,
        json_sha256=release.json_sha256,
        pdf_sha256=release.pdf_sha256,
    )


@router.get(
    "/{ref_id}/release",
    responses={
        200: {
            "content": {TEXT: {}, JSON: {}, PDF: {}},
            "description": "The release in the negotiated format",
        },
        404: {"description": "No such cable, or not released yet"},
        406: {"description": "None of text/plain, application/json, application/pdf accepted"},
    },
)
def read_release(
    session: SessionDep,
    principal: CurrentPrincipal,
    context: ContextDep,
    ref_id: RefId,
    request: Request,
    preview: bool = Query(False, description="Supervisors: the release as it stands now"),
) -> Response:
    """The released cable: `Accept: text/plain` (each redacted span replaced by
    `[REDACTED <codes>]`), `application/json` (portions and spans as data) or
    `application/pdf` (black boxes and the declassification stamp). Any user once the
    cable is finalized; before that, supervisors may ask for `?preview=true`, where
    portions above their clearance are withheld for clearance."""
    media_type = negotiate(request.headers.get("accept"))
    if preview and not principal.has_role(Role.supervisor):
        raise Forbidden("Only supervisors may preview a release")
    cable = finalizing.cable_by_ref(session, ref_id)
    if preview and cable.status not in FINAL_CABLE_STATES:
        document = finalizing.preview(
            session, cable=cable, viewer=principal, today=context.clock.today()
        )
        if media_type == PDF:
            return Response(render_pdf(document), media_type=PDF)
        if media_type == TEXT:
            return Response(render_text(document), media_type="text/plain; charset=utf-8")
        body = json.dumps(render_json(document), ensure_ascii=False, indent=2)
        return Response(body, media_type=JSON)
    release = finalizing.stored_release(session, cable=cable)
    headers = {"ETag": f'"{release.json_sha256[:32]}"', "Vary": "Accept"}
    if media_type == PDF:
        headers["ETag"] = f'"{release.pdf_sha256[:32]}"'
        return Response(release.pdf, media_type=PDF, headers=headers)
    if media_type == TEXT:
        headers["ETag"] = f'"{release.text_sha256[:32]}"'
        return Response(release.text, media_type="text/plain; charset=utf-8", headers=headers)
    return Response(release.json_text, media_type=JSON, headers=headers)
