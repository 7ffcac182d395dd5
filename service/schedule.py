"""The declassification date engine: ``declassify_on`` and the rule behind it.

PURE module: no database, no web framework; "now" only through an injected
``Clock`` or an explicit ``today`` argument. Parsing the E.O. line lives in
``service.decl`` and is re-exported here (``Decl``, ``DeclKind``, ``parse_decl``).

Invariants (DOMAIN.md section 4; "Y+n" is December 31 of the cable's year + n):

* A ``date`` decl gives exactly that date, whatever else is wrong (warnings only).
* An unclassified cable or ``N/A`` gives ``None``.
* Every other result is Y+n for some n >= 6, or a date written with an exemption
  code that is not before the cable's date, so it is never before the cable's
  date and never decreases when the cable's date moves later.
* A rule that needs the cable's date gives ``None`` when there is none, with a
  warning; ``compute`` never raises.
* ``Schedule.basis`` names the rule, the order in force and the resulting date,
  followed by the warnings, so a supervisor can see why.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Protocol

from service.decl import Decl, DeclKind, parse_decl
from service.markings import Level

__all__ = [
    "Clock",
    "Decl",
    "DeclKind",
    "FixedClock",
    "Regime",
    "Schedule",
    "SystemClock",
    "compute",
    "days_remaining",
    "parse_decl",
    "reason_warnings",
    "regime_for",
    "today",
]


class Regime(StrEnum):
    """The executive order governing classification on the cable's date."""

    PRE_11652 = "pre-11652"  # E.O. 10501 and its amendments
    EO_11652 = "11652"
    EO_12065 = "12065"
    EO_12356 = "12356"
    EO_12958 = "12958"
    EO_12958_AMENDED = "12958-amended"  # as amended by E.O. 13292
    EO_13526 = "13526"

    @property
    def label(self) -> str:
        """Human name, e.g. ``E.O. 12958 as amended``."""
        return _LABELS[self]


_LABELS = {
    Regime.PRE_11652: "before E.O. 11652",
    Regime.EO_11652: "E.O. 11652",
    Regime.EO_12065: "E.O. 12065",
    Regime.EO_12356: "E.O. 12356",
    Regime.EO_12958: "E.O. 12958",
    Regime.EO_12958_AMENDED: "E.O. 12958 as amended",
    Regime.EO_13526: "E.O. 13526",
}

# First day each order governs (DOMAIN.md section 3; 11652 and 12065 by their
# effective dates, 1972-06-01 and 1978-12-01).
_REGIME_STARTS: tuple[tuple[date, Regime], ...] = (
    (date(2010, 6, 27), Regime.EO_13526),
    (date(2003, 9, 22), Regime.EO_12958_AMENDED),
    (date(1995, 10, 14), Regime.EO_12958),
    (date(1982, 4, 2), Regime.EO_12356),
    (date(1978, 12, 1), Regime.EO_12065),
    (date(1972, 6, 1), Regime.EO_11652),
)
OADR_BARRED_FROM = date(1995, 10, 14)
X_CODES_RETIRED_ON = date(2003, 9, 22)
REASONS_14_FROM = date(2003, 3, 25)  # E.O. 13292 signed: 1.4 cites accepted from here


def regime_for(cable_date: date) -> Regime:
    """The order in force on ``cable_date`` (before 1972-06-01: ``PRE_11652``)."""
    for start, regime in _REGIME_STARTS:
        if cable_date >= start:
            return regime
    return Regime.PRE_11652


@dataclass(frozen=True, slots=True)
class Schedule:
    """When a cable is declassified, why, and what looked wrong."""

    declassify_on: date | None
    basis: str
    warnings: tuple[str, ...]


class Clock(Protocol):
    """Source of the current date; inject a ``FixedClock`` in tests."""

    def today(self) -> date: ...


@dataclass(frozen=True, slots=True)
class SystemClock:
    """The real clock: today's date in UTC."""

    def today(self) -> date:
        return datetime.now(UTC).date()


@dataclass(frozen=True, slots=True)
class FixedClock:
    """A clock stopped on ``day``."""

    day: date

    def today(self) -> date:
        return self.day


def today(clock: Clock | None = None) -> date:
    """The current date from ``clock`` (the UTC system clock by default)."""
    return (clock or SystemClock()).today()


def days_remaining(declassify_on: date, *, today: date) -> int:
    """Days from ``today`` to ``declassify_on``; negative when overdue, 0 on the day."""
    return (declassify_on - today).days


# --- reasons -------------------------------------------------------------------------

_REASON = re.compile(r"^1\.([345])\(([a-z])\)(?:\(\d+\))?$")


def _reason_fits(series: str, letter: str, cable_date: date) -> bool:
    if series == "3":
        return date(1982, 4, 2) <= cable_date < OADR_BARRED_FROM
    if series == "5":
        return letter <= "g" and OADR_BARRED_FROM <= cable_date < X_CODES_RETIRED_ON
    return cable_date >= REASONS_14_FROM


