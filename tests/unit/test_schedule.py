"""service.schedule and service.decl: DECL parsing and the declassification date."""

from __future__ import annotations

from datetime import date

import pytest

from service.markings import Level
from service.schedule import (
    Decl,
    DeclKind,
    FixedClock,
    Regime,
    Schedule,
    SystemClock,
    compute,
    days_remaining,
    parse_decl,
    reason_warnings,
    regime_for,
    today,
)

U, C, S, TS = Level.UNCLASSIFIED, Level.CONFIDENTIAL, Level.SECRET, Level.TOP_SECRET
K = DeclKind
D07 = date(2007, 12, 20)  # 07TOKYO5624


def _date(y: int, m: int, d: int) -> Decl:
    return Decl(K.DATE, date=date(y, m, d))


def _codes(*codes: str, day: date | None = None) -> Decl:
    return Decl(K.EXEMPTION, date=day, codes=codes)


@pytest.mark.parametrize(
    ("raw", "cable_date", "decl", "warnings"),
    [
        ("DECL: 12/19/2017", D07, _date(2017, 12, 19), []),
        (": DECL: 12/19/2017", D07, _date(2017, 12, 19), []),
        ("DECL: 12/19/2017 ", D07, _date(2017, 12, 19), []),
        ("DECL: 1/29/2019", D07, _date(2019, 1, 29), []),
        ("N/A", D07, Decl(K.NOT_APPLICABLE), []),
        (":N/A", D07, Decl(K.NOT_APPLICABLE), []),
        ("  N/A", D07, Decl(K.NOT_APPLICABLE), []),
        ("NA", D07, Decl(K.NOT_APPLICABLE), []),
        ("n/a", D07, Decl(K.NOT_APPLICABLE), []),
        ("N/A \\", D07, Decl(K.NOT_APPLICABLE), []),
        ("DECL: OADR", D07, Decl(K.OADR), []),
        ("DECL:OADR", D07, Decl(K.OADR), []),
        (":  DECL:  OADR", D07, Decl(K.OADR), []),
        ("DECL: MR", D07, Decl(K.OADR, text="MR"), []),
        ("DECL: X1, X5", D07, _codes("X1", "X5"), []),
        ("DECL: 25X1", D07, _codes("25X1"), []),
        ("DECL: 25X1 2030/01/01", D07, _codes("25X1", day=date(2030, 1, 1)), []),
        ("DECL: 25X1, 20540610", D07, _codes("25X1", day=date(2054, 6, 10)), []),
        ("DECL: 50X1-HUM", D07, _codes("50X1-HUM"), []),
        ("DECL: 50X2-WMD", D07, _codes("50X2-WMD"), []),
        ("DECL: 75X", D07, _codes("75X"), []),
        ("DECL: 1.6X1", D07, _codes("X1"), []),
        (
            "DECL: 25X1-human",
            D07,
            _codes("25X1-HUMAN"),
            ["25X1-human is no longer authorized; 50X1-HUM replaces it"],
        ),
        ("DECL: 2020/02/23", D07, _date(2020, 2, 23), []),
        ("decl: 6/30/08", D07, _date(2008, 6, 30), []),
        ("DECL: 2019-02-12", D07, _date(2019, 2, 12), []),
        ("DECLl: 10/29/2018", D07, _date(2018, 10, 29), []),
        ("03/24/2019", D07, _date(2019, 3, 24), []),
        (" 03/24/2019", D07, _date(2019, 3, 24), []),
        ("Declassify on 8/31/2034", D07, _date(2034, 8, 31), []),
        ("DECL: ON 12/19/2017", D07, _date(2017, 12, 19), []),
        (
            "DECL: 011/2/2019",
            date(2009, 11, 2),
            _date(2019, 11, 2),
            ["malformed DECL date '011/2/2019' read as 2019-11-02"],
        ),
        (
            "DECL: 13/45/2010",
            D07,
            Decl(K.UNREADABLE, text="DECL: 13/45/2010"),
            ["impossible DECL date '13/45/2010': missing-instruction rule applies"],
        ),
        # day-first dates are not swapped: the parser never guesses
        (
            "DECL: 19/12/2017",
            D07,
            Decl(K.UNREADABLE, text="DECL: 19/12/2017"),
            ["impossible DECL date '19/12/2017': missing-instruction rule applies"],
        ),
        (
            "DNG: CO 10/18/2029",
            date(2009, 10, 19),
            Decl(K.UNREADABLE, text="DNG: CO 10/18/2029"),
            ["'DNG: CO 10/18/2029' is a downgrade, not a declassification instruction"],
        ),
        (
            "DECL: TEN YEARS AFTER KOREAN UNIFICATION",
            D07,
            Decl(K.EVENT, text="TEN YEARS AFTER KOREAN UNIFICATION"),
            [],
        ),
        ("decl: after korean unification", D07, Decl(K.EVENT, text="after korean unification"), []),
        ("DECL: CLOSURE OF ICTY", D07, Decl(K.EVENT, text="CLOSURE OF ICTY"), []),
        ("GDS", date(1974, 3, 1), _codes("GDS"), []),
        ("NGDS", date(1974, 3, 1), _codes("NGDS"), []),
        ("XGDS-2", date(1974, 3, 1), _codes("XGDS-2"), []),
        ("GDS 8/12/85 (TOMSETH, VICTOR L.) OR-P", date(1979, 8, 12), _date(1985, 8, 12), []),
        ("GDS 9/7/85 (XUX, DENNIS) CR-P", date(1979, 9, 7), _date(1985, 9, 7), []),
        (
            "GES 9/17/95 (LIMBERT, JOHN) OR-P",
            date(1979, 9, 17),
            _date(1995, 9, 17),
            ["'GES' read as GDS"],
        ),
        (
            "AS AMENDED; DECLASSIFIED JUNE 21, 2006",
            date(1975, 3, 1),
            Decl(K.DATE, date=date(2006, 6, 21), text="AS AMENDED; DECLASSIFIED JUNE 21, 2006"),
            ["already declassified on 2006-06-21"],
        ),
        (
            "DECL: DECLASSIFIED BY NARA 6/30/2005",
            date(1966, 12, 28),
            Decl(K.DATE, date=date(2005, 6, 30), text="DECLASSIFIED BY NARA 6/30/2005"),
            ["already declassified on 2005-06-30"],
        ),
        (
            "XXXXXXXXXXXXX",
            D07,
            Decl(K.UNREADABLE, text="XXXXXXXXXXXXX"),
            ["declassification instruction redacted"],
        ),
        ("DECL: 09/17/06 TAGS: PTER PGOV AF", date(2006, 9, 15), _date(2006, 9, 17), []),
        ("DECL: 03/20/2019 TAG PTER, PGOV, ASEC", date(2009, 3, 20), _date(2019, 3, 20), []),
        ("DECL: 01/21/2019 <br>", date(2009, 1, 21), _date(2019, 1, 21), []),
        ("DECL: 09/10/2027 \\", date(2007, 9, 10), _date(2027, 9, 10), []),
        ("", D07, Decl(K.UNREADABLE, text=""), ["no declassification instruction"]),
        ("DECL:", D07, Decl(K.UNREADABLE, text="DECL:"), ["DECL label without an instruction"]),
        (
            "AS AMENDED",
            D07,
            Decl(K.UNREADABLE, text="AS AMENDED"),
            ["unreadable declassification 'AS AMENDED'"],
        ),
    ],
)
def test_parse_decl(raw: str, cable_date: date, decl: Decl, warnings: list[str]) -> None:
    assert parse_decl(raw, cable_date=cable_date) == (decl, warnings)


