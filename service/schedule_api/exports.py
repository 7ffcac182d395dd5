"""CSV and iCalendar renderings of the schedule, for the people who plan the work.

CSV (RFC 4180, UTF-8, CRLF, header row first): the columns are `CSV_COLUMNS`, one row per
cable in the order of the JSON pages. Text cells that a spreadsheet would read as a formula
(starting with `=`, `+`, `-`, `@`, tab or CR) are prefixed with `'` (OWASP CSV injection).
Rows are produced in batches of `BATCH` from short read transactions, so an export of any
size streams in bounded memory.

iCalendar (RFC 5545): one all-day VEVENT per date with scheduled cables; SUMMARY gives the
count, DESCRIPTION the count and the reference ids (at most `REF_LIMIT`, then "and N
more"). UIDs are `declass-due-YYYYMMDD-<filter hash>@declass`: stable for the same date and
filters, so a subscribed calendar updates its events instead of duplicating them.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import Engine
from sqlmodel import Session

from service.db import unit_of_work
from service.schedule_api.service import CalendarDay, DueItem, ScheduleFilters

CSV_COLUMNS = (
    "ref_id",
    "declassify_on",
    "days_remaining",
    "classification",
    "origin",
    "status",
    "subject",
    "declassify_basis",
)
BATCH = 1000
REF_LIMIT = 200
PRODID = "-//Declass//Declassification schedule//EN"
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

PageFetcher = Callable[[Session, str | None], tuple[list[DueItem], str | None]]


def _cell(value: object) -> str:
    if value is None:
        return ""
    text = str(value)
    return "'" + text if isinstance(value, str) and text.startswith(_FORMULA_STARTS) else text


def csv_rows(items: Iterable[DueItem]) -> Iterator[str]:
    """The CSV text, header first, one chunk per row."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")

    def flush(row: Iterable[object]) -> str:
        writer.writerow(row)
        chunk = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return chunk

    yield flush(CSV_COLUMNS)
    for item in items:
        yield flush(_cell(getattr(item, column)) for column in CSV_COLUMNS)


def all_items(
    engine: Engine, fetch: PageFetcher, *, first_cursor: str | None = None
) -> Iterator[DueItem]:
    """Every item of a paginated query, one short read transaction per batch."""
    cursor = first_cursor
    while True:
        with unit_of_work(engine, write=False) as session:
            items, cursor = fetch(session, cursor)
        yield from items
        if cursor is None:
            return


# --- iCalendar ------------------------------------------------------------------------


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def _fold(line: str) -> str:
    """Fold a content line at 75 octets (RFC 5545 3.1), never inside a UTF-8 sequence."""
    out: list[str] = []
    current, size = "", 0
    for char in line:
        width = len(char.encode())
        if size + width > 75:
            out.append(current)
            current, size = " ", 1
        current += char
        size += width
    out.append(current)
    return "\r\n".join(out)


def filters_hash(filters: ScheduleFilters) -> str:
    """A short stable digest of the filters, part of every UID of the feed."""
    parts = [
        filters.after.isoformat() if filters.after else "",
        filters.before.isoformat() if filters.before else "",
        (filters.origin or "").lower(),
        filters.classification or "",
        (filters.tag or "").upper(),
        filters.status or "",
    ]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:12]


def _event(day: CalendarDay, *, stamp: str, uid_suffix: str) -> list[str]:
    noun = "cable" if day.count == 1 else "cables"
    refs = list(day.ref_ids)
    more = day.count - len(refs)
    description = f"{day.count} {noun} reach their declassification date on {day.day}:\n"
    description += "\n".join(refs)
    if more > 0:
        description += f"\nand {more} more"
    return [
        "BEGIN:VEVENT",
        f"UID:declass-due-{day.day:%Y%m%d}-{uid_suffix}@declass",
        f"DTSTAMP:{stamp}",
        f"DTSTART;VALUE=DATE:{day.day:%Y%m%d}",
        f"DTEND;VALUE=DATE:{day.day + timedelta(days=1):%Y%m%d}",
        f"SUMMARY:{_escape(f'{day.count} {noun} due for declassification')}",
        f"DESCRIPTION:{_escape(description)}",
        "TRANSP:TRANSPARENT",
        "END:VEVENT",
    ]


def render_calendar(days: Iterable[CalendarDay], *, today: date, filters: ScheduleFilters) -> str:
    """The feed as one iCalendar text (CRLF line ends, lines folded). `filters` are the
    ones the subscriber asked for (before defaults, which move daily), hashed into the UIDs.
    DTSTAMP is midnight UTC of `today` (the injected clock): same data, same bytes."""
    stamp = datetime.combine(today, time(0), UTC).strftime("%Y%m%dT%H%M%SZ")
    suffix = filters_hash(filters)
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "X-WR-CALNAME:Declassification schedule",
    ]
    for day in days:
        lines.extend(_event(day, stamp=stamp, uid_suffix=suffix))
    lines.append("END:VCALENDAR")
    return "".join(_fold(line) + "\r\n" for line in lines)
