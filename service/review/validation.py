"""Checking a decision against the portion it is made on: spans and exemption codes.

PURE module: no database, no web framework; "today" is an argument.

Invariants of a `CheckedDecision` (what gets stored):

* `release` has no spans and no codes; `withhold` has codes and no spans; `refer` names
  an agency and has no spans; `redact` has 1..`MAX_SPANS` spans and no decision codes.
* Spans are half-open character offsets (Python `str` indices, i.e. Unicode code points)
  with `0 <= start < end <= len(text)`, sorted, and never overlapping (they may touch).
* Every span of a redaction carries at least one code: its own, or else the decision's
  `exemptions`.
* Every code is canonical (`markings.normalise_code`) and fits the cable's age
  (`markings.check_codes`); duplicates are dropped, order is kept.

`check_decision` reports every problem at once, each with the request location it is
about, so a client can fix a whole request in one go.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from service.markings import check_codes, normalise_code

MAX_SPANS = 200
DECISION_ACTIONS = ("release", "redact", "withhold", "refer")
Loc = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class SpanInput:
    start: int
    end: int
    codes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class DecisionInput:
    action: str
    spans: tuple[SpanInput, ...] = ()
    codes: tuple[str, ...] = ()
    refer_to: str | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class CheckedSpan:
    start: int
    end: int
    codes: tuple[str, ...]

    def as_json(self) -> dict[str, object]:
        return {"start": self.start, "end": self.end, "codes": list(self.codes)}


@dataclass(frozen=True, slots=True)
class CheckedDecision:
    action: str
    spans: tuple[CheckedSpan, ...]
    codes: tuple[str, ...]
    refer_to: str | None
    note: str | None


@dataclass(frozen=True, slots=True)
class Problem:
    loc: Loc
    msg: str


class DecisionProblems(Exception):
    """The decision cannot be stored; `problems` says every reason and where."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(problem.msg for problem in self.problems))


@dataclass(frozen=True, slots=True)
class CableAge:
    """What decides which exemption codes fit (DOMAIN.md section 5)."""

    cable_date: date | None
    declassify_on: date | None
    today: date


def canonical_codes(
    codes: Sequence[str], *, age: CableAge, loc: Loc, problems: list[Problem]
) -> tuple[str, ...]:
    """The canonical spelling of `codes`, appending a `Problem` for each that is unknown
    or does not fit the cable's age (the message names the codes that fit)."""
    found = check_codes(
        codes, cable_date=age.cable_date, declassify_on=age.declassify_on, today=age.today
    )
    problems.extend(Problem(loc, message) for message in found)
    normal = (normalise_code(code) for code in codes)
    return tuple(dict.fromkeys(code for code in normal if code is not None))


def _not_allowed(inp: DecisionInput, problems: list[Problem]) -> None:
    action = inp.action
    if action != "redact" and inp.spans:
        problems.append(
            Problem(("body", "redactions"), f"{action} takes no redactions (use redact)")
        )
    if action == "release" and inp.codes:
        problems.append(
            Problem(("body", "exemptions"), "release takes no exemptions (use redact or withhold)")
        )
    if action != "refer" and inp.refer_to is not None:
        problems.append(Problem(("body", "refer_to"), f"{action} takes no refer_to (use refer)"))


def _check_spans(
    inp: DecisionInput, *, text_length: int, age: CableAge, problems: list[Problem]
) -> tuple[CheckedSpan, ...]:
    if not inp.spans:
        problems.append(Problem(("body", "redactions"), "redact needs at least one redaction span"))
        return ()
    if len(inp.spans) > MAX_SPANS:
        problems.append(
            Problem(("body", "redactions"), f"at most {MAX_SPANS} redactions per decision")
        )
        return ()
    checked: list[tuple[int, CheckedSpan]] = []
    for index, span in enumerate(inp.spans):
        loc: Loc = ("body", "redactions", index)
        if span.start < 0:
            problems.append(Problem((*loc, "start"), "start must be 0 or more"))
        if span.end <= span.start:
            problems.append(
                Problem((*loc, "end"), f"end ({span.end}) must be after start ({span.start})")
            )
        if span.end > text_length:
            problems.append(
                Problem(
                    (*loc, "end"),
                    f"end ({span.end}) is past the end of the portion text "
                    f"({text_length} characters)",
                )
            )
        raw_codes = span.codes or inp.codes
        if not raw_codes:
            problems.append(Problem((*loc, "exemption"), "each redaction needs an exemption code"))
        codes = canonical_codes(raw_codes, age=age, loc=(*loc, "exemption"), problems=problems)
        checked.append((index, CheckedSpan(span.start, span.end, codes)))
    checked.sort(key=lambda item: (item[1].start, item[1].end))
    reach: CheckedSpan | None = None  # the span reaching furthest so far
    for index, item in checked:
        if item.end <= item.start:
            continue  # already reported as inverted or empty
        if reach is not None and item.start < reach.end:
            problems.append(
                Problem(
                    ("body", "redactions", index),
                    f"[{item.start}, {item.end}) overlaps [{reach.start}, {reach.end})",
                )
            )
        if reach is None or item.end > reach.end:
            reach = item
    return tuple(item for _, item in checked)


def check_decision(inp: DecisionInput, *, text_length: int, age: CableAge) -> CheckedDecision:
    """The decision as it will be stored, or `DecisionProblems` listing every problem."""
    problems: list[Problem] = []
    if inp.action not in DECISION_ACTIONS:
        raise DecisionProblems(
            [Problem(("body", "action"), f"action must be one of {', '.join(DECISION_ACTIONS)}")]
        )
    _not_allowed(inp, problems)
    spans: tuple[CheckedSpan, ...] = ()
    codes: tuple[str, ...] = ()
    if inp.action == "redact":
        spans = _check_spans(inp, text_length=text_length, age=age, problems=problems)
    elif inp.action != "release":
        if inp.action == "withhold" and not inp.codes:
            problems.append(Problem(("body", "exemptions"), "withhold needs an exemption code"))
        codes = canonical_codes(inp.codes, age=age, loc=("body", "exemptions"), problems=problems)
    refer_to = (inp.refer_to or "").strip() or None
    if inp.action == "refer" and refer_to is None:
        problems.append(Problem(("body", "refer_to"), "refer needs the agency to refer to"))
    if problems:
        raise DecisionProblems(problems)
    note = (inp.note or "").strip() or None
    return CheckedDecision(inp.action, spans, codes, refer_to, note)