@pytest.mark.parametrize(
    ("raw", "cable_date", "expected"),
    [
        # two-digit years: the century that puts the date 0-30 years after the cable
        ("DECL: 4/24/05", date(2000, 4, 25), date(2005, 4, 24)),
        ("DECL: 11/29/10", date(2000, 11, 29), date(2010, 11, 29)),
        ("GDS 8/12/85", date(1979, 8, 12), date(1985, 8, 12)),
        ("DECL: 1/1/99", date(1975, 1, 1), date(1999, 1, 1)),
        ("DECL: 1/1/99", date(2005, 1, 1), date(1999, 1, 1)),  # none fits: nearest century
        # no cable date: 00-59 -> 20xx, 60-99 -> 19xx
        ("DECL: 6/30/08", None, date(2008, 6, 30)),
        ("DECL: 6/30/59", None, date(2059, 6, 30)),
        ("DECL: 6/30/60", None, date(1960, 6, 30)),
    ],
)
def test_two_digit_years(raw: str, cable_date: date | None, expected: date) -> None:
    decl, _ = parse_decl(raw, cable_date=cable_date)
    assert decl.date == expected


@pytest.mark.parametrize(
    ("decl", "json"),
    [
        (_date(2017, 12, 19), {"kind": "date", "date": "2017-12-19"}),
        (_codes("25X1"), {"kind": "exemption", "codes": ["25X1"]}),
        (
            _codes("25X1", day=date(2030, 1, 1)),
            {"kind": "exemption", "codes": ["25X1"], "date": "2030-01-01"},
        ),
        (Decl(K.OADR), {"kind": "oadr"}),
        (Decl(K.OADR, text="MR"), {"kind": "oadr", "text": "MR"}),
        (Decl(K.EVENT, text="CLOSURE OF ICTY"), {"kind": "event", "text": "CLOSURE OF ICTY"}),
        (Decl(K.UNREADABLE, text="XXXX"), {"kind": "unreadable", "text": "XXXX"}),
        (Decl(K.NOT_APPLICABLE), {"kind": "not_applicable"}),
    ],
)
def test_decl_json_round_trip(decl: Decl, json: dict[str, object]) -> None:
    assert decl.as_json() == json
    assert Decl.from_json(json) == decl