def reason_warnings(reasons: Sequence[str], *, cable_date: date | None) -> list[str]:
    """Warnings for reasons that do not fit the order in force on ``cable_date``.

    ``1.3(a)(n)`` fits E.O. 12356 (1982-04-02 to 1995-10-13), ``1.5(a)``-``1.5(g)``
    E.O. 12958 (1995-10-14 to 2003-09-21), ``1.4(a)``-``1.4(h)`` from 2003-03-25
    (we accept 1.4 during the 2003 transition). Nothing is checked without a date.
    """
    out: list[str] = []
    for reason in reasons:
        m = _REASON.match(reason)
        if m is None:
            out.append(f"reason {reason} not recognised")
        elif cable_date is not None and not _reason_fits(m.group(1), m.group(2), cable_date):
            label = regime_for(cable_date).label
            out.append(f"reason {reason} does not fit {label} (cable of {cable_date})")
    return out


# --- the rules -----------------------------------------------------------------------

_RULE_25 = "25-year rule (E.O. 13526 sec. 3.3(a))"
_RULE_50 = "50-year point"
_RULE_75 = "75-year point (E.O. 13526 sec. 3.3(h))"
_GDS_YEARS = {Level.CONFIDENTIAL: 6, Level.SECRET: 8, Level.TOP_SECRET: 10}


@dataclass(frozen=True, slots=True)
class _Result:
    day: date | None
    basis: str
    warnings: tuple[str, ...] = ()


def _year_end(cable_date: date, years: int) -> date:
    return date(min(cable_date.year + years, date.max.year), 12, 31)


def _by_years(what: str, rule: str, years: int, cable_date: date | None) -> _Result:
    """``what``: ``rule`` -> Dec 31 of the cable's year + ``years``."""
    if cable_date is None:
        return _Result(None, f"{what}: {rule}", (f"no cable date: cannot apply {rule}",))
    day = _year_end(cable_date, years)
    return _Result(day, f"{what}: {rule}, cable of {cable_date.year} -> {day}")


def _plus_years(day: date, years: int) -> date:
    if day.year + years > date.max.year:
        return date.max
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # February 29
        return day.replace(year=day.year + years, day=28)


def _date_rule(decl: Decl, cable_date: date | None, order: str) -> _Result:
    assert decl.date is not None
    if decl.text is not None:  # a record of a past declassification
        return _Result(decl.date, f"declassified on {decl.date} ('{decl.text}')")
    warnings: list[str] = []
    if cable_date is not None and decl.date > _plus_years(cable_date, 25):
        warnings.append(f"DECL date {decl.date} is more than 25 years after the cable")
    if cable_date is not None and decl.date < cable_date:
        warnings.append(f"DECL date {decl.date} is before the cable's date {cable_date}")
    suffix = f" ({order})" if order else ""
    return _Result(decl.date, f"DECL date {decl.date}{suffix}", tuple(warnings))


def _code_rule(code: str, decl: Decl, cable_date: date | None, level: Level | None) -> _Result:
    dated = decl.date is not None and (cable_date is None or decl.date >= cable_date)
    if re.fullmatch(r"X[1-8]", code):
        result = _by_years(f"{code} (E.O. 12958 sec. 1.6(d))", _RULE_25, 25, cable_date)
        if cable_date is not None and cable_date >= X_CODES_RETIRED_ON:
            retired = f"X codes were retired on {X_CODES_RETIRED_ON} (E.O. 13292): {code}"
            return _Result(result.day, result.basis, (*result.warnings, retired))
        return result
    if code in {"50X1-HUM", "50X2-WMD", "25X1-HUMAN"}:
        result = _by_years(code, _RULE_75, 75, cable_date)
        if decl.date is None:
            return result
        ignored = f"{code} carries no date: {decl.date} ignored"
        return _Result(result.day, result.basis, (*result.warnings, ignored))
    tier = re.fullmatch(r"(25|50)X[1-9]|75X", code)
    if tier:
        if dated:
            return _Result(decl.date, f"{code} with date {decl.date}")
        years, rule = (50, _RULE_50) if tier.group(1) == "25" else (75, _RULE_75)
        result = _by_years(f"{code} without a date", rule, years, cable_date)
        undated = f"{code} without a date: {rule} used"
        return _Result(result.day, result.basis, (*result.warnings, undated))
    if code == "GDS":
        years = _GDS_YEARS.get(level, 10) if level is not None else 10
        rule = f"E.O. 11652 General Declassification Schedule ({years} full years)"
        return _by_years("GDS", rule, years, cable_date)
    if re.fullmatch(r"[NX]GDS(?:-[1-4])?", code):
        return _by_years(f"{code} (exempt from GDS, indefinite)", _RULE_25, 25, cable_date)
    result = _by_years(f"unknown code {code}", _RULE_25, 25, cable_date)
    return _Result(result.day, result.basis, (*result.warnings, f"unknown DECL code {code}"))


