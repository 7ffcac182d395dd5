"""parse_decl and compute over the real cables in ../shared/corpus/cables.

The E.O. line and the cable's date are found here with small regexes, on
purpose independent of service.parsing. The cable's date is the metadata date
(line 3), else the date-time group (DOMAIN.md section 1).
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from pathlib import Path

import pytest

from service.markings import Level, parse_classification
from service.schedule import DeclKind, compute, parse_decl

pytestmark = pytest.mark.corpus

CORPUS = Path(__file__).parents[2].parent / "shared" / "corpus"
CABLES = CORPUS / "cables"
if not CABLES.is_dir():
    pytest.skip(f"cable corpus not found at {CABLES}", allow_module_level=True)

EO_LINE = re.compile(r"\bE\.?\s?O\.?\s?(\d{5})\b:?([^\n]*)", re.IGNORECASE)
DTG = re.compile(r"\b(\d{2})\d{4}Z\s+([A-Z]{3})\s+(\d{2})\b")
MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
NO_EO_LINE = {"06KABUL3934", "09BERLIN1626"}  # per corpus/README.md


def _read(ref_id: str) -> tuple[date | None, Level | None, re.Match[str] | None]:
    lines = (CABLES / f"{ref_id}.txt").read_text(encoding="utf-8").splitlines()
    body = "\n".join(lines[5:])
    cable_date: date | None = None
    if lines[2].strip():
        cable_date = datetime.strptime(lines[2].strip(), "%a %b %d %H:%M:%S %z %Y").date()
    elif dtg := DTG.search(body):
        year = int(dtg.group(3))
        cable_date = date(
            1900 + year if year >= 60 else 2000 + year,
            MONTHS.index(dtg.group(2)) + 1,
            int(dtg.group(1)),
        )
    level, _ = parse_classification(lines[3])
    return cable_date, level, EO_LINE.search(body)


ALL_IDS = sorted(p.stem for p in CABLES.glob("*.txt"))


def test_corpus_is_complete() -> None:
    assert len(ALL_IDS) == 295


@pytest.mark.parametrize("ref_id", ALL_IDS)
def test_every_eo_line_parses(ref_id: str) -> None:
    cable_date, level, eo = _read(ref_id)
    if eo is None:
        assert ref_id in NO_EO_LINE
        return
    decl, warnings = parse_decl(eo.group(2), cable_date=cable_date)
    schedule = compute(decl, cable_date=cable_date, level=level, eo=eo.group(1))
    assert all(isinstance(w, str) for w in warnings)
    if decl.kind is DeclKind.DATE:
        assert schedule.declassify_on == decl.date or level is Level.UNCLASSIFIED


K = DeclKind
# (ref_id, decl kind or None for no E.O. line, declassify_on), each read by hand
# from the cable's E.O. line, metadata date/classification (or DTG).
SAMPLE: list[tuple[str, DeclKind | None, date | None]] = [
    ("00HARARE6677", K.DATE, date(2010, 11, 29)),  # "11/29/10" on a 2000 cable
    ("03ABUDHABI2641", K.DATE, date(2008, 6, 3)),  # "06/03/08"
    ("04ANKARA348", K.DATE, date(2014, 1, 7)),  # lower-case, Tags: on the same line
    ("04PARIS8983", K.NOT_APPLICABLE, None),
    ("05RIODEJANEIRO1238", K.NOT_APPLICABLE, None),  # "N/A TAGS: ..."
    ("06BELGRADE1681", K.EVENT, date(2031, 12, 31)),  # CLOSURE OF ICTY: Y+25
    ("06NEWDELHI5237", K.DATE, date(2016, 7, 12)),  # raw file: no metadata, DTG 2006
    ("07BERN881", K.DATE, date(2027, 9, 10)),  # malformed page, trailing backslash
    ("07BOGOTA1165", K.NOT_APPLICABLE, None),  # raw file, CRLF
    ("08ISLAMABAD3418", K.DATE, date(2018, 10, 29)),  # "DECLl:"
    ("08STATE15220", K.DATE, date(2033, 2, 14)),  # exactly 25 years: no warning
    ("09ABUDHABI329", K.DATE, date(2019, 3, 24)),  # date without DECL:
    ("09BEIJING1336", K.UNREADABLE, date(2034, 12, 31)),  # redacted XXXX: Y+25
    ("09BEIJING2963", K.EVENT, date(2034, 12, 31)),  # "after korean unification"
    ("09BRASILIA1383", K.DATE, date(2019, 11, 2)),  # "011/2/2019": stray zero dropped
    ("09DJIBOUTI113", K.DATE, date(2019, 2, 12)),  # 2019-02-12
    ("09KAMPALA1399", K.DATE, date(2019, 12, 17)),  # 2019/12/17
    ("09LAPAZ96", K.DATE, date(2019, 1, 21)),  # trailing <br>
    ("09MOSCOW1108", K.EVENT, date(2034, 12, 31)),
    ("09OUAGADOUGOU1159", K.DATE, date(2034, 8, 31)),  # "Declassify on 8/31/2034"
    ("09STATE63812", K.NOT_APPLICABLE, None),  # "n/a"
    ("09STATE67105", K.OADR, date(2034, 12, 31)),  # DECL: MR, 2009: Y+25
    ("09USNATO464", K.UNREADABLE, date(2034, 12, 31)),  # DNG: CO 10/18/2029 (downgrade only)
    ("10BRASILIA15", K.DATE, date(2020, 1, 21)),  # 2020/01/21 TAGS: on the same line
    ("10PARIS170", K.DATE, date(2020, 2, 12)),  # E.O. 12598 (typo), "02/12/20"
    ("10STATE13750", K.DATE, date(2020, 1, 26)),  # "1/26/20"
    ("10SHENYANG4", K.EVENT, date(2035, 12, 31)),
    ("10VATICAN13", K.DATE, date(2035, 1, 20)),
    ("66BUENOSAIRES2481", K.DATE, None),  # DECLASSIFIED BY NARA; metadata UNCLASSIFIED
    ("72TEHRAN1164", K.DATE, None),  # AS AMENDED; DECLASSIFIED JUNE 21, 2006; UNCLASSIFIED
    ("73TEHRAN2077", K.EXEMPTION, date(1981, 12, 31)),  # 11652 GDS, SECRET: end of 1973+8
    ("75TEHRAN2069", K.EXEMPTION, date(1981, 12, 31)),  # 11652 GDS, CONFIDENTIAL: 1975+6
    ("7575LIBREVILLE1895", K.EXEMPTION, date(2000, 12, 31)),  # NGDS: indefinite, Y+25
    ("78KABUL3619", K.EXEMPTION, date(1984, 12, 31)),  # GDS, 11652 still in force in May 1978
    ("79TEHRAN8980", K.DATE, date(1985, 8, 12)),  # 12065 "GDS 8/12/85 (TOMSETH...)"
    ("79TEHRAN12130", K.DATE, date(1995, 9, 17)),  # "GES 9/17/95": read as GDS
    ("85BEIRUT1013", K.NOT_APPLICABLE, None),  # "NA"
    ("85MOGADISHU1292", K.UNREADABLE, date(2010, 12, 31)),  # "DNG: OADR": no DECL, Y+25
    ("85STATE38496", K.OADR, date(2010, 12, 31)),  # "DECL:OADR"
    ("88BAGHDAD28", K.DATE, date(2034, 7, 1)),  # newspaper copy misdated 1988 in metadata
    ("89PANAMA8545", K.OADR, date(2014, 12, 31)),
    ("92IZMIR819", K.OADR, None),  # OADR on a cable whose metadata says UNCLASSIFIED
    ("95KUALALUMPUR1919", K.OADR, date(2020, 12, 31)),  # 12356, before 1995-10-14
    ("95PHNOMPENH3751", K.DATE, date(2025, 11, 14)),  # E.O. 12598 (typo); 30 years: warned
    ("96ISLAMABAD5972", K.DATE, date(2006, 7, 14)),  # "7/14/06"
    ("96STATE194868", K.DATE, date(2006, 9, 17)),  # "09/17/06 TAGS: PTER PGOV AF"
    ("06KABUL3934", None, None),  # no E.O. line, UNCLASSIFIED//FOUO
    ("09BERLIN1626", None, None),  # no E.O. line, UNCLASSIFIED
]


@pytest.mark.parametrize(("ref_id", "kind", "declassify_on"), SAMPLE)
def test_hand_verified_sample(
    ref_id: str, kind: DeclKind | None, declassify_on: date | None
) -> None:
    cable_date, level, eo = _read(ref_id)
    decl = None if eo is None else parse_decl(eo.group(2), cable_date=cable_date)[0]
    assert (decl.kind if decl else None) == kind
    schedule = compute(decl, cable_date=cable_date, level=level, eo=eo.group(1) if eo else None)
    assert schedule.declassify_on == declassify_on


def test_sample_is_varied() -> None:
    assert len(SAMPLE) >= 30
    assert {kind for _, kind, _ in SAMPLE} == {*DeclKind, None}


@pytest.mark.parametrize(
    ("ref_id", "warnings"),
    [
        ("88BAGHDAD28", ("DECL date 2034-07-01 is more than 25 years after the cable",)),
        ("95PHNOMPENH3751", ("DECL date 2025-11-14 is more than 25 years after the cable",)),
        ("09USNATO464", ("unreadable declassification instruction: 25-year rule",)),
        ("92IZMIR819", ("unclassified cable: DECL oadr ignored",)),
        ("08STATE15220", ()),
    ],
)
def test_sample_warnings(ref_id: str, warnings: tuple[str, ...]) -> None:
    cable_date, level, eo = _read(ref_id)
    assert eo is not None
    decl, _ = parse_decl(eo.group(2), cable_date=cable_date)
    assert compute(decl, cable_date=cable_date, level=level).warnings == warnings


def _peer_decl_cases() -> list[tuple[str, str | None]]:
    cases = json.loads((CORPUS / "peer-cases.json").read_text(encoding="utf-8"))
    return [(c["input"], c["expected"]) for c in cases if c["field"] == "decl_date"]


@pytest.mark.parametrize(("snippet", "expected"), _peer_decl_cases())
def test_peer_decl_dates(snippet: str, expected: str | None) -> None:
    # heuer/cablemap's decl_date cases: the same dates (null for N/A).
    eo = EO_LINE.search(snippet)
    assert eo is not None
    decl, warnings = parse_decl(eo.group(2), cable_date=None)
    assert (decl.date.isoformat() if decl.date else None) == expected
    assert warnings == []