def test_decl_from_json_rejects_bad_shapes() -> None:
    with pytest.raises(ValueError, match="not a valid DeclKind"):
        Decl.from_json({"kind": "someday"})
    with pytest.raises(ValueError, match="codes"):
        Decl.from_json({"kind": "exemption", "codes": "25X1"})
    with pytest.raises(ValueError, match="Invalid isoformat"):
        Decl.from_json({"kind": "date", "date": "19 Dec 2017"})


def test_decl_kind_values() -> None:
    assert [k.value for k in DeclKind] == [
        "date",
        "exemption",
        "oadr",
        "event",
        "unreadable",
        "not_applicable",
    ]


@pytest.mark.parametrize(
    ("cable_date", "regime"),
    [
        (date(1966, 12, 28), Regime.PRE_11652),
        (date(1972, 5, 31), Regime.PRE_11652),
        (date(1972, 6, 1), Regime.EO_11652),
        (date(1978, 11, 30), Regime.EO_11652),
        (date(1978, 12, 1), Regime.EO_12065),
        (date(1982, 4, 1), Regime.EO_12065),
        (date(1982, 4, 2), Regime.EO_12356),
        (date(1995, 10, 13), Regime.EO_12356),
        (date(1995, 10, 14), Regime.EO_12958),
        (date(2003, 9, 21), Regime.EO_12958),
        (date(2003, 9, 22), Regime.EO_12958_AMENDED),
        (date(2010, 6, 26), Regime.EO_12958_AMENDED),
        (date(2010, 6, 27), Regime.EO_13526),
    ],
)
def test_regime_for(cable_date: date, regime: Regime) -> None:
    assert regime_for(cable_date) is regime


R25 = "25-year rule (E.O. 13526 sec. 3.3(a))"


