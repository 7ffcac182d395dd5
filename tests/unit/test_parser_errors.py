"""Unusable input raises CableParseError naming each problem and its line;
malformed but usable cables are accepted with one specific warning each."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from service.decl import DeclKind
from service.markings import Level
from service.parsing import CableParseError, Problem, parse_cable

SEED = (Path(__file__).resolve().parents[2] / "service" / "demo" / "07TOKYO5624.txt").read_text(
    encoding="utf-8"
)
LINES = SEED.splitlines(keepends=True)
NO_DTG_ROUTING = (
    "VZCZCXYZ0000\nRR RUEHWEB\n\nDE RUEHKO #5624/01 3540753\nZNY CCCCC ZZH\n"
    "FM AMEMBASSY TOKYO\nTO RUEHC/SECSTATE WASHDC 0472\n"
)


def _problems(data: str | bytes) -> list[Problem]:
    with pytest.raises(CableParseError) as caught:
        parse_cable(data)
    assert isinstance(caught.value, ValueError)
    return caught.value.problems


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        pytest.param("", [Problem(None, "empty input: no cable text")], id="empty"),
        pytest.param(" \n \r\n", [Problem(None, "empty input: no cable text")], id="blank"),
        pytest.param(
            b"\xff\xfe0\x007\x00",
            [Problem(1, "not UTF-8 text: invalid byte 0xff at offset 0")],
            id="utf16-bytes",
        ),
        pytest.param(
            b"07TOKYO5624\nTITLE\n\xc3\x28 bad\n",
            [Problem(3, "not UTF-8 text: invalid byte 0xc3 at offset 18")],
            id="bad-byte-line-3",
        ),
        pytest.param(
            "07TOKYO5624\nTITLE\nab\0cd\n\n\0\n",
            [
                Problem(3, "NUL character: binary data, not cable text"),
                Problem(5, "NUL character: binary data, not cable text"),
            ],
            id="nul",
        ),
        pytest.param(
            "Hello world\nthis is not a cable\n\n1. (C) Some text.\n",
            [
                Problem(
                    1,
                    "no reference id: no metadata id line, and no banner post and serial "
                    "with a date-time group to build one from",
                )
            ],
            id="no-reference-id",
        ),
        pytest.param(
            "".join(LINES[:40]),
            [Problem(40, "no body: the text ends inside the header")],
            id="cut-after-classified-by",
        ),
        pytest.param(
            "".join(LINES[:5]),
            [Problem(5, "no body: the text ends inside the header")],
            id="metadata-only",
        ),
        pytest.param(
            "".join(LINES[:3]),
            [Problem(3, "cut off inside the five metadata lines: no telegram")],
            id="cut-inside-metadata",
        ),
    ],
)
def test_unusable_input_is_rejected_with_each_problem(
    data: str | bytes, expected: list[Problem]
) -> None:
    assert _problems(data) == expected


def test_all_problems_are_reported_together() -> None:
    problems = _problems(NO_DTG_ROUTING)
    assert [p.line for p in problems] == [1, 7]
    assert problems[0].message.startswith("no reference id")
    assert problems[1].message == "no body: the text ends inside the header"


def test_error_text_lists_each_problem_with_its_line() -> None:
    with pytest.raises(CableParseError) as caught:
        parse_cable(NO_DTG_ROUTING)
    assert str(caught.value) == "; ".join(
        f"line {p.line}: {p.message}" for p in caught.value.problems
    )
    assert str(Problem(None, "empty input: no cable text")) == "empty input: no cable text"


def test_a_problem_list_cannot_be_empty() -> None:
    with pytest.raises(ValueError, match="at least one problem"):
        CableParseError([])


# --- accepted, with a warning -----------------------------------------------------------


def _replace(old: str, new: str) -> str:
    assert SEED.count(old) == 1, old
    return SEED.replace(old, new)


def test_unknown_mark_is_kept_with_the_cables_level() -> None:
    cable = parse_cable(_replace("¶3. (C) Japan shares", "¶3. (X) Japan shares"))
    portion = cable.portions[3]
    assert (portion.number, portion.marking, portion.level) == ("3", "X", Level.CONFIDENTIAL)
    assert cable.warnings == (
        "line 74: unknown mark '(X)' kept as written; level falls back to CONFIDENTIAL",
    )


def test_impossible_decl_date_is_unreadable_and_the_25_year_rule_applies() -> None:
    cable = parse_cable(_replace("DECL: 12/19/2017", "DECL: 13/45/2010"))
    assert cable.decl is not None
    assert cable.decl.kind is DeclKind.UNREADABLE
    assert cable.decl.text == "DECL: 13/45/2010"
    assert cable.declassify_on == date(2032, 12, 31)
    assert "impossible DECL date '13/45/2010': missing-instruction rule applies" in cable.warnings
    assert "unreadable declassification instruction: 25-year rule" in cable.warnings


def test_banner_above_metadata_keeps_the_highest_and_warns() -> None:
    text = _replace("C O N F I D E N T I A L TOKYO", "S E C R E T TOKYO")
    cable = parse_cable(text)
    assert cable.classification is Level.SECRET
    assert "banner says SECRET but the metadata says CONFIDENTIAL: keeping SECRET" in cable.warnings
    assert {p.level for p in cable.portions if p.marking is None} == {Level.SECRET}


def test_metadata_above_banner_keeps_the_highest_and_warns() -> None:
    cable = parse_cable(
        _replace("\nCONFIDENTIAL\nEmbassy Tokyo", "\nSECRET//NOFORN\nEmbassy Tokyo")
    )
    assert cable.classification is Level.SECRET
    assert "NOFORN" in cable.caveats
    assert "banner says CONFIDENTIAL but the metadata says SECRET: keeping SECRET" in cable.warnings


def test_portion_marked_above_the_cable_raises_it_and_warns() -> None:
    cable = parse_cable(_replace("¶5. (C)", "¶5. (S//NF)"))
    assert cable.classification is Level.SECRET
    assert cable.portions[5].marking == "S//NF"
    assert "a portion is marked SECRET, above the cable's CONFIDENTIAL: keeping SECRET" in (
        cable.warnings
    )


def test_reason_that_does_not_fit_the_regime_is_kept_and_warned() -> None:
    cable = parse_cable(_replace("reasons 1.4(b) a \nnd (d)", "reasons 1.5(b) a \nnd (d)"))
    assert cable.reasons == ("1.5(b)", "1.5(d)")
    assert (
        "reason 1.5(b) does not fit E.O. 12958 as amended (cable of 2007-12-20)" in cable.warnings
    )


def test_parenthesised_words_that_are_no_marks_stay_text() -> None:
    cable = parse_cable(_replace("¶4. (C) Ideally", "¶4. (U.S.) Ideally"))
    assert (cable.portions[4].marking, cable.portions[4].level) == (None, Level.CONFIDENTIAL)
    assert cable.warnings == ()


def test_missing_decl_on_a_classified_cable_warns() -> None:
    cable = parse_cable(_replace("E.O. 12958: DECL: 12/19/2017 \n", ""))
    assert cable.decl is None
    assert cable.declassify_on == date(2032, 12, 31)
    assert "no declassification instruction: 25-year rule" in cable.warnings
