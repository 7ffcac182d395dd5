"""The seed cable 07TOKYO5624 parses to exactly the values DOMAIN.md describes,
with its metadata lines, without them (raw telegram) and with CRLF line ends."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from service.decl import DeclKind
from service.markings import Level
from service.parsing import ParsedCable, parse_cable

SEED = Path(__file__).resolve().parents[2] / "service" / "demo" / "07TOKYO5624.txt"


@pytest.fixture(scope="module")
def seed_text() -> str:
    return SEED.read_bytes().decode("utf-8")


def _telegram(text: str) -> str:
    """The seed without its five metadata lines (a raw telegram)."""
    return "".join(text.splitlines(keepends=True)[5:])


def _assert_telegram_fields(cable: ParsedCable) -> None:
    """The values the telegram itself carries (not the metadata lines)."""
    assert cable.ref_id == "07TOKYO5624"
    assert cable.classification is Level.CONFIDENTIAL
    assert cable.origin == "Embassy Tokyo"
    assert cable.sent_at == datetime(2007, 12, 20, 7, 53, tzinfo=UTC)
    assert cable.eo == "12958"
    assert cable.decl is not None
    assert cable.decl.kind is DeclKind.DATE
    assert cable.decl.date == date(2017, 12, 19)
    assert cable.declassify_on == date(2017, 12, 19)
    assert cable.classified_by == "Deputy Chief of Mission Joe Donovan"
    assert cable.classified_by_names == ("Joe Donovan",)
    assert cable.reasons == ("1.4(b)", "1.4(d)")
    assert cable.tags == ("PREL", "PARM", "MOPS", "JA")
    assert cable.references == ("STATE 167308",)
    assert cable.reference_ids == ("07STATE167308",)
    assert cable.signer == "SCHIEFFER"
    assert cable.signers == ("SCHIEFFER",)
    assert "SIPDIS" in cable.caveats
    assert cable.subject == "CLUSTER MUNITIONS DEMARCHE DELIVERED TO JAPANESE"
    assert cable.warnings == ()
    assert [p.seq for p in cable.portions] == list(range(9))
    assert [p.number for p in cable.portions] == [None, "1", "2", "3", "4", "5", "6", "7", "8"]
    assert [p.marking for p in cable.portions] == [None] + ["C"] * 8
    assert {p.level for p in cable.portions} == {Level.CONFIDENTIAL}


def test_seed_parses_to_the_documented_values(seed_text: str) -> None:
    cable = parse_cable(seed_text)
    _assert_telegram_fields(cable)
    assert cable.title == "CLUSTER MUNITIONS DEMARCHE DELIVERED TO JAPANESE"
    assert cable.cable_date == date(2007, 12, 20)
    assert cable.declassify_basis is not None
    assert cable.declassify_basis.startswith("DECL date 2017-12-19")


def test_seed_portions_rejoin_exactly(seed_text: str) -> None:
    cable = parse_cable(seed_text)
    assert "".join(p.text for p in cable.portions) == seed_text
    header = cable.portions[0].text
    assert header.startswith("07TOKYO5624\n")
    assert header.endswith("for reasons 1.4(b) a \nnd (d) \n \n")
    assert cable.portions[1].text.startswith("¶1. (C) SUMMARY:")
    # a heading framed by dashes goes with the paragraph after it
    assert cable.portions[3].text.startswith("------------------------------ \nJAPAN SHARES")
    assert cable.portions[8].text.endswith("Ministry of Defense officials. \nSCHIEFFER")


def test_seed_routing_header(seed_text: str) -> None:
    cable = parse_cable(seed_text)
    assert [r.as_json() for r in cable.recipients] == [
        {
            "route": "RUEHC",
            "name": "SECSTATE WASHDC",
            "precedence": None,
            "mcn": "0472",
            "excluded": [],
        }
    ]
    assert cable.info_recipients[0].name == "AMEMBASSY CANBERRA"
    assert cable.info_recipients[-1].name == "USFJ"  # the banner glued to it is split off
    assert len(cable.info_recipients) == 12


def test_seed_as_bytes_is_the_same_cable(seed_text: str) -> None:
    assert parse_cable(seed_text.encode("utf-8")) == parse_cable(seed_text)


def test_seed_without_metadata_lines(seed_text: str) -> None:
    telegram = _telegram(seed_text)
    cable = parse_cable(telegram)
    _assert_telegram_fields(cable)
    assert cable.title is None
    assert cable.cable_date == date(2007, 12, 20)  # from the date-time group
    assert "".join(p.text for p in cable.portions) == telegram


def test_seed_with_crlf_line_ends(seed_text: str) -> None:
    crlf = seed_text.replace("\n", "\r\n")
    cable = parse_cable(crlf)
    _assert_telegram_fields(cable)
    assert cable.cable_date == date(2007, 12, 20)
    assert "".join(p.text for p in cable.portions) == crlf
    assert cable.portions[1].text.startswith("¶1. (C) SUMMARY:")
    assert cable.portions[1].text.endswith("END SUMMARY. \r\n \r\n")


def test_seed_telegram_with_crlf_line_ends(seed_text: str) -> None:
    crlf = _telegram(seed_text).replace("\n", "\r\n")
    cable = parse_cable(crlf)
    _assert_telegram_fields(cable)
    assert "".join(p.text for p in cable.portions) == crlf
