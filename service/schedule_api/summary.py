"""Schedule summaries: counts of scheduled cables by year, month, origin or classification.

Everything is counted by the database. Origin and classification are a plain `GROUP BY`.
Years and months are counted per period with index range counts, in one statement:

1. `bounds`: the first and last `declassify_on` matching the filters (two index probes);
2. `periods`: a recursive CTE of the period starts from the first year (month) to the last;
3. for each period, `count(*)` of the cables with `start <= declassify_on < next start`
   (and the filters): a range count on a `declassify_on` index;
4. periods with no cable are dropped; keys are `YYYY` / `YYYY-MM` (`strftime` on SQLite,
   `to_char` on PostgreSQL, once per period).

Why not `GROUP BY strftime('%Y', declassify_on)`: that evaluates a date function and feeds
a grouping step for every cable (about 130 ms at 250,000 cables on SQLite here), while a
range count lets the database count index entries without decoding them (docs/benchmarks.md,
"Schedule queries"). The tests check exact counts per year and month, with filters.
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import ColumnElement, Date, Select, func, literal_column, select
from sqlalchemy import cast as sql_cast
from sqlmodel import Session

from service.cables.models import Cable
from service.schedule_api.service import GroupBy, ScheduleFilters, SummaryRow, filtered, scheduled


def _trunc(dialect: str, group_by: GroupBy, day: Any) -> ColumnElement[Any]:
    """The first day of the year (month) of `day`."""
    if dialect == "postgresql":
        return sql_cast(func.date_trunc(group_by.value, day), Date)
    return func.date(day, "start of year" if group_by is GroupBy.year else "start of month")


def _next(dialect: str, group_by: GroupBy, start: Any) -> ColumnElement[Any]:
    """The first day of the following year (month)."""
    if dialect == "postgresql":
        return sql_cast(start + literal_column(f"interval '1 {group_by.value}'"), Date)
    return func.date(start, "+1 year" if group_by is GroupBy.year else "+1 month")


def _key(dialect: str, group_by: GroupBy, start: Any) -> ColumnElement[str]:
    if dialect == "postgresql":
        return func.to_char(start, "YYYY" if group_by is GroupBy.year else "YYYY-MM")
    return func.strftime("%Y" if group_by is GroupBy.year else "%Y-%m", start)


def _periods_statement(
    dialect: str, group_by: GroupBy, filters: ScheduleFilters
) -> Select[Any, Any]:
    on = cast("ColumnElement[Any]", Cable.declassify_on)

    def extreme(fn: Any) -> Any:  # one min() or max() alone: an index probe, not a scan
        return filtered(select(fn(on)), filters).where(*scheduled(filters)).scalar_subquery()

    bounds = select(extreme(func.min).label("lo"), extreme(func.max).label("hi")).cte("bounds")
    first = select(_trunc(dialect, group_by, bounds.c.lo).label("start")).where(
        bounds.c.lo.is_not(None)
    )
    periods = first.cte("periods", recursive=True)
    step = _next(dialect, group_by, periods.c.start)
    periods = periods.union_all(
        select(step).select_from(periods, bounds).where(step <= bounds.c.hi)
    )
    in_period = select(func.count()).select_from(Cable.__table__)  # type: ignore[attr-defined]
    in_period = filtered(in_period, filters).where(
        *scheduled(filters), on >= periods.c.start, on < _next(dialect, group_by, periods.c.start)
    )
    counted = (
        select(
            periods.c.start,
            _key(dialect, group_by, periods.c.start).label("key"),
            in_period.correlate(periods).scalar_subquery().label("n"),
        )
        .cte("counted")
        .prefix_with("MATERIALIZED")  # count each period once, not again in `n > 0`
    )
    return select(counted.c.key, counted.c.n).where(counted.c.n > 0).order_by(counted.c.start)


def _per_day_statement(
    dialect: str, group_by: GroupBy, filters: ScheduleFilters
) -> Select[Any, Any]:
    """One pass over the matching cables: counts per `declassify_on`, then per period of
    the day (the date function runs once per distinct day, not once per cable)."""
    on = cast("ColumnElement[Any]", Cable.declassify_on)
    per_day = filtered(select(on.label("day"), func.count().label("n")), filters)
    days = per_day.where(*scheduled(filters)).group_by(on).subquery("per_day")
    start = _trunc(dialect, group_by, days.c.day)
    per_period = select(start.label("start"), func.sum(days.c.n).label("n")).group_by(start)
    periods = per_period.subquery("per_period")
    key = _key(dialect, group_by, periods.c.start)
    return select(key.label("key"), periods.c.n).order_by(periods.c.start)


def summary_statement(
    dialect: str, *, group_by: GroupBy, filters: ScheduleFilters
) -> Select[Any, Any]:
    """The summary query for the database `dialect` ("sqlite" or "postgresql").

    Years and months: range counts per period, unless a filter selects cables that no
    `declassify_on` index can count, where one pass over the selected cables grouped per day
    is cheaper: `tag` (a join), and `origin` on PostgreSQL (matched as `lower(origin)`;
    SQLite counts it from the `(origin, declassify_on)` index, skip-scanning the origins).
    Measured at 50,000 cables: docs/benchmarks.md, "Schedule queries"."""
    if group_by in (GroupBy.year, GroupBy.month):
        if filters.tag or (filters.origin and dialect == "postgresql"):
            return _per_day_statement(dialect, group_by, filters)
        return _periods_statement(dialect, group_by, filters)
    key = cast(
        "ColumnElement[Any]", Cable.origin if group_by is GroupBy.origin else Cable.classification
    )
    statement = filtered(select(key.label("key"), func.count().label("n")), filters)
    statement = statement.where(*scheduled(filters)).group_by(key)
    return statement.order_by(key.is_(None), key)


def summarize(session: Session, *, group_by: GroupBy, filters: ScheduleFilters) -> list[SummaryRow]:
    """Counts of scheduled cables (those with a `declassify_on`) matching `filters`, by the
    year (`YYYY`) or month (`YYYY-MM`) of `declassify_on`, the origin or the classification;
    ordered by key (a missing origin, key null, comes last). Unprocessable when `after` is
    later than `before`."""
    dialect = session.get_bind().dialect.name
    statement = summary_statement(dialect, group_by=group_by, filters=filters)
    return [SummaryRow(key=row.key, count=int(row.n)) for row in session.execute(statement)]