def _exemption_rule(decl: Decl, cable_date: date | None, level: Level | None) -> _Result:
    if not decl.codes:
        result = _by_years("exemption without codes", _RULE_25, 25, cable_date)
        return _Result(result.day, result.basis, (*result.warnings, "exemption without codes"))
    results = [_code_rule(code, decl, cable_date, level) for code in decl.codes]
    warnings = tuple(w for r in results for w in r.warnings)
    if decl.date is not None and cable_date is not None and decl.date < cable_date:
        warnings += (f"exemption date {decl.date} is before the cable's date: ignored",)
    if any(r.day is None for r in results):
        missing = next(r for r in results if r.day is None)
        return _Result(None, missing.basis, warnings)
    chosen = max(results, key=lambda r: r.day or date.min)  # the longest duration wins
    if len(results) > 1:
        return _Result(chosen.day, f"latest of {', '.join(decl.codes)}: {chosen.basis}", warnings)
    return _Result(chosen.day, chosen.basis, warnings)


def _rule(
    decl: Decl | None, cable_date: date | None, level: Level | None, eo: str | None
) -> _Result:
    regime = regime_for(cable_date) if cable_date is not None else None
    order = regime.label if regime is not None else ""
    if decl is None or decl.kind is DeclKind.UNREADABLE:
        what = "no DECL instruction" if decl is None else f"unreadable DECL '{decl.text}'"
        result = _by_years(f"{what} on a classified cable", _RULE_25, 25, cable_date)
        warning = (
            "no declassification instruction"
            if decl is None
            else "unreadable declassification instruction"
        )
        return _Result(result.day, result.basis, (f"{warning}: 25-year rule", *result.warnings))
    if decl.kind is DeclKind.DATE and decl.date is not None:
        return _date_rule(decl, cable_date, order)
    if decl.kind is DeclKind.EVENT:
        result = _by_years(f"event '{decl.text}' cannot be dated", _RULE_25, 25, cable_date)
        warning = f"event cannot be dated: {decl.text}"
        return _Result(result.day, result.basis, (warning, *result.warnings))
    if decl.kind is DeclKind.OADR:
        number = eo or (regime.value if regime is not None else "?")
        what = "OADR" if decl.text is None else f"{decl.text} (indefinite)"
        result = _by_years(f"{what} under E.O. {number}", _RULE_25, 25, cable_date)
        if decl.text is None and cable_date is not None and cable_date >= OADR_BARRED_FROM:
            barred = f"OADR used on or after {OADR_BARRED_FROM} (barred by E.O. 12958)"
            return _Result(result.day, result.basis, (*result.warnings, barred))
        return result
    if decl.kind is DeclKind.EXEMPTION:
        return _exemption_rule(decl, cable_date, level)
    # A date kind without a date (from hand-made JSON) reads as unreadable.
    return _rule(Decl(DeclKind.UNREADABLE, text=str(decl.as_json())), cable_date, level, eo)


def compute(
    decl: Decl | None,
    *,
    cable_date: date | None,
    level: Level | None,
    eo: str | None = None,
    reasons: Sequence[str] = (),
) -> Schedule:
    """Apply the DOMAIN.md section 4 table to one cable.

    ``decl`` is ``None`` when the cable has no E.O. line. ``level`` ``None``
    (classification unknown) is treated as classified, the safe side. ``eo`` is
    the order number as written on the E.O. line (named in OADR bases).
    ``reasons`` (normalised, e.g. ``1.4(b)``) only add warnings. Old orders,
    where DOMAIN.md is silent (docs/domain-decisions.md): a bare ``GDS`` is E.O.
    11652's schedule (Dec 31 of the cable's year + 6 for CONFIDENTIAL, + 8 for
    SECRET, + 10 for TOP SECRET or unknown), ``NGDS``/``XGDS`` are indefinite
    (Y+25); ``25X1-human`` counts as ``50X1-HUM``; ``50X#``/``75X`` with a date
    give that date, without one Y+75. Several codes: the latest date wins.
    """
    warnings = reason_warnings(reasons, cable_date=cable_date)
    if level is Level.UNCLASSIFIED:
        if decl is not None and decl.kind not in {DeclKind.NOT_APPLICABLE, DeclKind.UNREADABLE}:
            warnings.append(f"unclassified cable: DECL {decl.kind.value} ignored")
        return _schedule(None, "unclassified cable: no declassification date", warnings)
    if decl is not None and decl.kind is DeclKind.NOT_APPLICABLE:
        if level is not None:
            warnings.append(f"DECL N/A on a {level.value} cable")
        return _schedule(None, "DECL N/A: no declassification date", warnings)
    result = _rule(decl, cable_date, level, eo)
    return _schedule(result.day, result.basis, [*result.warnings, *warnings])


def _schedule(day: date | None, basis: str, warnings: list[str]) -> Schedule:
    unique = tuple(dict.fromkeys(warnings))
    if unique:
        basis = f"{basis}; warnings: {'; '.join(unique)}"
    return Schedule(day, basis, unique)
