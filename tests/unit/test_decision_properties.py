"""Properties of what a decision may cite and cut: exemption codes and redaction spans.

Exemption codes (service/markings.py `check_codes`, used by review/validation.py): every
valid code that fits the cable's age is accepted in any tolerated spelling; anything else
(an unknown code, a code that does not fit the age, `(b)(1)` alone) is refused with a
sentence naming it; nothing raises. Which codes fit is restated here from DOMAIN.md
section 5 and docs/domain-decisions.md: 1.4 while the cable is under 25 or its
declassify_on is ahead, 25X/50X/75X from 20 years on, FOIA codes always, no cable date:
everything.

Spans (review/validation.py `check_decision`): sorted, disjoint (touching allowed),
non-empty spans inside the text are accepted in any order; adding one overlapping,
outside, empty or inverted span is refused with a problem at that span; and the accepted
spans, rendered as a release, leave no character of any span in the output.
"""

from __future__ import annotations

import itertools
from datetime import date

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from service.markings import EXEMPTION_CODES, check_codes, normalise_code
from service.release import (
    PortionAction,
    ReleaseDocument,
    ReleasePortion,
    ReleaseSpan,
    render_json,
    render_text,
)
from service.review.validation import (
    CableAge,
    CheckedSpan,
    DecisionInput,
    DecisionProblems,
    SpanInput,
    check_decision,
)

CLASSIFIED = sorted(c for c in EXEMPTION_CODES if c.startswith("1.4"))
AUTO = sorted(c for c in EXEMPTION_CODES if c[:3] in ("25X", "50X", "75X"))
FOIA = sorted(c for c in EXEMPTION_CODES if c.startswith("(b)"))
assert len(CLASSIFIED) + len(AUTO) + len(FOIA) == len(EXEMPTION_CODES) == 35
NEAR_MISSES = [
    "25X0",
    "25X10",
    "1.4(i)",
    "1.4",
    "(b)(10)",
    "(b)(0)",
    "(b)(7)(G)",
    "b7",
    "50X3-HUM",
    "50X1",
    "75Y",
    "X1",
    "25X",
    "GDS",
    "OADR",
    "",
    " ",
    "1.5(c)",
]


def years(cable_date: date, today: date) -> int:
    before_anniversary = (today.month, today.day) < (cable_date.month, cable_date.day)
    return max(today.year - cable_date.year - before_anniversary, 0)


def fits(code: str, cable_date: date | None, declassify_on: date | None, today: date) -> bool:
    if cable_date is None:
        return True
    if code in CLASSIFIED:
        ahead = declassify_on is not None and today < declassify_on
        return ahead or years(cable_date, today) < 25
    if code in AUTO:
        return years(cable_date, today) >= 20
    return True


@st.composite
def spelling(draw: st.DrawFn, code: str) -> str:
    """`code` as a person might type it: any case, spaces, (b) codes without parentheses."""
    if code.startswith("(b)") and draw(st.booleans()):
        code = code.replace("(", "").replace(")", "")  # (b)(7)(C) -> b7C
    if code.startswith("1.4") and draw(st.booleans()):
        code = code.replace("(", " (")
    if code.startswith("50X") and draw(st.booleans()):
        code = code.replace("-", " ")
    code = "".join(c.upper() if draw(st.booleans()) else c.lower() for c in code)
    return draw(st.sampled_from(["", " ", "  "])) + code + draw(st.sampled_from(["", " "]))


ages = st.tuples(
    st.one_of(st.none(), st.dates(date(1960, 1, 1), date(2030, 12, 31))),
    st.one_of(st.none(), st.dates(date(1960, 1, 1), date(2060, 12, 31))),
    st.dates(date(1990, 1, 1), date(2060, 12, 31)),
)


@given(ages, st.data())
def test_valid_fitting_codes_in_any_spelling_are_accepted(
    age: tuple[date | None, date | None, date], data: st.DataObject
) -> None:
    cable_date, declassify_on, today = age
    fitting = [c for c in sorted(EXEMPTION_CODES) if fits(c, cable_date, declassify_on, today)]
    codes = data.draw(st.lists(st.sampled_from(fitting), min_size=1, max_size=4))
    pairs = [c for c in fitting if c in CLASSIFIED or c in AUTO]
    if "(b)(1)" in codes and not set(codes) & set(pairs):
        assume(pairs)  # a (b)(1) needs a classification code beside it
        codes.append(data.draw(st.sampled_from(pairs)))
    raw = [data.draw(spelling(code)) for code in codes]
    assert [normalise_code(r) for r in raw] == codes
    assert check_codes(raw, cable_date=cable_date, declassify_on=declassify_on, today=today) == []


@given(
    ages,
    st.lists(
        st.one_of(
            st.sampled_from(sorted(EXEMPTION_CODES)),
            st.sampled_from(NEAR_MISSES),
            st.text(max_size=10),
        ),
        max_size=5,
    ),
)
def test_anything_else_is_refused_with_a_reason_naming_it(
    age: tuple[date | None, date | None, date], raw: list[str]
) -> None:
    cable_date, declassify_on, today = age
    problems = check_codes(raw, cable_date=cable_date, declassify_on=declassify_on, today=today)
    assert all(isinstance(p, str) and p for p in problems)
    codes = [normalise_code(r) for r in raw]
    accepted = [c for c in codes if c is not None and fits(c, cable_date, declassify_on, today)]
    for written, code in zip(raw, codes, strict=True):
        if code is None:
            assert any(p.startswith(f"unknown exemption code '{written}'") for p in problems)
        elif code not in accepted:
            assert any(p.startswith(f"{code} does not fit a cable") for p in problems)
    unpaired = "(b)(1)" in accepted and not any(c in CLASSIFIED or c in AUTO for c in accepted)
    assert any(p.startswith("(b)(1) must be paired") for p in problems) == unpaired
    assert (problems == []) == (len(accepted) == len(raw) and not unpaired)


