"""Schedule queries: cables by `declassify_on`, answered by the database from indexed columns.

Guarantees:
- every filter is a WHERE clause and every summary a GROUP BY in SQL; no row is filtered in
  Python, so a page costs an index range scan plus `limit` rows;
- order is `declassify_on`, then `ref_id` (unique), and cursors are keyset positions on that
  pair, so a page never repeats or skips a row that existed when the first page was read;
- `subject` and `declassify_basis` (both taken from the header portion, whose level is the
  cable's classification) are NULL in the result, computed in SQL, unless the caller's
  clearance covers the cable's classification (the rule of `service.cables.views`);
- `today` is an argument: callers pass the injected clock's date, so results are exact in
  tests. Nothing here writes.

Windows (all bounds inclusive): `due` defaults to today .. today + 90 days; `overdue` is
everything before today whose status is not `released` (optionally bounded by `after` and
`before`); `summary` and `calendar` cover every scheduled cable unless bounded.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta
from enum import StrEnum
from typing import Any, TypeVar, cast

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    case,
    exists,
    func,
    or_,
    select,
)
from sqlmodel import Session, col

from service.auth.clearance import readable_levels
from service.auth.principal import Principal
from service.cables.models import Cable, CableStatus, CableTag
from service.errors import BadRequest, Unprocessable
from service.pagination import decode_cursor, encode_cursor
from service.schedule import days_remaining

DEFAULT_DUE_DAYS = 90
_S = TypeVar("_S", bound="Select[*tuple[Any, ...]]")
CALENDAR_DAYS_BEFORE = 30
CALENDAR_DAYS_AFTER = 365
CALENDAR_MAX_DAYS = 3660


class GroupBy(StrEnum):
    year = "year"
    month = "month"
    origin = "origin"
    classification = "classification"


@dataclass(frozen=True, slots=True)
class ScheduleFilters:
    """The query parameters shared by every schedule endpoint (`None` = not filtered)."""

    after: date | None = None
    before: date | None = None
    origin: str | None = None
    classification: str | None = None
    tag: str | None = None
    status: str | None = None


@dataclass(frozen=True, slots=True)
class DueItem:
    ref_id: str
    subject: str | None
    origin: str | None
    classification: str
    status: str
    declassify_on: date
    declassify_basis: str | None
    days_remaining: int


@dataclass(frozen=True, slots=True)
class SummaryRow:
    key: str | None
    count: int


@dataclass(frozen=True, slots=True)
class CalendarDay:
    day: date
    count: int
    ref_ids: tuple[str, ...]  # the first `ref_limit` of the day, in ref_id order


def due_window(filters: ScheduleFilters, *, today: date) -> tuple[date, date]:
    """The inclusive window of `due`: `after` (default today) .. `before` (default
    `after` + 90 days, or today + 90 days when only `after` is missing)."""
    after = filters.after or today
    before = filters.before or max(today, after) + timedelta(days=DEFAULT_DUE_DAYS)
    _check_bounds(after, before)
    return after, before


def calendar_filters(filters: ScheduleFilters, *, today: date) -> ScheduleFilters:
    """The feed's window: `after` (default today - 30 days) .. `before` (default today +
    365 days), at most 3,660 days long (else Unprocessable)."""
    after = filters.after or today - timedelta(days=CALENDAR_DAYS_BEFORE)
    before = filters.before or max(today, after) + timedelta(days=CALENDAR_DAYS_AFTER)
    _check_bounds(after, before)
    if (before - after).days > CALENDAR_MAX_DAYS:
        raise Unprocessable(
            f"the calendar window may span at most {CALENDAR_MAX_DAYS} days",
            errors=[{"loc": ["query", "before"], "msg": f"at most {CALENDAR_MAX_DAYS} days"}],
        )
    return replace(filters, after=after, before=before)


def check_window(filters: ScheduleFilters) -> None:
    """Unprocessable (422) when `after` is later than `before`."""
    _check_bounds(filters.after, filters.before)


def _check_bounds(after: date | None, before: date | None) -> None:
    if after is not None and before is not None and after > before:
        raise Unprocessable(
            f"after ({after}) is later than before ({before})",
            errors=[{"loc": ["query", "before"], "msg": "must be on or after `after`"}],
        )


def filtered(statement: _S, filters: ScheduleFilters) -> _S:
    """Apply the attribute filters (not the date window) as WHERE clauses."""
    if filters.origin:
        statement = statement.where(func.lower(col(Cable.origin)) == filters.origin.lower())
    if filters.classification:
        statement = statement.where(col(Cable.classification) == filters.classification)
    if filters.status:
        statement = statement.where(col(Cable.status) == filters.status)
    if filters.tag:
        # EXISTS probes the (cable_id, tag) primary key for the rows of the date range only;
        # `id IN (SELECT ...)` would build the whole tag's id list (again per summary period).
        tagged = exists().where(
            col(CableTag.cable_id) == col(Cable.id), col(CableTag.tag) == filters.tag.upper()
        )
        statement = statement.where(tagged)
    return statement


def _visible(principal: Principal, column: Any) -> ColumnElement[Any]:
    """`column` when the caller may read the cable's header, else NULL (in SQL)."""
    levels = readable_levels(principal)
    return case((col(Cable.classification).in_(levels), column), else_=None)


