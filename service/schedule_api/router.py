"""HTTP routes of the declassification schedule (supervisor and integration accounts).

"Today" comes from `app.state.clock` (a `service.schedule.Clock`; the UTC system clock when
unset), so tests pin it with `app.state.clock = FixedClock(date(...))`.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Query, Request, Response
from fastapi.responses import StreamingResponse
from sqlmodel import Session

from service.auth import service as auth_service
from service.auth.deps import SupervisorOrIntegrationDep
from service.auth.models import Role
from service.auth.principal import Principal
from service.auth.security import Claims
from service.cables.models import CableStatus
from service.deps import PageCursor, PageLimit, SessionDep, SettingsDep
from service.errors import Forbidden
from service.markings import Level
from service.pagination import next_link
from service.routes import CommittingRoute
from service.schedule import Clock, SystemClock
from service.schedule_api import exports, feed_token, service
from service.schedule_api.schemas import (
    CalendarTokenIn,
    CalendarTokenOut,
    DueItemPublic,
    DuePage,
    SummaryRowPublic,
)
from service.schedule_api.service import DueItem, GroupBy, ScheduleFilters
from service.schedule_api.summary import summarize

router = APIRouter(prefix="/api/v1/schedule", tags=["schedule"], route_class=CommittingRoute)
CALENDAR_PATH = "/api/v1/schedule/calendar.ics"
CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
ICS_MEDIA_TYPE = "text/calendar; charset=utf-8"
CSV_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {}}, "description": "with ?format=csv"}
}


async def get_clock(request: Request) -> Clock:
    """The application's clock (`app.state.clock`), else the UTC system clock. (Neither
    dependency here does I/O: async, so neither costs a hop to a worker thread.)"""
    clock: Clock | None = getattr(request.app.state, "clock", None)
    return clock or SystemClock()


ClockDep = Annotated[Clock, Depends(get_clock)]


async def schedule_filters(
    after: date | None = Query(None, description="declassify_on on or after (inclusive)"),
    before: date | None = Query(None, description="declassify_on on or before (inclusive)"),
    origin: str | None = Query(None, max_length=200, description="e.g. Embassy Tokyo (any case)"),
    classification: Level | None = None,
    tag: str | None = Query(None, max_length=64, description="a TAGS entry, e.g. PREL"),
    status: CableStatus | None = None,
) -> ScheduleFilters:
    """The filters shared by every schedule endpoint."""
    return ScheduleFilters(
        after=after,
        before=before,
        origin=origin,
        classification=classification.value if classification else None,
        tag=tag,
        status=status.value if status else None,
    )


FiltersDep = Annotated[ScheduleFilters, Depends(schedule_filters)]
Format = Annotated[Literal["json", "csv"], Query(description="csv: the whole result, streamed")]


def _public(items: list[DueItem]) -> list[DueItemPublic]:
    return [DueItemPublic.model_validate(item, from_attributes=True) for item in items]


def _csv(request: Request, fetch: exports.PageFetcher, name: str, today: date) -> Response:
    items = exports.all_items(request.app.state.engine, fetch)
    return StreamingResponse(
        exports.csv_rows(items),
        media_type=CSV_MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="schedule-{name}-{today}.csv"'},
    )


@router.get("/due", response_model=DuePage, responses=CSV_RESPONSE)
def due(
    session: SessionDep,
    principal: SupervisorOrIntegrationDep,
    filters: FiltersDep,
    clock: ClockDep,
    request: Request,
    response: Response,
    limit: PageLimit = 50,
    cursor: PageCursor = None,
    format: Format = "json",
) -> DuePage | Response:
    """Cables whose `declassify_on` falls between `after` and `before` (inclusive; default
    today .. today + 90 days), by date then ref_id, with `days_remaining`. Cursor-paginated
    with a `Link` header; `?format=csv` streams every row as CSV instead."""
    today = clock.today()
    service.due_window(filters, today=today)  # a bad window is a 422 before any streaming
    if format == "csv":
        return _csv(
            request,
            lambda s, c: service.list_due(
                s, principal=principal, filters=filters, today=today, limit=exports.BATCH, cursor=c
            ),
            "due",
            today,
        )
    items, next_cursor = service.list_due(
        session, principal=principal, filters=filters, today=today, limit=limit, cursor=cursor
    )
    response.headers.update(next_link(request.url, next_cursor))
    return DuePage(items=_public(items), next_cursor=next_cursor)


@router.get("/overdue", response_model=DuePage, responses=CSV_RESPONSE)
def overdue(
    session: SessionDep,
    principal: SupervisorOrIntegrationDep,
    filters: FiltersDep,
    clock: ClockDep,
    request: Request,
    response: Response,
    limit: PageLimit = 50,
    cursor: PageCursor = None,
    format: Format = "json",
) -> DuePage | Response:
    """Cables whose `declassify_on` has passed (before today) and that are not released,
    oldest first; `days_remaining` is negative. Same filters, pagination and CSV as `due`."""
    today = clock.today()
    if format == "csv":
        service.check_window(filters)  # a bad window is a 422 before any streaming
        return _csv(
            request,
            lambda s, c: service.list_overdue(
                s, principal=principal, filters=filters, today=today, limit=exports.BATCH, cursor=c
            ),
            "overdue",
            today,
        )
    items, next_cursor = service.list_overdue(
        session, principal=principal, filters=filters, today=today, limit=limit, cursor=cursor
    )
    response.headers.update(next_link(request.url, next_cursor))
    return DuePage(items=_public(items), next_cursor=next_cursor)


@router.get("/summary", response_model=list[SummaryRowPublic])
def summary(
    session: SessionDep,
    _principal: SupervisorOrIntegrationDep,
    filters: FiltersDep,
    group_by: GroupBy = GroupBy.year,
) -> list[SummaryRowPublic]:
    """Counts of scheduled cables grouped by the year (`YYYY`) or month (`YYYY-MM`) of
    `declassify_on`, by origin or by classification, ordered by key. Without `after` or
    `before` every cable that has a `declassify_on` is counted."""
    rows = summarize(session, group_by=group_by, filters=filters)
    return [SummaryRowPublic(key=row.key, count=row.count) for row in rows]


@router.post("/calendar-token", response_model=CalendarTokenOut, status_code=201)
def calendar_token(
    principal: SupervisorOrIntegrationDep,
    settings: SettingsDep,
    request: Request,
    response: Response,
    body: Annotated[CalendarTokenIn | None, Body()] = None,
) -> CalendarTokenOut:
    """A long-lived token for subscribing a calendar program to `calendar.ics`: it works
    only there, only in `?token=`, and never as a bearer token. It dies with the account
    (deactivated, or no longer supervisor or integration) or with the signing secret."""
    ttl_days = (body or CalendarTokenIn()).ttl_days
    token, expires = feed_token.issue_feed_token(
        settings, sub=principal.sub, kind=principal.kind.value, ttl_seconds=ttl_days * 86_400
    )
    response.headers["Cache-Control"] = "no-store"
    feed_url = request.url_for("calendar_feed").include_query_params(token=token)
    return CalendarTokenOut(
        token=token, expires_at=datetime.fromtimestamp(expires, UTC), feed_url=str(feed_url)
    )


def _feed_principal(session: Session, settings: SettingsDep, token: str | None) -> Principal:
    found = feed_token.verify_feed_token(settings, token)
    claims = Claims(
        sub=found.sub,
        name=found.sub,
        kind="user" if found.kind == "user" else "service",
        iss=settings.jwt_issuer,
        aud=settings.jwt_audience,
        iat=found.iat,
        exp=found.exp,
        jti=found.jti,
        kid="calendar-feed",
    )
    principal = auth_service.principal_for(session, claims)
    if not principal.has_role(Role.supervisor, Role.integration):
        raise Forbidden("The feed's account no longer holds the supervisor or integration role")
    return principal


@router.get(
    "/calendar.ics",
    name="calendar_feed",
    response_class=Response,
    responses={200: {"content": {"text/calendar": {}}, "description": "iCalendar feed"}},
)
def calendar_feed(
    session: SessionDep,
    settings: SettingsDep,
    filters: FiltersDep,
    clock: ClockDep,
    request: Request,
    token: Annotated[str | None, Query(max_length=1024, description="a feed token")] = None,
) -> Response:
    """An iCalendar feed: one all-day event per date with the number of cables due that day
    and their reference ids. Authenticated only by `?token=` from `POST
    /schedule/calendar-token` (a bearer token is not accepted here). Window: `after`
    (default today - 30 days) .. `before` (default today + 365 days), at most 3,660 days."""
    principal = _feed_principal(session, settings, token)
    request.state.actor = principal.name
    today = clock.today()
    window = service.calendar_filters(filters, today=today)
    days = service.calendar_days(session, filters=window, ref_limit=exports.REF_LIMIT)
    body = exports.render_calendar(days, today=today, filters=filters)
    return Response(
        body,
        media_type=ICS_MEDIA_TYPE,
        headers={"Cache-Control": "private, no-store", "Referrer-Policy": "no-referrer"},
    )
