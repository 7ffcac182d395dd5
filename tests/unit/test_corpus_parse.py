"""Every real cable of the shared corpus parses (or is rejected, and we say why),
rejoins to its file exactly, and a dozen named cables give known values."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from service.decl import DeclKind
from service.markings import Level
from service.parsing import CableParseError, ParsedCable, parse_cable

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus"
CABLES = CORPUS / "cables"
FILES = sorted(CABLES.glob("*.txt")) if CABLES.is_dir() else []

# Files the parser rejects. None: every one of the 295 files has a reference id
# (metadata line 1) and a body, including the malformed ones kept on purpose
# (07BERN881's database dump, 09CHISINAU694's body of another cable).
EXPECTED_REJECTED: list[str] = []

pytestmark = pytest.mark.corpus


def _require_corpus() -> None:
    if not CABLES.is_dir():
        pytest.skip("shared corpus not found beside the clone")


def _parse(ref_id: str) -> ParsedCable:
    _require_corpus()
    return parse_cable((CABLES / f"{ref_id}.txt").read_bytes())


def test_the_corpus_is_complete() -> None:
    _require_corpus()
    assert len(FILES) == 295


def test_rejected_files_are_exactly_the_expected_ones() -> None:
    _require_corpus()
    rejected = []
    for path in FILES:
        try:
            parse_cable(path.read_bytes())
        except CableParseError:
            rejected.append(path.stem)
    assert rejected == EXPECTED_REJECTED


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_cable_parses_and_rejoins_exactly(path: Path) -> None:
    if path.stem in EXPECTED_REJECTED:
        pytest.skip("rejected on purpose")
    text = path.read_bytes().decode("utf-8")
    cable = parse_cable(text)
    assert "".join(p.text for p in cable.portions) == text
    assert cable.ref_id == path.stem  # metadata line 1, never the file name
    assert [p.seq for p in cable.portions] == list(range(len(cable.portions)))
    assert all(p.text for p in cable.portions)
    assert all(isinstance(p.level, Level) for p in cable.portions)
    assert cable.classification is not None
    unmarked = {p.level for p in cable.portions[1:] if p.marking is None}
    entire = any("ENTIRE TEXT" in p.text[:200].upper() for p in cable.portions[1:2])
    if not entire:
        assert unmarked <= {cable.classification}


def test_if_no_corpus_the_tests_say_so() -> None:
    if CABLES.is_dir():
        pytest.skip("the corpus is present")
    assert FILES == []


# --- known values of named cables -----------------------------------------------------


def test_07baghdad146_modern_cable() -> None:
    cable = _parse("07BAGHDAD146")
    assert (cable.classification, cable.eo) == (Level.SECRET, "12958")
    assert cable.tags == ("PREL", "PGOV", "IZ")
    assert len(cable.portions) == 13
    assert cable.declassify_on == date(2017, 1, 14)
    assert cable.classified_by_names == ("Zalmay Khalilzad",)


def test_79tehran8980_entire_text_mark() -> None:
    cable = _parse("79TEHRAN8980")
    assert (cable.classification, cable.eo) == (Level.CONFIDENTIAL, "12065")
    assert cable.tags == ("PEPR", "IR")
    assert len(cable.portions) == 8
    assert cable.portions[1].marking == "C"
    assert {p.level for p in cable.portions} == {Level.CONFIDENTIAL}
    assert cable.signer == "LAINGEN"


def test_94havana7901_item_letters_are_not_marks() -> None:
    cable = _parse("94HAVANA7901")
    assert (cable.classification, cable.eo) == (Level.UNCLASSIFIED, "12356")
    assert cable.tags == ("PTER", "CU")
    assert [(p.number, p.marking) for p in cable.portions] == [(None, None), ("1", None)]
    assert cable.declassify_on is None
    assert cable.warnings == ()


def test_96islamabad5972_classified_by_in_paragraph_one() -> None:
    cable = _parse("96ISLAMABAD5972")
    assert (cable.classification, cable.eo) == (Level.SECRET, "12958")
    assert len(cable.portions) == 8
    assert cable.classified_by_names == ("THOMAS W. SIMONS, JR.",)
    assert cable.reasons == ("1.5(b)", "1.5(c)", "1.5(d)")
    assert cable.declassify_on == date(2006, 7, 14)


def test_06kabul3934_no_eo_tags_or_subject() -> None:
    cable = _parse("06KABUL3934")
    assert cable.classification is Level.UNCLASSIFIED
    assert (cable.eo, cable.decl, cable.tags) == (None, None, ())
    assert len(cable.portions) == 2
    assert "SENSITIVE" in cable.caveats


def test_09berlin1626_tags_without_eo_line() -> None:
    cable = _parse("09BERLIN1626")
    assert cable.eo is None
    assert cable.tags[:3] == ("OPRC", "KMDR", "KGHG")


def test_85mogadishu1643_oadr_and_long_mark() -> None:
    cable = _parse("85MOGADISHU1643")
    assert (cable.classification, cable.eo) == (Level.SECRET, "12356")
    assert cable.decl is not None
    assert cable.decl.kind is DeclKind.OADR
    assert cable.declassify_on == date(2010, 12, 31)
    assert cable.portions[1].marking == "S//NF//WNINTEL//NOCONTRACT//ORCON"


def test_10state284_fields_on_the_banner_line() -> None:
    cable = _parse("10STATE284")
    assert (cable.classification, cable.eo) == (Level.CONFIDENTIAL, "12958")
    assert cable.tags == ("MASS", "MARR", "MCAP", "MOPS", "PARM", "PGOV")
    assert [p.marking for p in cable.portions] == [None, "U", "C", "C", "C", "C//REL LIBYA", None]
    assert cable.portions[1].level is Level.UNCLASSIFIED
    assert cable.subject is None


def test_04ankara348_lower_case_header_on_one_line() -> None:
    cable = _parse("04ANKARA348")
    assert (cable.classification, cable.eo) == (Level.CONFIDENTIAL, "12958")
    assert cable.tags == ("PREL", "PGOV", "PINS", "TU")
    assert cable.classified_by_names == ("Eric Edelman",)
    assert cable.subject is not None
    assert cable.subject.startswith("turkish p.m. Erdogan goes to washington")


def test_09usnato464_downgrade_is_no_declassification() -> None:
    cable = _parse("09USNATO464")
    assert cable.classification is Level.SECRET
    assert cable.decl is not None
    assert cable.decl.kind is DeclKind.UNREADABLE
    assert cable.declassify_on == date(2034, 12, 31)


def test_06newdelhi5237_raw_text_with_crlf() -> None:
    cable = _parse("06NEWDELHI5237")
    assert cable.ref_id == "06NEWDELHI5237"
    assert cable.classification is Level.CONFIDENTIAL  # from the banner: no metadata level
    assert cable.cable_date == date(2006, 7, 26)  # from the date-time group
    assert [p.marking for p in cable.portions[1:]] == ["C", "C", "U", "U", "U", "C"]


def test_66buenosaires2481_oldest_cable() -> None:
    cable = _parse("66BUENOSAIRES2481")
    assert cable.classification is Level.UNCLASSIFIED
    assert cable.declassify_on is None
    assert cable.reference_ids == ("66STATE106206",)
    assert cable.signer == "SACCIO"


def test_10kabul104_unknown_mark_kept_as_written() -> None:
    cable = _parse("10KABUL104")
    assert cable.portions[8].marking == "/Rel UK"
    assert cable.portions[8].level is Level.SECRET
    assert cable.portions[7].marking == "C//REL UK"
    assert "line 53: unknown mark '(/Rel UK)' kept as written; level falls back to SECRET" in (
        cable.warnings
    )