@pytest.mark.parametrize(
    ("decl", "cable_date", "level", "eo", "expected"),
    [
        # DOMAIN.md section 4 worked examples
        (
            _date(2017, 12, 19),
            D07,
            C,
            "12958",
            Schedule(date(2017, 12, 19), "DECL date 2017-12-19 (E.O. 12958 as amended)", ()),
        ),
        (
            Decl(K.OADR),
            date(1996, 3, 5),
            C,
            "12356",
            Schedule(
                date(2021, 12, 31),
                f"OADR under E.O. 12356: {R25}, cable of 1996 -> 2021-12-31; warnings: "
                "OADR used on or after 1995-10-14 (barred by E.O. 12958)",
                ("OADR used on or after 1995-10-14 (barred by E.O. 12958)",),
            ),
        ),
        (
            _codes("25X1"),
            date(2004, 6, 10),
            S,
            "12958",
            Schedule(
                date(2054, 12, 31),
                "25X1 without a date: 50-year point, cable of 2004 -> 2054-12-31; warnings: "
                "25X1 without a date: 50-year point used",
                ("25X1 without a date: 50-year point used",),
            ),
        ),
        (
            _codes("X1"),
            date(2009, 2, 10),
            S,
            "12958",
            Schedule(
                date(2034, 12, 31),
                f"X1 (E.O. 12958 sec. 1.6(d)): {R25}, cable of 2009 -> 2034-12-31; warnings: "
                "X codes were retired on 2003-09-22 (E.O. 13292): X1",
                ("X codes were retired on 2003-09-22 (E.O. 13292): X1",),
            ),
        ),
        # OADR under E.O. 12356 in its own time: no warning
        (
            Decl(K.OADR),
            date(1992, 5, 1),
            C,
            "12356",
            Schedule(
                date(2017, 12, 31), f"OADR under E.O. 12356: {R25}, cable of 1992 -> 2017-12-31", ()
            ),
        ),
        (
            Decl(K.NOT_APPLICABLE),
            D07,
            U,
            "12958",
            Schedule(None, "unclassified cable: no declassification date", ()),
        ),
        (
            None,
            D07,
            U,
            None,
            Schedule(None, "unclassified cable: no declassification date", ()),
        ),
        (
            Decl(K.NOT_APPLICABLE),
            D07,
            C,
            "12958",
            Schedule(
                None,
                "DECL N/A: no declassification date; warnings: DECL N/A on a CONFIDENTIAL cable",
                ("DECL N/A on a CONFIDENTIAL cable",),
            ),
        ),
        (
            None,
            date(2009, 5, 1),
            S,
            None,
            Schedule(
                date(2034, 12, 31),
                f"no DECL instruction on a classified cable: {R25}, cable of 2009 -> 2034-12-31; "
                "warnings: no declassification instruction: 25-year rule",
                ("no declassification instruction: 25-year rule",),
            ),
        ),
        (
            Decl(K.UNREADABLE, text="DECL: 13/45/2010"),
            date(2005, 1, 1),
            C,
            "12958",
            Schedule(
                date(2030, 12, 31),
                f"unreadable DECL 'DECL: 13/45/2010' on a classified cable: {R25}, cable of 2005"
                " -> 2030-12-31; warnings: unreadable declassification instruction: 25-year rule",
                ("unreadable declassification instruction: 25-year rule",),
            ),
        ),
        (
            Decl(K.EVENT, text="CLOSURE OF ICTY"),
            date(2006, 4, 1),
            C,
            "12958",
            Schedule(
                date(2031, 12, 31),
                f"event 'CLOSURE OF ICTY' cannot be dated: {R25}, cable of 2006 -> 2031-12-31; "
                "warnings: event cannot be dated: CLOSURE OF ICTY",
                ("event cannot be dated: CLOSURE OF ICTY",),
            ),
        ),
        (
            _date(2040, 1, 1),
            date(2006, 1, 1),
            S,
            "12958",
            Schedule(
                date(2040, 1, 1),
                "DECL date 2040-01-01 (E.O. 12958 as amended); warnings: "
                "DECL date 2040-01-01 is more than 25 years after the cable",
                ("DECL date 2040-01-01 is more than 25 years after the cable",),
            ),
        ),
        (
            _codes("25X1", day=date(2030, 1, 1)),
            date(2010, 1, 1),
            S,
            "12958",
            Schedule(date(2030, 1, 1), "25X1 with date 2030-01-01", ()),
        ),
        (
            _codes("50X1-HUM"),
            date(2010, 1, 1),
            S,
            "12958",
            Schedule(
                date(2085, 12, 31),
                "50X1-HUM: 75-year point (E.O. 13526 sec. 3.3(h)), cable of 2010 -> 2085-12-31",
                (),
            ),
        ),
        (
            _codes("X1", "X5"),
            date(2002, 6, 1),
            C,
            "12958",
            Schedule(
                date(2027, 12, 31),
                f"latest of X1, X5: X1 (E.O. 12958 sec. 1.6(d)): {R25}, cable of 2002 -> "
                "2027-12-31",
                (),
            ),
        ),
        (
            _codes("GDS"),
            date(1974, 3, 1),
            C,
            "11652",
            Schedule(
                date(1980, 12, 31),
                "GDS: E.O. 11652 General Declassification Schedule (6 full years), cable of "
                "1974 -> 1980-12-31",
                (),
            ),
        ),
        (
            _codes("NGDS"),
            date(1974, 3, 1),
            S,
            "11652",
            Schedule(
                date(1999, 12, 31),
                f"NGDS (exempt from GDS, indefinite): {R25}, cable of 1974 -> 1999-12-31",
                (),
            ),
        ),
        (
            Decl(K.DATE, date=date(2006, 6, 21), text="AS AMENDED; DECLASSIFIED JUNE 21, 2006"),
            date(1975, 3, 1),
            C,
            "12958",
            Schedule(
                date(2006, 6, 21),
                "declassified on 2006-06-21 ('AS AMENDED; DECLASSIFIED JUNE 21, 2006')",
                (),
            ),
        ),
        (
            Decl(K.OADR),
            None,
            C,
            "12356",
            Schedule(
                None,
                f"OADR under E.O. 12356: {R25}; warnings: no cable date: cannot apply {R25}",
                (f"no cable date: cannot apply {R25}",),
            ),
        ),
    ],
)
def test_compute(
    decl: Decl | None, cable_date: date | None, level: Level, eo: str | None, expected: Schedule
) -> None:
    assert compute(decl, cable_date=cable_date, level=level, eo=eo) == expected


