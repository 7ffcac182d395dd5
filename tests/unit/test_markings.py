"""service.markings: levels, portion marks, banners, reasons, exemption codes."""

from __future__ import annotations

from datetime import date

import pytest

from service.markings import (
    EXEMPTION_CODES,
    Level,
    Mark,
    check_codes,
    covers,
    fitting_codes,
    level_rank,
    looks_like_mark,
    max_level,
    normalise_code,
    normalise_reasons,
    parse_classification,
    parse_mark,
)

U, C, S, TS = Level.UNCLASSIFIED, Level.CONFIDENTIAL, Level.SECRET, Level.TOP_SECRET
TODAY = date(2026, 11, 29)


def test_levels_are_ordered() -> None:
    assert [level_rank(x) for x in (U, C, S, TS)] == [0, 1, 2, 3]
    assert TS.value == "TOP SECRET"
    assert max_level(C, TS, U) is TS
    assert max_level() is U
    assert covers(S, C) is True
    assert covers(S, S) is True
    assert covers(C, S) is False


@pytest.mark.parametrize(
    ("inner", "expected"),
    [
        ("C", Mark("C", C, ())),
        ("S", Mark("S", S, ())),
        ("U", Mark("U", U, ())),
        ("TS", Mark("TS", TS, ())),
        ("c", Mark("C", C, ())),
        (" C ", Mark("C", C, ())),
        ("S/NF", Mark("S//NF", S, ("NOFORN",))),
        ("s/nf", Mark("S//NF", S, ("NOFORN",))),
        ("S-NF", Mark("S//NF", S, ("NOFORN",))),
        ("SNF", Mark("S//NF", S, ("NOFORN",))),
        ("S//NF", Mark("S//NF", S, ("NOFORN",))),
        ("S/NOFORN", Mark("S//NF", S, ("NOFORN",))),
        ("S-NOFORN", Mark("S//NF", S, ("NOFORN",))),
        ("C NF", Mark("C//NF", C, ("NOFORN",))),
        ("C/NF", Mark("C//NF", C, ("NOFORN",))),
        ("C//NF", Mark("C//NF", C, ("NOFORN",))),
        ("C/NOFORN", Mark("C//NF", C, ("NOFORN",))),
        # letters swapped: read as S/NF (docs/domain-decisions.md)
        ("N/SF", Mark("S//NF", S, ("NOFORN",))),
        ("SBU", Mark("SBU", U, ("SBU",))),
        ("SBU-N", Mark("SBU//NF", U, ("SBU", "NOFORN"))),
        ("SBU/N", Mark("SBU//NF", U, ("SBU", "NOFORN"))),
        ("SBU/NF", Mark("SBU//NF", U, ("SBU", "NOFORN"))),
        ("U//FOUO", Mark("U//FOUO", U, ("FOUO",))),
        ("FOUO", Mark("U//FOUO", U, ("FOUO",))),
        ("LOU", Mark("LOU", U, ("LOU",))),
        ("LIMITED OFFICIAL USE", Mark("LOU", U, ("LOU",))),
        ("S//FGI//NF", Mark("S//FGI//NF", S, ("FGI", "NOFORN"))),
        ("C/REL NATO", Mark("C//REL NATO", C, ("REL NATO",))),
        ("C//REL ISAF", Mark("C//REL ISAF", C, ("REL ISAF",))),
        ("C/rel to UN", Mark("C//REL UN", C, ("REL UN",))),
        ("S/Rel UK", Mark("S//REL UK", S, ("REL UK",))),
        ("S/REL to Pakistan", Mark("S//REL PAKISTAN", S, ("REL PAKISTAN",))),
        (
            "S/Rel to Russia, Latvia",
            Mark("S//REL RUSSIA, LATVIA", S, ("REL RUSSIA, LATVIA",)),
        ),
        ("S//REL SAU", Mark("S//REL SAU", S, ("REL SAU",))),
        ("SECRET/REL FRANCE", Mark("S//REL FRANCE", S, ("REL FRANCE",))),
        ("Secret/Rel Armenia", Mark("S//REL ARMENIA", S, ("REL ARMENIA",))),
        ("C - ENTIRE TEXT", Mark("C", C, (), entire_text=True)),
        ("C-ENTIRE TEXT", Mark("C", C, (), entire_text=True)),
        ("CONFIDENTIAL - ENTIRE TEXT.", Mark("C", C, (), entire_text=True)),
        ("SECRET ENTIRE TEXT", Mark("S", S, (), entire_text=True)),
        ("SECRET/NOFORN - ENTIRE TEXT", Mark("S//NF", S, ("NOFORN",), entire_text=True)),
        (
            "SECRET/NOFORN/WNINTEL/NO CONTRACT/ORCON-ENTIRE TEXT",
            Mark(
                "S//NF//WNINTEL//NOCONTRACT//ORCON",
                S,
                ("NOFORN", "WNINTEL", "NOCONTRACT", "ORCON"),
                entire_text=True,
            ),
        ),
    ],
)
def test_parse_mark(inner: str, expected: Mark) -> None:
    assert parse_mark(inner) == expected


