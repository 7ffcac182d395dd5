"""HTTP routes for the audit log: query, per-cable history and chain verification."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from service.audit import queries
from service.audit.models import AuditAction
from service.audit.schemas import AuditPage, AuditVerification
from service.audit.verify import verify_log
from service.audit.views import event_view
from service.auth.deps import CurrentPrincipal, require_roles
from service.auth.models import Role
from service.auth.principal import Principal
from service.deps import MAX_ID, SessionDep, SettingsDep
from service.pagination import next_link
from service.routes import CommittingRoute

router = APIRouter(tags=["audit"], route_class=CommittingRoute)

Auditor = Annotated[Principal, Depends(require_roles(Role.supervisor, Role.admin))]
Limit = Annotated[int, Query(ge=1, le=500, description="Events per page")]
Cursor = Annotated[str | None, Query(max_length=512, description="From the previous page")]


@router.get("/api/v1/audit", response_model=AuditPage)
def list_audit_events(
    session: SessionDep,
    principal: Auditor,
    request: Request,
    response: Response,
    ref_id: Annotated[str | None, Query(max_length=64, description="Events of one cable")] = None,
    actor: Annotated[str | None, Query(max_length=128, description="Username or client id")] = None,
    action: Annotated[AuditAction | None, Query(description="One action")] = None,
    after_seq: Annotated[
        int | None, Query(ge=0, le=MAX_ID, description="Only events after this seq")
    ] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> AuditPage:
    """Audit events in `seq` order (supervisor, admin), filtered by cable, actor, action and
    `after_seq`; cursor-paginated with a `Link` header. Parts of `detail` above the caller's
    clearance are withheld (`detail_withheld` is then true)."""
    filters = queries.AuditFilters(ref_id=ref_id, actor=actor, action=action, after_seq=after_seq)
    rows, next_cursor = queries.list_events(session, filters=filters, limit=limit, cursor=cursor)
    response.headers.update(next_link(request.url, next_cursor))
    return AuditPage(items=[event_view(principal, e) for e in rows], next_cursor=next_cursor)


@router.get(
    "/api/v1/audit/verify",
    response_model=AuditVerification,
    response_model_exclude_none=True,
)
def verify_audit_chain(
    session: SessionDep, settings: SettingsDep, _principal: Auditor
) -> AuditVerification:
    """Recompute the hash chain (supervisor, admin): `{"valid", "count", "head"}`, and on a
    broken chain `valid: false` with `first_bad_seq` and `reason`. When a signed checkpoint
    is configured, a log shorter than the checkpoint or differing from it is broken too.
    Reads every event, so it takes time proportional to the log."""
    result = verify_log(session, settings=settings)
    return AuditVerification(
        valid=result.valid,
        count=result.count,
        head=result.head,
        first_bad_seq=result.first_bad_seq,
        reason=result.reason,
    )


@router.get(
    "/api/v1/cables/{ref_id}/audit",
    response_model=AuditPage,
    responses={404: {"description": "No such cable"}},
)
def list_cable_audit_events(
    session: SessionDep,
    principal: CurrentPrincipal,
    ref_id: str,
    request: Request,
    response: Response,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> AuditPage:
    """The audit history of one cable (any user who may see the cable), in `seq` order and
    cursor-paginated; 404 when there is no such cable. Parts of `detail` above the caller's
    clearance are withheld (`detail_withheld` is then true)."""
    rows, next_cursor = queries.cable_events(session, ref_id=ref_id, limit=limit, cursor=cursor)
    response.headers.update(next_link(request.url, next_cursor))
    return AuditPage(items=[event_view(principal, e) for e in rows], next_cursor=next_cursor)
