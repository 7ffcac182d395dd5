"""The declassification instruction of a cable's E.O. line, parsed into a ``Decl``.

PURE module: no database, no web framework, no clock.

Invariants:

* ``parse_decl`` never raises and never invents a value: text it cannot read
  becomes ``Decl(kind=UNREADABLE, text=<as written>)`` with a warning, and the
  schedule then applies the missing-instruction rule.
* A ``Decl`` of kind ``date`` always has a ``date``; ``exemption`` always has at
  least one code; ``event`` and ``unreadable`` keep the text as written
  (whitespace collapsed); ``Decl.from_json(d.as_json()) == d``.
* Two-digit years take the century that puts the date 0-30 years after the
  cable's date (DOMAIN.md section 1); the nearest century when none does;
  without a cable date, 00-59 are 20xx and 60-99 19xx (``TWO_DIGIT_PIVOT``).
* Month/day order is always US (month first); a date that is impossible in
  that order (``13/45/2010``, ``19/12/2017``) is unreadable, not swapped.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

__all__ = ["TWO_DIGIT_PIVOT", "Decl", "DeclKind", "parse_decl"]

TWO_DIGIT_PIVOT = 60
"""Without a cable date, two-digit years below this are 20xx, the others 19xx."""


class DeclKind(StrEnum):
    """What the declassification part of the E.O. line says."""

    DATE = "date"
    EXEMPTION = "exemption"
    OADR = "oadr"
    EVENT = "event"
    UNREADABLE = "unreadable"
    NOT_APPLICABLE = "not_applicable"


@dataclass(frozen=True, slots=True)
class Decl:
    """A parsed declassification instruction.

    ``codes`` holds exemption and schedule codes as normalised (``X1``, ``25X1``,
    ``50X1-HUM``, ``75X``, and the old orders' ``GDS``, ``NGDS``, ``XGDS-2``).
    ``text`` holds the wording for ``event`` and ``unreadable``, ``MR`` for a
    ``DECL: MR`` (kind ``oadr``), and for a ``date`` that records a past
    declassification (``DECLASSIFIED JUNE 21, 2006``) rather than an instruction.
    """

    kind: DeclKind
    date: date | None = None
    codes: tuple[str, ...] = ()
    text: str | None = None

    def as_json(self) -> dict[str, object]:
        """The API shape, e.g. ``{"kind": "date", "date": "2017-12-19"}``.

        ``date``, ``codes`` and ``text`` appear only where they carry a value
        (``codes`` always for ``exemption``).
        """
        out: dict[str, object] = {"kind": self.kind.value}
        if self.kind is DeclKind.EXEMPTION or self.codes:
            out["codes"] = list(self.codes)
        if self.date is not None:
            out["date"] = self.date.isoformat()
        if self.text is not None:
            out["text"] = self.text
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> Decl:
        """Inverse of ``as_json``; raises ``ValueError`` on a malformed object."""
        kind = DeclKind(str(data["kind"]))
        raw_date = data.get("date")
        raw_codes = data.get("codes", [])
        raw_text = data.get("text")
        if not isinstance(raw_codes, list | tuple) or not all(
            isinstance(c, str) for c in raw_codes
        ):
            raise ValueError("decl codes must be a list of strings")
        if raw_text is not None and not isinstance(raw_text, str):
            raise ValueError("decl text must be a string")
        return cls(
            kind=kind,
            date=None if raw_date is None else date.fromisoformat(str(raw_date)),
            codes=tuple(raw_codes),
            text=raw_text,
        )


# --- dates --------------------------------------------------------------------------

_MONTHS = {
    name: number
    for number, name in enumerate(
        ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"), 1
    )
}
_NUMERIC_DATE = re.compile(r"(?<![\d/])(\d{1,4})\s*([/.\-])\s*(\d{1,3})\s*\2\s*(\d{1,4})(?![\d/])")
_COMPACT_DATE = re.compile(r"(?<!\d)((?:19|20)\d{2})(\d{2})(\d{2})(?!\d)")
_WORD_DATE = re.compile(
    r"\b([A-Z]{3})[A-Z]*\.?\s+(\d{1,2}),?\s+(\d{4})\b|\b(\d{1,2})\s+([A-Z]{3})[A-Z]*\.?,?\s+(\d{4})\b"
)


@dataclass(frozen=True, slots=True)
class _DateFind:
    value: date | None  # None: a date was written but is impossible
    written: str
    start: int
    end: int
    malformed: bool = False


def _full_year(year: int, digits: int, cable_date: date | None) -> int:
    if digits > 2:
        return year
    if cable_date is None:
        return 2000 + year if year < TWO_DIGIT_PIVOT else 1900 + year
    candidates = [c * 100 + year for c in (18, 19, 20, 21)]
    fitting = [y for y in candidates if 0 <= y - cable_date.year <= 30]
    if fitting:
        return fitting[0]
    return min(candidates, key=lambda y: abs(y - cable_date.year))


def _make_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _find_date(text: str, cable_date: date | None) -> _DateFind | None:
    """The first date written in ``text`` (upper-cased), in any supported form."""
    m = _NUMERIC_DATE.search(text)
    if m:
        a, b, c = m.group(1), m.group(3), m.group(4)
        malformed = False
        if len(a) == 3 and a.startswith("0"):  # "011/2/2019": a stray leading zero
            a, malformed = a[1:], True
        if len(a) == 4:  # 2020/02/23, 2019-02-12
            value = _make_date(int(a), int(b), int(c)) if len(c) <= 2 else None
        elif len(a) <= 2 and len(b) <= 2 and len(c) in (2, 4):
            year = _full_year(int(c), len(c), cable_date)
            value = _make_date(year, int(a), int(b))
        else:
            value = None
        return _DateFind(value, m.group(0), m.start(), m.end(), malformed)
    m = _COMPACT_DATE.search(text)
    if m:
        value = _make_date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        return _DateFind(value, m.group(0), m.start(), m.end())
    m = _WORD_DATE.search(text)
    if m:
        mon, day_w, year_w = (m.group(1), m.group(2), m.group(3))
        if mon is None:
            mon, day_w, year_w = m.group(5), m.group(4), m.group(6)
        month = _MONTHS.get(mon)
        if month is not None:
            value = _make_date(int(year_w), month, int(day_w))
            return _DateFind(value, m.group(0), m.start(), m.end())
    return None


# --- the instruction -------------------------------------------------------------------

_JUNK = re.compile(r"<[^>]*>|\\\s*$|&#x000A;", re.IGNORECASE)
_CUT = re.compile(r"\s(?:TAGS?|TAS|TABS|TGS|TAGES|SUBJECT|SUBJ)\s*[:;,]?(?:\s|$).*$", re.I | re.S)
_LABEL = re.compile(r"^(?:DECL[A-Z]*|DECLASSIFY(?:\s+ON)?)\s*[:.;]?\s*", re.IGNORECASE)
_NA = re.compile(r"^N\s*/?\s*A\b\.?")
_DECLASSIFIED = re.compile(r"\bDECLASSIFIED\b")
_DOWNGRADE = re.compile(r"^(?:DNG|DOWNGRADE)\b")
_OADR = re.compile(r"^(?:OADR|ORIGINATING AGENCY'?S DETERMINATION REQUIRED)\b")
_MR = re.compile(r"^(?:MR|MANUAL REVIEW)\b")
_OLD_SCHEDULE = re.compile(r"^(?:(?P<gds>GDS|GES)|(?P<xgds>(?:N|X)GDS)(?:[\s\-]*(?P<n>[1-4]))?)\b")
_CODE = re.compile(
    r"\b(?:1\.6\s*X(?P<x6>[1-8])|X(?P<x>[1-8])|25X(?P<x25>[1-9])(?P<hum>-HUM(?:AN)?)?"
    r"|50X(?P<x50>[1-9])(?:-(?P<x50s>HUM|WMD))?|(?P<x75>75X))\b"
)
_REDACTED = re.compile(r"^X{4,}$")
_WORD = re.compile(r"[A-Z]{2,}")
_DATE_LEAD_INS = frozenset({"", "ON", "DATE"})


def _clean(raw: str) -> str:
    text = _JUNK.sub(" ", raw.replace("\r", " "))
    text = " ".join(text.split())
    text = _CUT.sub("", " " + text).strip()
    return text.lstrip(":;.- ").strip()


def _codes(text: str) -> list[str]:
    out: list[str] = []
    for m in _CODE.finditer(text):
        if m.group("x6") or m.group("x"):
            code = f"X{m.group('x6') or m.group('x')}"
        elif m.group("x25"):
            code = f"25X{m.group('x25')}" + ("-HUMAN" if m.group("hum") else "")
        elif m.group("x50"):
            code = f"50X{m.group('x50')}" + (f"-{m.group('x50s')}" if m.group("x50s") else "")
        else:
            code = "75X"
        if code not in out:
            out.append(code)
    return out


def _date_decl(found: _DateFind, written: str, text: str | None = None) -> tuple[Decl, list[str]]:
    if found.value is None:
        return Decl(DeclKind.UNREADABLE, text=written), [
            f"impossible DECL date '{found.written}': missing-instruction rule applies"
        ]
    warnings = []
    if found.malformed:
        warnings.append(f"malformed DECL date '{found.written}' read as {found.value}")
    return Decl(DeclKind.DATE, date=found.value, text=text), warnings


def parse_decl(raw: str, *, cable_date: date | None) -> tuple[Decl, list[str]]:
    """Parse what follows the E.O. number on the E.O. line.

    Forms (case-insensitive, with or without ``DECL:``/``Declassify on``):

    * a date (``12/19/2017``, ``6/30/08``, ``2020/02/23``, ``2019-02-12``) -> ``date``;
    * ``N/A``, ``NA`` -> ``not_applicable``;
    * ``OADR`` -> ``oadr``; ``MR`` (multiple sources / manual review) -> ``oadr``
      with ``text="MR"``;
    * ``X1, X5``, ``1.6X1`` (read as ``X1``), ``25X1`` (with an optional date),
      ``50X1-HUM``, ``75X`` -> ``exemption``;
    * old orders: ``GDS <date>`` (E.O. 12065) -> ``date``; a bare ``GDS`` (E.O.
      11652) -> ``exemption`` ``("GDS",)``; ``NGDS``/``XGDS`` -> ``exemption``;
    * ``AS AMENDED; DECLASSIFIED JUNE 21, 2006``, ``DECLASSIFIED BY NARA
      6/30/2005`` -> ``date`` of that declassification, ``text`` as written;
    * ``DNG: CO 10/18/2029`` (a downgrade, no declassification) -> ``unreadable``;
    * other words after a ``DECL`` label (``TEN YEARS AFTER KOREAN UNIFICATION``)
      -> ``event``; redactions (``XXXX``), impossible dates and anything else ->
      ``unreadable``.

    Trailing ``TAGS:``/``SUBJECT:`` text, ``<br>`` and a trailing backslash are
    ignored. Returns the ``Decl`` and short warnings; never raises.
    """
    text = _clean(raw)
    upper = text.upper()
    if not upper:
        return Decl(DeclKind.UNREADABLE, text=""), ["no declassification instruction"]

    if _DECLASSIFIED.search(upper):
        found = _find_date(upper, cable_date)
        if found is None:
            return Decl(DeclKind.UNREADABLE, text=text), ["declassified, date unreadable"]
        decl, warnings = _date_decl(found, text, text=_LABEL.sub("", text))
        if decl.kind is DeclKind.DATE:
            warnings.append(f"already declassified on {decl.date}")
        return decl, warnings

    label = _LABEL.match(text)
    rest_written = text[label.end() :] if label else text
    rest = rest_written.upper()
    if not rest:
        return Decl(DeclKind.UNREADABLE, text=text), ["DECL label without an instruction"]

    if _NA.match(rest):
        return Decl(DeclKind.NOT_APPLICABLE), []
    if _DOWNGRADE.match(rest):
        return Decl(DeclKind.UNREADABLE, text=text), [
            f"'{text}' is a downgrade, not a declassification instruction"
        ]
    if _OADR.match(rest):
        return Decl(DeclKind.OADR), []
    if _MR.match(rest):
        return Decl(DeclKind.OADR, text="MR"), []
    old = _OLD_SCHEDULE.match(rest)
    if old:
        if old.group("xgds"):
            code = old.group("xgds") + (f"-{old.group('n')}" if old.group("n") else "")
            return Decl(DeclKind.EXEMPTION, codes=(code,)), []
        found = _find_date(rest, cable_date)
        warnings = [] if old.group("gds") == "GDS" else [f"'{old.group('gds')}' read as GDS"]
        if found is None:
            return Decl(DeclKind.EXEMPTION, codes=("GDS",)), warnings
        decl, more = _date_decl(found, text)
        return decl, warnings + more
    codes = _codes(rest)
    if codes and _CODE.match(rest):
        found = _find_date(_CODE.sub(" ", rest), cable_date)
        day = found.value if found is not None else None
        warnings = []
        if found is not None and found.value is None:
            warnings.append(f"impossible date '{found.written}' after exemption codes ignored")
        if "25X1-HUMAN" in codes:
            warnings.append("25X1-human is no longer authorized; 50X1-HUM replaces it")
        return Decl(DeclKind.EXEMPTION, date=day, codes=tuple(codes)), warnings
    found = _find_date(rest, cable_date)
    if found is not None and rest[: found.start].strip(" :") in _DATE_LEAD_INS:
        return _date_decl(found, text)
    if _REDACTED.match(rest.replace(" ", "")):
        return Decl(DeclKind.UNREADABLE, text=text), ["declassification instruction redacted"]
    if label and _WORD.search(rest) and found is None:
        return Decl(DeclKind.EVENT, text=rest_written), []
    return Decl(DeclKind.UNREADABLE, text=text), [f"unreadable declassification '{text}'"]