@pytest.mark.parametrize(
    "inner",
    ["U.S.", "Iran", "China", "A", "B", "D", "E", "F", "G", "H", "a", "X", "", "S AND T"],
)
def test_parse_mark_rejects_non_marks(inner: str) -> None:
    assert parse_mark(inner) is None


def test_parse_mark_without_level_is_left_to_the_caller() -> None:
    # "(/Rel UK)" names no level: the parser keeps it as written and uses the
    # cable's level (docs/domain-decisions.md).
    assert parse_mark("/Rel UK") is None
    assert looks_like_mark("/Rel UK") is True


@pytest.mark.parametrize(
    ("inner", "expected"),
    [
        ("X", True),
        ("XX", True),
        ("Q/Z", True),
        ("//NF", True),
        ("A", False),
        ("H", False),
        ("C", False),  # a known mark
        ("S/NF", False),
        ("U.S.", False),
        ("Iran", False),
        ("US", False),
        ("NATO", False),
        ("ABCDE", False),
    ],
)
def test_looks_like_mark(inner: str, expected: bool) -> None:
    assert looks_like_mark(inner) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("CONFIDENTIAL", (C, ())),
        ("SECRET", (S, ())),
        ("TOP SECRET", (TS, ())),
        ("UNCLASSIFIED", (U, ())),
        ("UNCLAS", (U, ())),
        ("SECRET//NOFORN", (S, ("NOFORN",))),
        ("CONFIDENTIAL//NOFORN", (C, ("NOFORN",))),
        ("UNCLASSIFIED//FOR OFFICIAL USE ONLY", (U, ("FOUO",))),
        ("LIMITED OFFICIAL USE", (U, ("LOU",))),
        ("SENSITIVE BUT UNCLASSIFIED", (U, ("SBU",))),
        ("SECRET//REL TO USA, NATO", (S, ("REL USA, NATO",))),
        ("C O N F I D E N T I A L", (C, ())),
        ("C O N F I D E N T I A L TOKYO 005624", (C, ())),
        ("S E C R E T SECTION 01 OF 02 ISLAMABAD 005972", (S, ())),
        ("UNCLAS SECTION 01 OF 03 HAVANA 007901", (U, ())),
        ("CC O N F I D E N T I A L", (C, ())),
        ("SS E C R E T", (S, ())),
        ("E C R E T", (S, ())),
        ("UUNCLAS", (U, ())),
        ("C ONFIDENTIAL", (C, ())),
        ("CO N F I D", (C, ())),
        ("CSE C R E T", (S, ())),
        ("C o n f i d e n t i a l section 01 of 04 ankara 000348", (C, ())),
        ("S e c r e t state 015220", (S, ())),
        ("secret", (S, ())),
        ("", (None, ())),
        ("SUBJECT: TALKS", (None, ())),
        ("TOKYO 005624", (None, ())),
    ],
)
def test_parse_classification(text: str, expected: tuple[Level | None, tuple[str, ...]]) -> None:
    assert parse_classification(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1.4(b) and (d)", ["1.4(b)", "1.4(d)"]),
        ("1.4 (b) and (d)", ["1.4(b)", "1.4(d)"]),
        ("1.4(B), (D)", ["1.4(b)", "1.4(d)"]),
        ("1.4 (B/D)", ["1.4(b)", "1.4(d)"]),
        ("1.4 b, d", ["1.4(b)", "1.4(d)"]),
        ("1.4 b and d", ["1.4(b)", "1.4(d)"]),
        ("1.4b and d", ["1.4(b)", "1.4(d)"]),
        ("1.4 (b and d)", ["1.4(b)", "1.4(d)"]),
        ("1.4(B&D)", ["1.4(b)", "1.4(d)"]),
        ("1.4 (b)(d)", ["1.4(b)", "1.4(d)"]),
        ("1.4 (b, d )", ["1.4(b)", "1.4(d)"]),
        ("1. 4 (b) and (d)", ["1.4(b)", "1.4(d)"]),
        ("1,4 (C) AND (D)", ["1.4(c)", "1.4(d)"]),
        ("1.4 B C AND D", ["1.4(b)", "1.4(c)", "1.4(d)"]),
        ("1.4(a), (b), (d)", ["1.4(a)", "1.4(b)", "1.4(d)"]),
        ("1.5 B,D", ["1.5(b)", "1.5(d)"]),
        ("1.5.D", ["1.5(d)"]),
        ("1.5 d", ["1.5(d)"]),
        ("1.4(b,d)", ["1.4(b)", "1.4(d)"]),
        ("1.5 (b,d)", ["1.5(b)", "1.5(d)"]),
        ("1.5 (B), (C) AND (D).", ["1.5(b)", "1.5(c)", "1.5(d)"]),
        ("1.4(b), 1.4(d), and 1.5(c)", ["1.4(b)", "1.4(d)", "1.5(c)"]),
        ("1.4 (d) and 1.4(d)", ["1.4(d)"]),
        ("1.3(a)(4)", ["1.3(a)(4)"]),
        ("1.3(a)(4) and (5)", ["1.3(a)(4)", "1.3(a)(5)"]),
        # wrapped lines, as in the seed cable and the corpus
        ("1.4(b) a \nnd (d)", ["1.4(b)", "1.4(d)"]),
        ("1.4 (b) a nd (d)", ["1.4(b)", "1.4(d)"]),
        ("1.4(b) an d (d)", ["1.4(b)", "1.4(d)"]),
        ("1.4 (b) and (\nd).", ["1.4(b)", "1.4(d)"]),
        ("E.O. 12958, 1.4 (b) and (d)", ["1.4(b)", "1.4(d)"]),
        ("1.4 (b) and (d). 1. (C) Summary: a meeting", ["1.4(b)", "1.4(d)"]),
        ("Derived from Multiple Sources", []),
        ("(b) and (d)", []),
        ("", []),
    ],
)
def test_normalise_reasons(text: str, expected: list[str]) -> None:
    assert normalise_reasons(text) == expected


