"""Properties of the schedule engine, the DECL parser and the exemption-code checker."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from service.markings import Level, check_codes, normalise_code
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
