"""The five metadata lines that precede the telegram in the cablegate layout.

Line 1 reference id, line 2 title (the WikiLeaks subject), line 3 creation
date (``Thu Dec 20 00:00:00 +0100 2007``), line 4 classification, line 5
origin. Raw-text cables have lines 3-5 empty; raw telegrams have none of it.

Invariants: ``read_metadata`` only recognises the block when line 1 is a
reference id and line 3 is a date or empty, so a raw telegram (``VZCZC...``,
a date-time group, a banner) is never mistaken for metadata. ``end`` is the
offset just after line 5's line end; the telegram starts there.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

__all__ = ["REF_ID", "Metadata", "read_metadata"]

REF_ID = re.compile(r"\d{2}[A-Z0-9]*[A-Z][A-Z0-9]*\d")
"""A reference id as WikiLeaks keys cables (``07TOKYO5624``, ``7575LIBREVILLE1895``)."""

_DATE = re.compile(
    r"(?:[A-Za-z]{3}\s+)?(?P<mon>[A-Za-z]{3})\s+(?P<day>\d{1,2})\s+"
    r"\d{1,2}:\d{2}:\d{2}\s+(?:[+-]\d{4}|[A-Z]{3,4})\s+(?P<year>\d{4})"
)
_MONTHS = {
    m: i
    for i, m in enumerate(
        ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"), 1
    )
}
_HEAD = re.compile(r"([^\n]*)\n" * 5)


@dataclass(slots=True)  # not frozen: built for every cable, never changed
class Metadata:
    """The metadata block; fields are ``None`` where the line is empty."""

    ref_id: str
    title: str | None
    created_on: date | None
    classification: str | None
    origin: str | None
    end: int
    warnings: tuple[str, ...]


def _clean(line: str) -> str | None:
    value = " ".join(line.replace("\ufeff", "").split())
    return value or None


def _created_on(value: str | None, m: re.Match[str] | None) -> tuple[date | None, list[str]]:
    """The date of line 3 (``value``) from its ``_DATE`` match ``m``, with a warning
    when it is not understood or not a real date."""
    if value is None:
        return None, []
    month = _MONTHS.get(m.group("mon").upper()) if m else None
    if m is None or month is None:
        return None, [f"metadata date line '{value}' not understood"]
    try:
        return date(int(m.group("year")), month, int(m.group("day"))), []
    except ValueError:
        return None, [f"metadata date line '{value}' is not a real date"]


def looks_like_metadata(text: str) -> bool:
    """True when ``text`` opens with a reference id line (a possibly cut block)."""
    first = text.split("\n", 1)[0]
    return REF_ID.fullmatch(_clean(first) or "") is not None


def read_metadata(text: str) -> Metadata | None:
    """The metadata block at the start of ``text``, or ``None`` when there is none.

    A block cut short (fewer than five complete lines) is not returned; the
    caller reports the cable as having no body.
    """
    m = _HEAD.match(text)
    if m is None:
        return None
    lines = [_clean(m.group(i)) for i in range(1, 6)]
    ref_id = lines[0]
    if ref_id is None or REF_ID.fullmatch(ref_id) is None:
        return None
    date_line = _DATE.fullmatch(lines[2]) if lines[2] is not None else None
    if lines[2] is not None and date_line is None:
        return None
    created_on, warnings = _created_on(lines[2], date_line)
    return Metadata(
        ref_id=ref_id,
        title=lines[1],
        created_on=created_on,
        classification=lines[3],
        origin=lines[4],
        end=m.end(),
        warnings=tuple(warnings),
    )