def test_exemption_codes_table() -> None:
    assert len(EXEMPTION_CODES) == 8 + 9 + 3 + 9 + 6
    assert {"1.4(a)", "1.4(h)", "25X9", "50X1-HUM", "50X2-WMD", "75X"} <= EXEMPTION_CODES
    assert {"(b)(1)", "(b)(9)", "(b)(7)(A)", "(b)(7)(F)"} <= EXEMPTION_CODES


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("25x1", "25X1"),
        ("25X9", "25X9"),
        ("b1", "(b)(1)"),
        ("B6", "(b)(6)"),
        ("(B)(6)", "(b)(6)"),
        ("(b)(7)", "(b)(7)"),
        ("(b)(7)(c)", "(b)(7)(C)"),
        ("b7c", "(b)(7)(C)"),
        ("1.4 (d)", "1.4(d)"),
        ("1.4(H)", "1.4(h)"),
        ("50x1 hum", "50X1-HUM"),
        ("50X2-WMD", "50X2-WMD"),
        ("75x", "75X"),
        ("25X0", None),
        ("25X10", None),
        ("(b)(10)", None),
        ("(b)(6)(A)", None),
        ("1.4(i)", None),
        ("1.5(d)", None),
        ("X1", None),
        ("", None),
    ],
)
def test_normalise_code(raw: str, expected: str | None) -> None:
    assert normalise_code(raw) == expected


