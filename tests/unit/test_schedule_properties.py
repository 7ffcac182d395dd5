"""Properties of the schedule engine, the DECL parser and the exemption-code checker,
on hand-made `Decl`s and end to end from an E.O. line in a parsed cable: never due before
the cable's date unless an explicit DECL date says so, and monotone in the cable's date."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from service.markings import Level, check_codes, normalise_code
from service.parsing import CableParseError, ParsedCable, parse_cable
from service.schedule import Decl, DeclKind, compute, parse_decl

cable_dates = st.dates(min_value=date(1960, 1, 1), max_value=date(2030, 12, 31))
levels = st.sampled_from([Level.CONFIDENTIAL, Level.SECRET, Level.TOP_SECRET, None])
codes = st.sampled_from(
    ["X1", "X5", "25X1", "25X9", "50X1-HUM", "50X2-WMD", "50X3", "75X", "GDS", "NGDS", "ZZ"]
)
non_date_decls = st.one_of(
    st.none(),
    st.builds(Decl, st.just(DeclKind.OADR), text=st.sampled_from([None, "MR"])),
    st.builds(Decl, st.just(DeclKind.EVENT), text=st.text(max_size=20)),
    st.builds(Decl, st.just(DeclKind.UNREADABLE), text=st.text(max_size=20)),
    st.builds(
        Decl,
        st.just(DeclKind.EXEMPTION),
        date=st.one_of(st.none(), cable_dates),
        codes=st.lists(codes, min_size=1, max_size=3, unique=True).map(tuple),
    ),
)
decl_words = st.sampled_from(
    ["DECL", "DECL:", ":", "N/A", "OADR", "MR", "X1,", "25X1", "1.6X1", "GDS", "DNG:", "TAGS:"]
)
decl_like = st.lists(
    st.one_of(decl_words, st.from_regex(r"\d{1,4}[/\-.]\d{1,3}[/\-.]\d{1,4}"), st.text()),
    max_size=6,
).map(" ".join)


@given(raw=st.one_of(st.text(), decl_like), cable_date=st.one_of(st.none(), cable_dates))
def test_parse_decl_never_raises(raw: str, cable_date: date | None) -> None:
    decl, warnings = parse_decl(raw, cable_date=cable_date)
    assert isinstance(decl, Decl)
    assert all(isinstance(w, str) for w in warnings)
    assert Decl.from_json(decl.as_json()) == decl
    if decl.kind is DeclKind.DATE:
        assert decl.date is not None


@given(
    day=st.dates(),
    cable_date=st.one_of(st.none(), cable_dates),
    level=levels,
    reasons=st.lists(st.sampled_from(["1.4(b)", "1.5(d)", "1.3(a)(4)", "junk"]), max_size=3),
)
def test_a_date_decl_gives_that_date(
    day: date, cable_date: date | None, level: Level | None, reasons: list[str]
) -> None:
    decl = Decl(DeclKind.DATE, date=day)
    schedule = compute(decl, cable_date=cable_date, level=level, reasons=reasons)
    assert schedule.declassify_on == day


@given(decl=non_date_decls, cable_date=cable_dates, level=levels)
def test_non_date_results_never_precede_the_cable(
    decl: Decl | None, cable_date: date, level: Level | None
) -> None:
    schedule = compute(decl, cable_date=cable_date, level=level)
    assert schedule.declassify_on is not None
    assert schedule.declassify_on >= cable_date


@given(
    decl=non_date_decls,
    first=cable_dates,
    gap=st.integers(min_value=0, max_value=20000),
    level=levels,
)
def test_non_date_results_are_monotone_in_the_cable_date(
    decl: Decl | None, first: date, gap: int, level: Level | None
) -> None:
    later = first + timedelta(days=gap)
    early = compute(decl, cable_date=first, level=level).declassify_on
    late = compute(decl, cable_date=later, level=level).declassify_on
    assert early is not None
    assert late is not None
    assert early <= late


@given(
    raw_codes=st.lists(
        st.one_of(
            st.text(max_size=12),
            st.sampled_from(["1.4(d)", "25X1", "(b)(1)", "b6", "50X1-HUM", "75X"]),
        ),
        max_size=5,
    ),
    cable_date=st.one_of(st.none(), cable_dates),
    declassify_on=st.one_of(st.none(), st.dates()),
    today=st.dates(min_value=date(1990, 1, 1), max_value=date(2100, 1, 1)),
)
def test_check_codes_never_raises_and_names_unknown_codes(
    raw_codes: list[str], cable_date: date | None, declassify_on: date | None, today: date
) -> None:
    problems = check_codes(
        raw_codes, cable_date=cable_date, declassify_on=declassify_on, today=today
    )
    assert all(isinstance(p, str) for p in problems)
    for raw in raw_codes:
        if normalise_code(raw) is None:
            assert any(f"unknown exemption code '{raw}'" in p for p in problems)


# The date engine end to end, from the text of a real E.O. line: the seed cable with its
# metadata date and its DECL instruction replaced, through parse_cable.
SEED = (Path(__file__).resolve().parents[2] / "service" / "demo" / "07TOKYO5624.txt").read_text(
    encoding="utf-8"
)
SEED_DATE_LINE = "Thu Dec 20 00:00:00 +0100 2007"
SEED_DECL = "DECL: 12/19/2017"
assert SEED.count(SEED_DATE_LINE) == 1
assert SEED.count(SEED_DECL) == 1
decl_dates = st.dates(min_value=date(1950, 1, 1), max_value=date(2060, 12, 31))
written_dates = st.one_of(
    decl_dates.map(lambda d: d.strftime("%m/%d/%Y")),
    decl_dates.map(lambda d: d.strftime("%m/%d/%y")),
    decl_dates.map(lambda d: d.strftime("%Y%m%d")),
)
decl_lines = st.one_of(
    written_dates.map(lambda d: f"DECL: {d}"),
    st.sampled_from(
        ["DECL: OADR", "DECL: 1.6X1", "DECL: 25X1", "DECL: 1.6X5, 1.6X6", "DECL: N/A", "GDS"]
    ),
    st.tuples(codes, written_dates).map(lambda c: f"DECL: {c[0]} {c[1]}"),
    st.lists(
        st.one_of(
            decl_words,
            st.from_regex(r"\d{1,4}[/\-.]\d{1,3}[/\-.]\d{1,4}", fullmatch=True),
            st.text(st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), max_size=10),
        ),
        max_size=6,
    ).map(lambda words: "DECL: " + " ".join(words)),
)


def cable_on(day: date, decl_line: str) -> ParsedCable | None:
    text = SEED.replace(SEED_DATE_LINE, day.strftime("%a %b %d 00:00:00 +0100 %Y")).replace(
        SEED_DECL, decl_line.replace("\n", " ")
    )
    try:
        return parse_cable(text)
    except CableParseError:
        return None


@settings(max_examples=200)
@given(day=cable_dates, decl_line=decl_lines)
def test_parsed_cables_are_never_due_before_their_date_without_a_decl_date(
    day: date, decl_line: str
) -> None:
    cable = cable_on(day, decl_line)
    assert cable is not None
    assert cable.cable_date == day
    assert cable.decl is not None
    if cable.decl.kind is DeclKind.DATE:
        assert cable.declassify_on == cable.decl.date
    elif cable.decl.kind is not DeclKind.NOT_APPLICABLE:
        assert cable.declassify_on is not None
        assert cable.declassify_on >= day


@settings(max_examples=200)
@given(first=cable_dates, gap=st.integers(min_value=0, max_value=20000), decl_line=decl_lines)
def test_parsed_cables_are_monotone_in_their_date_for_one_decl_line(
    first: date, gap: int, decl_line: str
) -> None:
    later = min(first + timedelta(days=gap), date(2030, 12, 31))
    early, late = cable_on(first, decl_line), cable_on(later, decl_line)
    assert early is not None
    assert late is not None
    assert early.decl is not None
    assert late.decl is not None
    if DeclKind.DATE in (early.decl.kind, late.decl.kind):
        return  # an explicit date says when, whatever the cable's date
    if early.declassify_on is None or late.declassify_on is None:
        assert early.declassify_on is late.declassify_on is None
        return
    assert early.declassify_on <= late.declassify_on
