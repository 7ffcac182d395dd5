"""The date-time group (``R 200753Z DEC 07``): when the cable was sent, in UTC.

Invariants: ``find_dtg`` looks only at line starts inside the region it is
given (the routing header), accepts the precedence forms seen in the corpus
(``R``, ``P``, ``O``, ``Z``, ``O R``, ``P R``, a zero for ``O``, or none) and
returns an aware UTC ``datetime`` or ``None`` with a warning when the group is
impossible (``321260Z``). Two-digit years take the century that puts them
nearest the metadata date when there is one, else 1960-2059.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime

from .lines import search_line

__all__ = ["Dtg", "find_dtg", "full_year"]

_DTG_BODY = (
    r"[ \t]*(?:[A-Z0](?:[ \t]+[A-Z])?[ \t]+)?"
    r"(?P<day>\d{2})(?P<hour>\d{2})(?P<minute>\d{2})Z[ \t]+"
    r"(?P<mon>[A-Za-z]{3})[ \t]+(?P<year>\d{2}(?:\d{2})?)(?!\d)"
)
_DTG_FIRST = re.compile(_DTG_BODY)
_DTG_NL = re.compile("\n" + _DTG_BODY)
_MONTHS = {
    m: i
    for i, m in enumerate(
        ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"), 1
    )
}
_PIVOT = 60


@dataclass(slots=True)  # not frozen: built for every cable, never changed
class Dtg:
    """A date-time group as found: ``sent_at`` is ``None`` when it is impossible."""

    written: str
    sent_at: datetime | None
    year: int
    start: int
    end: int
    warning: str | None


def full_year(two_digits: int, near: date | None = None) -> int:
    """The four-digit year for ``two_digits``: nearest ``near``'s year, else 1960-2059."""
    if near is not None:
        best = 1900 + two_digits
        for century in (2000, 2100, 1800):  # the first nearest wins a tie, as with ``min``
            year = century + two_digits
            if abs(year - near.year) < abs(best - near.year):
                best = year
        return best
    return (1900 if two_digits >= _PIVOT else 2000) + two_digits


def find_dtg(text: str, start: int, end: int, *, near: date | None = None) -> Dtg | None:
    """The first date-time group at a line start in ``text[start:end]``."""
    m = search_line(_DTG_FIRST, _DTG_NL, text, start, end)
    if m is None:
        return None
    written = " ".join(m.group(0).split())
    begin = m.start() + (text[m.start()] == "\n")
    raw_year = m.group("year")
    year = int(raw_year) if len(raw_year) == 4 else full_year(int(raw_year), near)
    month = _MONTHS.get(m.group("mon").upper())
    sent_at: datetime | None = None
    warning: str | None = None
    if month is None:
        warning = f"date-time group '{written}' has no month"
    else:
        try:
            sent_at = datetime(
                year,
                month,
                int(m.group("day")),
                int(m.group("hour")),
                int(m.group("minute")),
                tzinfo=UTC,
            )
        except ValueError:
            warning = f"date-time group '{written}' is not a real time"
    return Dtg(written, sent_at, year, begin, m.end(), warning)