OLD = date(1995, 1, 1)  # 31 years old on TODAY
YOUNG = date(2007, 12, 20)  # 18 years old on TODAY
NEAR = date(2005, 6, 1)  # 21 years old: "about to be" 25
ALL_BUT_14 = "25X1-25X9, 50X1-HUM, 50X2-WMD, 75X, (b)(1)-(b)(9), (b)(7)(A)-(b)(7)(F)"
NO_AUTO = "1.4(a)-1.4(h), (b)(1)-(b)(9), (b)(7)(A)-(b)(7)(F)"


@pytest.mark.parametrize(
    ("codes", "cable_date", "declassify_on", "expected"),
    [
        (["1.4(d)", "(b)(1)"], YOUNG, date(2017, 12, 19), []),
        (["(b)(6)"], OLD, None, []),
        (["25X1", "(b)(1)"], OLD, None, []),
        (["25X1"], NEAR, None, []),
        (["1.4(c)", "25X1"], NEAR, None, []),
        (["1.4(d)"], OLD, date(2030, 1, 1), []),  # DECL date not reached
        (["1.4(d)"], None, None, []),  # no cable date: nothing to check against
        (["25x1", "b1"], OLD, None, []),
        (
            ["1.4(d)"],
            OLD,
            None,
            [f"1.4(d) does not fit a cable 31 years old; codes that fit: {ALL_BUT_14}"],
        ),
        (
            ["25X1"],
            YOUNG,
            None,
            [f"25X1 does not fit a cable 18 years old; codes that fit: {NO_AUTO}"],
        ),
        (
            ["(b)(1)"],
            YOUNG,
            None,
            [f"(b)(1) must be paired with a 1.4 or 25X code; codes that fit: {NO_AUTO}"],
        ),
        (
            ["(b)(1)", "(b)(6)"],
            OLD,
            None,
            [f"(b)(1) must be paired with a 1.4 or 25X code; codes that fit: {ALL_BUT_14}"],
        ),
        (
            ["B12", "(b)(6)"],
            YOUNG,
            None,
            [
                "unknown exemption code 'B12'; valid codes: 1.4(a)-1.4(h), 25X1-25X9, "
                "50X1-HUM, 50X2-WMD, 75X, (b)(1)-(b)(9), (b)(7)(A)-(b)(7)(F)"
            ],
        ),
    ],
)
def test_check_codes(
    codes: list[str], cable_date: date | None, declassify_on: date | None, expected: list[str]
) -> None:
    assert check_codes(codes, cable_date=cable_date, declassify_on=declassify_on, today=TODAY) == (
        expected
    )


@pytest.mark.parametrize(
    ("cable_date", "declassify_on", "expected"),
    [
        (YOUNG, None, ["1.4(a)-1.4(h)", "(b)(1)-(b)(9)", "(b)(7)(A)-(b)(7)(F)"]),
        (
            NEAR,
            None,
            [
                "1.4(a)-1.4(h)",
                "25X1-25X9",
                "50X1-HUM",
                "50X2-WMD",
                "75X",
                "(b)(1)-(b)(9)",
                "(b)(7)(A)-(b)(7)(F)",
            ],
        ),
        (
            OLD,
            None,
            ["25X1-25X9", "50X1-HUM", "50X2-WMD", "75X", "(b)(1)-(b)(9)", "(b)(7)(A)-(b)(7)(F)"],
        ),
        # exactly 20 years old on TODAY: the 5-year lead starts that day
        (
            date(2006, 11, 29),
            None,
            [
                "1.4(a)-1.4(h)",
                "25X1-25X9",
                "50X1-HUM",
                "50X2-WMD",
                "75X",
                "(b)(1)-(b)(9)",
                "(b)(7)(A)-(b)(7)(F)",
            ],
        ),
        (date(2006, 11, 30), None, ["1.4(a)-1.4(h)", "(b)(1)-(b)(9)", "(b)(7)(A)-(b)(7)(F)"]),
    ],
)
def test_fitting_codes(cable_date: date, declassify_on: date | None, expected: list[str]) -> None:
    assert fitting_codes(cable_date=cable_date, declassify_on=declassify_on, today=TODAY) == (
        expected
    )
