"""Checking decisions against their portion: spans, codes, and what each action takes."""

from __future__ import annotations

import ast
import re
from datetime import date
from pathlib import Path

import pytest

from service.review.sampling import SamplingFacts, ineligibility, sampled_out
from service.review.validation import (
    MAX_SPANS,
    CableAge,
    CheckedSpan,
    DecisionInput,
    DecisionProblems,
    SpanInput,
    check_decision,
)

# A 2007 cable whose DECL date has passed, seen in 2026: 1.4 and FOIA codes fit, 25X not.
AGE = CableAge(
    cable_date=date(2007, 12, 20), declassify_on=date(2017, 12, 19), today=date(2026, 11, 29)
)
TEXT_LENGTH = 100


def _problems(inp: DecisionInput) -> list[tuple[tuple[str | int, ...], str]]:
    with pytest.raises(DecisionProblems) as raised:
        check_decision(inp, text_length=TEXT_LENGTH, age=AGE)
    return [(p.loc, p.msg) for p in raised.value.problems]


def _redact(*spans: SpanInput, codes: tuple[str, ...] = ()) -> DecisionInput:
    return DecisionInput(action="redact", spans=spans, codes=codes)


def test_a_good_redaction_is_sorted_and_its_codes_canonical() -> None:
    checked = check_decision(
        _redact(SpanInput(50, 60, ("b1", "1.4 (D)")), SpanInput(0, 10, ("(b)(6)",))),
        text_length=TEXT_LENGTH,
        age=AGE,
    )
    assert checked.spans == (
        CheckedSpan(0, 10, ("(b)(6)",)),
        CheckedSpan(50, 60, ("(b)(1)", "1.4(d)")),
    )
    assert checked.codes == ()


def test_touching_spans_and_a_whole_text_span_are_fine() -> None:
    checked = check_decision(
        _redact(SpanInput(0, 40, ("1.4(b)",)), SpanInput(40, 100, ("1.4(b)",))),
        text_length=TEXT_LENGTH,
        age=AGE,
    )
    assert [(s.start, s.end) for s in checked.spans] == [(0, 40), (40, 100)]


def test_spans_without_codes_take_the_decision_exemptions() -> None:
    checked = check_decision(
        _redact(SpanInput(1, 2), codes=("(b)(6)",)), text_length=TEXT_LENGTH, age=AGE
    )
    assert checked.spans == (CheckedSpan(1, 2, ("(b)(6)",)),)


def test_inverted_span() -> None:
    assert _problems(_redact(SpanInput(20, 10, ("1.4(b)",)))) == [
        (("body", "redactions", 0, "end"), "end (10) must be after start (20)")
    ]


def test_empty_span() -> None:
    assert _problems(_redact(SpanInput(5, 5, ("1.4(b)",)))) == [
        (("body", "redactions", 0, "end"), "end (5) must be after start (5)")
    ]


def test_negative_start() -> None:
    assert _problems(_redact(SpanInput(-1, 5, ("1.4(b)",)))) == [
        (("body", "redactions", 0, "start"), "start must be 0 or more")
    ]


def test_span_past_the_end() -> None:
    assert _problems(_redact(SpanInput(90, 101, ("1.4(b)",)))) == [
        (
            ("body", "redactions", 0, "end"),
            "end (101) is past the end of the portion text (100 characters)",
        )
    ]


def test_overlapping_spans_including_one_hidden_behind_a_long_span() -> None:
    problems = _problems(
        _redact(
            SpanInput(0, 50, ("1.4(b)",)),
            SpanInput(10, 20, ("1.4(b)",)),
            SpanInput(30, 40, ("1.4(b)",)),
            SpanInput(60, 70, ("1.4(b)",)),
        )
    )
    assert problems == [
        (("body", "redactions", 1), "[10, 20) overlaps [0, 50)"),
        (("body", "redactions", 2), "[30, 40) overlaps [0, 50)"),
    ]


def test_unknown_code() -> None:
    (problem,) = _problems(_redact(SpanInput(0, 5, ("1.4(z)",))))
    assert problem[0] == ("body", "redactions", 0, "exemption")
    assert problem[1].startswith("unknown exemption code '1.4(z)'; valid codes: 1.4(a)-1.4(h)")


def test_code_that_does_not_fit_the_cable_age_says_which_fit() -> None:
    assert _problems(DecisionInput(action="withhold", codes=("25X1",))) == [
        (
            ("body", "exemptions"),
            "25X1 does not fit a cable 18 years old; codes that fit: "
            "1.4(a)-1.4(h), (b)(1)-(b)(9), (b)(7)(A)-(b)(7)(F)",
        )
    ]


def test_redact_without_spans() -> None:
    assert _problems(DecisionInput(action="redact", codes=("1.4(b)",))) == [
        (("body", "redactions"), "redact needs at least one redaction span")
    ]


def test_span_without_any_code() -> None:
    assert _problems(_redact(SpanInput(0, 5))) == [
        (("body", "redactions", 0, "exemption"), "each redaction needs an exemption code")
    ]


def test_too_many_spans() -> None:
    spans = tuple(SpanInput(i, i + 1, ("1.4(b)",)) for i in range(MAX_SPANS + 1))
    assert _problems(_redact(*spans)) == [
        (("body", "redactions"), f"at most {MAX_SPANS} redactions per decision")
    ]