def _item_columns(principal: Principal) -> Select[Any]:
    return select(
        col(Cable.ref_id),
        _visible(principal, col(Cable.subject)).label("subject"),
        col(Cable.origin),
        col(Cable.classification),
        col(Cable.status),
        col(Cable.declassify_on),
        _visible(principal, col(Cable.declassify_basis)).label("declassify_basis"),
    )


def page_statement(statement: Select[Any], *, limit: int, cursor: str | None) -> Select[Any]:
    """`statement` from the keyset position in `cursor` on, in schedule order, `limit` + 1
    rows (the extra row tells whether there is a next page)."""
    key = decode_cursor(cursor, fields=("d", "r"))
    if key is not None:
        try:
            last_day, last_ref = date.fromisoformat(str(key["d"])), str(key["r"])
        except ValueError:
            raise BadRequest("cursor is not one this service issued") from None
        on = col(Cable.declassify_on)
        statement = statement.where(
            and_(on >= last_day, or_(on > last_day, col(Cable.ref_id) > last_ref))
        )
    return statement.order_by(col(Cable.declassify_on), col(Cable.ref_id)).limit(limit + 1)


def _page(
    session: Session,
    statement: Select[Any],
    *,
    today: date,
    limit: int,
    cursor: str | None,
) -> tuple[list[DueItem], str | None]:
    statement = page_statement(statement, limit=limit, cursor=cursor)
    rows = session.execute(statement).all()
    items = [
        DueItem(
            ref_id=row.ref_id,
            subject=row.subject,
            origin=row.origin,
            classification=row.classification,
            status=row.status,
            declassify_on=row.declassify_on,
            declassify_basis=row.declassify_basis,
            days_remaining=days_remaining(row.declassify_on, today=today),
        )
        for row in rows[:limit]
    ]
    next_cursor = None
    if len(rows) > limit:
        last = items[-1]
        next_cursor = encode_cursor({"d": last.declassify_on.isoformat(), "r": last.ref_id})
    return items, next_cursor


def list_due(
    session: Session,
    *,
    principal: Principal,
    filters: ScheduleFilters,
    today: date,
    limit: int,
    cursor: str | None = None,
) -> tuple[list[DueItem], str | None]:
    """A page of cables whose `declassify_on` falls in the due window (see `due_window`),
    by date then ref_id, and the cursor of the next page. Raises Unprocessable when
    `after` > `before`, BadRequest on a foreign cursor."""
    statement = due_statement(principal=principal, filters=filters, today=today)
    return _page(session, statement, today=today, limit=limit, cursor=cursor)


def due_statement(*, principal: Principal, filters: ScheduleFilters, today: date) -> Select[Any]:
    """The due query before paging (see `page_statement`); Unprocessable on a bad window."""
    after, before = due_window(filters, today=today)
    on = col(Cable.declassify_on)
    return filtered(_item_columns(principal), filters).where(on >= after, on <= before)


def list_overdue(
    session: Session,
    *,
    principal: Principal,
    filters: ScheduleFilters,
    today: date,
    limit: int,
    cursor: str | None = None,
) -> tuple[list[DueItem], str | None]:
    """A page of overdue cables: `declassify_on` before `today` and status not `released`
    (within `after` .. `before` when given), oldest first, then by ref_id."""
    check_window(filters)
    on = col(Cable.declassify_on)
    statement = filtered(_item_columns(principal), filters).where(
        on < today, col(Cable.status) != CableStatus.released.value
    )
    if filters.after:
        statement = statement.where(on >= filters.after)
    if filters.before:
        statement = statement.where(on <= filters.before)
    return _page(session, statement, today=today, limit=limit, cursor=cursor)


def scheduled(filters: ScheduleFilters) -> list[ColumnElement[bool]]:
    """The window of summaries and the calendar: every scheduled cable unless bounded."""
    check_window(filters)
    on = col(Cable.declassify_on)
    clauses: list[ColumnElement[bool]] = [on.is_not(None)]
    if filters.after:
        clauses.append(on >= filters.after)
    if filters.before:
        clauses.append(on <= filters.before)
    return clauses


def calendar_days(
    session: Session, *, filters: ScheduleFilters, ref_limit: int
) -> list[CalendarDay]:
    """One entry per date with scheduled cables matching `filters`: the date, how many, and
    the first `ref_limit` reference ids of the day (a window function in SQL)."""
    on = cast("ColumnElement[date]", Cable.declassify_on)
    counts = filtered(select(on.label("day"), func.count().label("n")), filters)
    counts = counts.where(*scheduled(filters)).group_by(on).order_by(on)
    rank = func.row_number().over(partition_by=on, order_by=col(Cable.ref_id)).label("rank")
    ranked = filtered(select(on.label("day"), col(Cable.ref_id), rank), filters)
    ranked_sq = ranked.where(*scheduled(filters)).subquery()
    firsts = (
        select(ranked_sq.c.day, ranked_sq.c.ref_id)
        .where(ranked_sq.c.rank <= ref_limit)
        .order_by(ranked_sq.c.day, ranked_sq.c.ref_id)
    )
    refs: dict[date, list[str]] = {}
    for row in session.execute(firsts):
        refs.setdefault(row.day, []).append(row.ref_id)
    return [
        CalendarDay(day=row.day, count=int(row.n), ref_ids=tuple(refs.get(row.day, ())))
        for row in session.execute(counts)
    ]