# --- redaction spans -----------------------------------------------------------------------

AGE = CableAge(date(2007, 12, 20), date(2017, 12, 19), date(2026, 11, 29))  # 1.4 fits
SECRET = "BGJKPQSVYZ§€"  # span characters: no marker shares them
RELEASED = "abcdefghijklmnopqrstuvwxyz .,\n"


@st.composite
def valid_spans(draw: st.DrawFn, length: int, min_spans: int = 0) -> list[tuple[int, int]]:
    """Sorted, disjoint (possibly touching), non-empty spans inside [0, length]."""
    bounds = sorted(draw(st.sets(st.integers(0, length), min_size=2 * min_spans, max_size=12)))
    spans = [(a, b) for a, b in itertools.pairwise(bounds) if draw(st.booleans())]
    if not spans and min_spans:
        spans = [(bounds[0], bounds[1])]
    return spans


def redact(spans: list[tuple[int, int]], codes: tuple[str, ...] = ("1.4(b)",)) -> DecisionInput:
    return DecisionInput("redact", tuple(SpanInput(a, b, codes) for a, b in spans))


@given(st.integers(1, 300).flatmap(lambda n: st.tuples(st.just(n), valid_spans(n, 1))), st.data())
def test_valid_spans_in_any_order_are_accepted_sorted(
    case: tuple[int, list[tuple[int, int]]], data: st.DataObject
) -> None:
    length, spans = case
    shuffled = data.draw(st.permutations(spans))
    checked = check_decision(redact(shuffled, ("b1", "1.4 (b)")), text_length=length, age=AGE)
    assert checked.spans == tuple(CheckedSpan(a, b, ("(b)(1)", "1.4(b)")) for a, b in spans)


@st.composite
def bad_span(draw: st.DrawFn, length: int, spans: list[tuple[int, int]]) -> tuple[str, int, int]:
    kinds = ["outside-end", "outside-start", "empty", "inverted"] + (["overlap"] if spans else [])
    kind = draw(st.sampled_from(kinds))
    if kind == "outside-end":
        start = draw(st.integers(0, length))
        return kind, start, draw(st.integers(length + 1, length + 50))
    if kind == "outside-start":
        return kind, draw(st.integers(-50, -1)), draw(st.integers(0, length))
    if kind == "empty":
        at = draw(st.integers(-5, length + 5))
        return kind, at, at
    if kind == "inverted":
        end = draw(st.integers(-5, length + 5))
        return kind, end + draw(st.integers(1, 20)), end
    a, b = draw(st.sampled_from(spans))
    start = draw(st.integers(max(0, a - 5), b - 1))  # starts before the span's end...
    end = draw(st.integers(max(start, a) + 1, length))  # ...and ends after its start
    return kind, start, end


@given(st.integers(1, 300).flatmap(lambda n: st.tuples(st.just(n), valid_spans(n))), st.data())
def test_one_bad_span_is_refused_with_a_problem_at_a_span(
    case: tuple[int, list[tuple[int, int]]], data: st.DataObject
) -> None:
    length, spans = case
    kind, start, end = data.draw(bad_span(length, spans))
    at = data.draw(st.integers(0, len(spans)))
    all_spans = [*spans[:at], (start, end), *spans[at:]]
    with pytest.raises(DecisionProblems) as raised:
        check_decision(redact(all_spans), text_length=length, age=AGE)
    locs = {p.loc[:3] for p in raised.value.problems}
    if kind == "overlap":
        assert any("overlaps" in p.msg for p in raised.value.problems)
        assert all(loc[:2] == ("body", "redactions") for loc in locs)
    else:
        assert ("body", "redactions", at) in locs


@st.composite
def cut_text(draw: st.DrawFn) -> tuple[str, list[tuple[int, int]]]:
    """A text whose span characters all come from SECRET and the rest from RELEASED."""
    text, spans = "", []
    cuts = draw(st.lists(st.booleans(), min_size=1, max_size=10).filter(any))
    for is_cut in cuts:
        if is_cut:
            part = draw(st.text(alphabet=SECRET, min_size=1, max_size=20))
            spans.append((len(text), len(text) + len(part)))
        else:
            part = draw(st.text(alphabet=RELEASED, max_size=20))
        text += part
    return text, spans


@given(cut_text(), st.data())
def test_accepted_spans_render_without_any_redacted_character(
    case: tuple[str, list[tuple[int, int]]], data: st.DataObject
) -> None:
    text, spans = case
    checked = check_decision(
        redact(data.draw(st.permutations(spans))), text_length=len(text), age=AGE
    )
    portion = ReleasePortion(
        0,
        None,
        text,
        PortionAction.redact,
        tuple(ReleaseSpan(s.start, s.end, s.codes) for s in checked.spans),
    )
    doc = ReleaseDocument("X", None, "SECRET", None, None, (portion,), ("a",), date(2026, 1, 1))
    rendered = render_text(doc)
    assert not set(rendered) & set(SECRET)
    assert rendered.count("[REDACTED 1.4(b)]") == len(spans)
    out = render_json(doc)["portions"]
    assert isinstance(out, list)
    assert out[0]["text"] == rendered