def test_withhold_needs_codes_and_release_takes_none() -> None:
    assert _problems(DecisionInput(action="withhold")) == [
        (("body", "exemptions"), "withhold needs an exemption code")
    ]
    assert _problems(
        DecisionInput(action="release", spans=(SpanInput(0, 1, ("1.4(b)",)),), codes=("1.4(b)",))
    ) == [
        (("body", "redactions"), "release takes no redactions (use redact)"),
        (("body", "exemptions"), "release takes no exemptions (use redact or withhold)"),
    ]


def test_refer_needs_an_agency_and_nobody_else_takes_one() -> None:
    assert _problems(DecisionInput(action="refer", refer_to="  ")) == [
        (("body", "refer_to"), "refer needs the agency to refer to")
    ]
    assert _problems(DecisionInput(action="release", refer_to="CIA")) == [
        (("body", "refer_to"), "release takes no refer_to (use refer)")
    ]
    checked = check_decision(
        DecisionInput(action="refer", refer_to=" CIA ", note=" intel equity "),
        text_length=TEXT_LENGTH,
        age=AGE,
    )
    assert (checked.refer_to, checked.note) == ("CIA", "intel equity")


def test_b1_needs_a_classification_code_beside_it() -> None:
    (problem,) = _problems(DecisionInput(action="withhold", codes=("(b)(1)",)))
    assert problem[1].startswith("(b)(1) must be paired with a 1.4 or 25X code")


def test_every_problem_is_reported_at_once() -> None:
    problems = _problems(_redact(SpanInput(20, 10, ("1.4(b)",)), SpanInput(0, 200, ("nope",))))
    assert [loc for loc, _ in problems] == [
        ("body", "redactions", 0, "end"),
        ("body", "redactions", 1, "end"),
        ("body", "redactions", 1, "exemption"),
    ]


# --- sampling ------------------------------------------------------------------------

ELIGIBLE = SamplingFacts(
    action="release",
    span_count=0,
    codes=(),
    level="CONFIDENTIAL",
    marking="C",
    cable_caveats=("SIPDIS",),
    decl_codes=(),
)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"action": "redact", "span_count": 1}, "only portions released in full may be sampled"),
        ({"action": "withhold"}, "only portions released in full may be sampled"),
        ({"level": "SECRET"}, "SECRET portions always need a second review"),
        ({"level": "TOP SECRET"}, "TOP SECRET portions always need a second review"),
        ({"cable_caveats": ("NODIS",)}, "NODIS and EXDIS cables always need a second review"),
        ({"marking": "C//EXDIS"}, "NODIS and EXDIS cables always need a second review"),
        ({"decl_codes": ("25X1",)}, "25X, 50X and 75X exemptions always need a second review"),
        ({"decl_codes": ("50X1-HUM",)}, "25X, 50X and 75X exemptions always need a second review"),
    ],
)
def test_never_sampled(change: dict[str, object], reason: str) -> None:
    from dataclasses import replace

    facts = replace(ELIGIBLE, **change)  # type: ignore[arg-type]
    assert ineligibility(facts) == reason
    assert sampled_out(facts, sampling_enabled=True, sample_rate=0.0, draw=_no_draw) is None


def _no_draw() -> float:
    raise AssertionError("draw must not be called")


def test_unclassified_and_confidential_releases_in_full_are_eligible() -> None:
    assert ineligibility(ELIGIBLE) is None
    from dataclasses import replace

    assert ineligibility(replace(ELIGIBLE, level="UNCLASSIFIED", marking=None)) is None


def test_sampling_off_never_draws_and_always_reviews() -> None:
    assert sampled_out(ELIGIBLE, sampling_enabled=False, sample_rate=0.0, draw=_no_draw) is None


def test_the_draw_decides_against_the_rate() -> None:
    assert sampled_out(ELIGIBLE, sampling_enabled=True, sample_rate=0.1, draw=lambda: 0.05) is None
    assert sampled_out(ELIGIBLE, sampling_enabled=True, sample_rate=0.1, draw=lambda: 0.1) == 0.1
    assert sampled_out(ELIGIBLE, sampling_enabled=True, sample_rate=1.0, draw=lambda: 0.999) is None


# --- layering --------------------------------------------------------------------------

REVIEW = Path(__file__).resolve().parents[2] / "service" / "review"


def _top_imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("name", ["states.py", "sampling.py", "validation.py"])
def test_pure_review_modules_import_no_web_and_no_database(name: str) -> None:
    assert _top_imports(REVIEW / name) & {"fastapi", "starlette", "sqlalchemy", "sqlmodel"} == set()


@pytest.mark.parametrize(
    "name", ["service.py", "decisions.py", "approvals.py", "finalize.py", "queries.py"]
)
def test_review_services_never_import_the_web_framework_nor_commit(name: str) -> None:
    path = REVIEW / name
    assert _top_imports(path) & {"fastapi", "starlette"} == set()
    assert ".commit()" not in path.read_text(encoding="utf-8")


ASSIGNS_PORTION_STATUS = re.compile(r"portion\w*\.status\s*=(?!=)", re.IGNORECASE)


def test_portion_status_is_assigned_only_by_transition() -> None:
    """STYLE.md convention 3: no `.status = ` on a portion and no `update(Portion)` outside
    service/review/service.py (the one transition())."""
    service_dir = REVIEW.parent
    offenders = []
    for path in service_dir.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        if path == REVIEW / "service.py":
            continue
        if "update(Portion)" in text or ASSIGNS_PORTION_STATUS.search(text):
            offenders.append(str(path.relative_to(service_dir)))
    assert offenders == []