@pytest.mark.parametrize(
    ("decl", "cable_date", "level", "expected"),
    [
        (Decl(K.OADR, text="MR"), date(2006, 1, 1), C, date(2031, 12, 31)),
        (Decl(K.EVENT, text="X"), date(1996, 12, 31), C, date(2021, 12, 31)),
        (_codes("25X1-HUMAN"), date(2006, 1, 1), S, date(2081, 12, 31)),
        (_codes("50X2-WMD", day=date(2030, 1, 1)), date(2010, 1, 1), S, date(2085, 12, 31)),
        (_codes("50X3"), date(2010, 1, 1), S, date(2085, 12, 31)),
        (_codes("75X", day=date(2090, 1, 1)), date(2010, 1, 1), S, date(2090, 1, 1)),
        (_codes("75X"), date(2010, 1, 1), S, date(2085, 12, 31)),
        (_codes("25X1", "50X1-HUM"), date(2010, 1, 1), S, date(2085, 12, 31)),
        # a 25X date before the cable's date is ignored: the 50-year point applies
        (_codes("25X1", day=date(2001, 1, 1)), date(2010, 1, 1), S, date(2060, 12, 31)),
        (_codes("GDS"), date(1974, 3, 1), S, date(1982, 12, 31)),
        (_codes("GDS"), date(1974, 3, 1), TS, date(1984, 12, 31)),
        (_codes("GDS"), date(1974, 3, 1), None, date(1984, 12, 31)),
        (None, date(2009, 1, 1), None, date(2034, 12, 31)),  # level unknown: treated as classified
        (_date(2017, 12, 19), None, C, date(2017, 12, 19)),  # a date needs no cable date
        (_date(2017, 12, 19), D07, U, None),  # unclassified: nothing to declassify
    ],
)
def test_compute_dates(
    decl: Decl | None, cable_date: date | None, level: Level | None, expected: date | None
) -> None:
    assert compute(decl, cable_date=cable_date, level=level).declassify_on == expected


@pytest.mark.parametrize(
    ("decl", "cable_date", "level", "warnings"),
    [
        (_codes("X1"), date(2003, 9, 21), C, ()),
        (
            _codes("X1"),
            date(2003, 9, 22),
            C,
            ("X codes were retired on 2003-09-22 (E.O. 13292): X1",),
        ),
        (Decl(K.OADR), date(1995, 10, 13), C, ()),
        (
            Decl(K.OADR),
            date(1995, 10, 14),
            C,
            ("OADR used on or after 1995-10-14 (barred by E.O. 12958)",),
        ),
        (
            _date(2006, 9, 1),
            date(2006, 9, 15),
            C,
            ("DECL date 2006-09-01 is before the cable's date 2006-09-15",),
        ),
        (_date(2032, 12, 20), D07, C, ()),  # exactly 25 years: fine
        (
            _date(2032, 12, 21),
            D07,
            C,
            ("DECL date 2032-12-21 is more than 25 years after the cable",),
        ),
        (
            _codes("50X1-HUM", day=date(2030, 1, 1)),
            date(2010, 1, 1),
            S,
            ("50X1-HUM carries no date: 2030-01-01 ignored",),
        ),
        (
            _codes("25X1", day=date(2001, 1, 1)),
            date(2010, 1, 1),
            S,
            (
                "25X1 without a date: 50-year point used",
                "exemption date 2001-01-01 is before the cable's date: ignored",
            ),
        ),
        (_date(2017, 12, 19), D07, U, ("unclassified cable: DECL date ignored",)),
        (_codes("ZZ9"), D07, C, ("unknown DECL code ZZ9",)),
        (Decl(K.EXEMPTION), D07, C, ("exemption without codes",)),
        (
            Decl(K.DATE),  # hand-made JSON without its date
            D07,
            C,
            ("unreadable declassification instruction: 25-year rule",),
        ),
    ],
)
def test_compute_warnings(
    decl: Decl, cable_date: date, level: Level, warnings: tuple[str, ...]
) -> None:
    assert compute(decl, cable_date=cable_date, level=level).warnings == warnings


@pytest.mark.parametrize(
    ("reasons", "cable_date", "expected"),
    [
        (["1.4(b)", "1.4(d)"], D07, []),
        (["1.5(b)"], date(2001, 1, 1), []),
        (["1.3(a)(4)"], date(1990, 1, 1), []),
        (
            ["1.5(d)"],
            date(2009, 2, 10),
            ["reason 1.5(d) does not fit E.O. 12958 as amended (cable of 2009-02-10)"],
        ),
        (
            ["1.4(h)"],
            date(2001, 5, 1),
            ["reason 1.4(h) does not fit E.O. 12958 (cable of 2001-05-01)"],
        ),
        (["1.4(d)"], date(2003, 3, 25), []),  # 2003 transition: 1.4 accepted
        (
            ["1.5(h)"],
            date(2001, 5, 1),
            ["reason 1.5(h) does not fit E.O. 12958 (cable of 2001-05-01)"],
        ),
        (
            ["1.3(a)(4)"],
            D07,
            ["reason 1.3(a)(4) does not fit E.O. 12958 as amended (cable of 2007-12-20)"],
        ),
        (["1.5(d)"], None, []),
        (["2.1"], D07, ["reason 2.1 not recognised"]),
    ],
)
def test_reason_warnings(reasons: list[str], cable_date: date | None, expected: list[str]) -> None:
    assert reason_warnings(reasons, cable_date=cable_date) == expected


def test_reason_warnings_reach_the_schedule() -> None:
    schedule = compute(_codes("X1"), cable_date=date(2009, 2, 10), level=S, reasons=["1.5(b)"])
    assert schedule.warnings == (
        "X codes were retired on 2003-09-22 (E.O. 13292): X1",
        "reason 1.5(b) does not fit E.O. 12958 as amended (cable of 2009-02-10)",
    )
    assert schedule.basis.endswith("; ".join(schedule.warnings))


@pytest.mark.parametrize(
    ("declassify_on", "today_", "expected"),
    [
        (date(2017, 12, 19), date(2017, 12, 19), 0),
        (date(2017, 12, 19), date(2017, 12, 18), 1),
        (date(2017, 12, 19), date(2026, 11, 29), -3267),
        (date(2034, 12, 31), date(2026, 11, 29), 2954),
    ],
)
def test_days_remaining(declassify_on: date, today_: date, expected: int) -> None:
    assert days_remaining(declassify_on, today=today_) == expected


def test_clocks() -> None:
    assert FixedClock(date(2026, 11, 29)).today() == date(2026, 11, 29)
    assert today(FixedClock(date(2020, 1, 1))) == date(2020, 1, 1)
    assert isinstance(SystemClock().today(), date)
    assert abs((today() - date.today()).days) <= 1
