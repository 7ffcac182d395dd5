"""The default rules (as migration 0003 inserts them) on real cables of ../shared/corpus.

Each row names a corpus cable, optionally with one edit (the corpus has no NODIS/EXDIS
caption and no X1/25X1/25X2 DECL code, so those rows take a real cable and write the
caption or the code into it), and the set of rules that fire on its portions (None: no
rule, the built-in `general` queue).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from test_routing_matcher import DEFAULTS

from service.parsing import ParsedCable, parse_cable
from service.routing.matcher import GENERAL_QUEUE, CableFacts, PortionFacts, Route, route

pytestmark = pytest.mark.corpus

CABLES = Path(__file__).resolve().parents[2].parent / "shared" / "corpus" / "cables"
if not CABLES.is_dir():
    pytest.skip(f"cable corpus not found at {CABLES}", allow_module_level=True)

INTEL, DEFENSE = "intelligence-equities", "defense-wmd"
FGI, NOFORN = "foreign-government-information", "foreign-government-noforn"
SENIOR = "senior-restricted-distribution"

CASES: list[tuple[str, tuple[str, str] | None, set[str | None], str]] = [
    ("07TRIPOLI943", None, {INTEL}, "reasons 1.4(c), 1.4(d)"),
    ("08STATE134490", None, {INTEL}, "1.4(b), 1.4(c): intelligence before foreign government"),
    ("08STATE79112", None, {INTEL}, "1.4(b), 1.4(c), 1.4(d)"),
    ("00HARARE6677", None, {FGI}, "reasons 1.5(b), 1.5(d) (E.O. 12958)"),
    ("02BRASILIA4227", None, {FGI}, "reasons 1.5(b), 1.5(d)"),
    ("09NAIROBI2497", None, {DEFENSE}, "1.4(a), 1.4(b), NOFORN: defense first"),
    ("09BAKU744", None, {DEFENSE}, "reasons 1.4(a), 1.4(d)"),
    ("09PESHAWAR2", None, {DEFENSE}, "reasons 1.4(a), 1.4(b), 1.4(d)"),
    ("08RIGA496", None, {NOFORN}, "caveat NOFORN, reason 1.4(d)"),
    ("09KABUL1892", None, {NOFORN}, "caveat NOFORN, no reason"),
    ("09KABUL376", None, {None, NOFORN}, "C//NF paragraphs; the unmarked header: general"),
    ("85MOGADISHU1242", None, {None, NOFORN}, "E.O. 12356 cable with NF-marked paragraphs"),
    ("04CARACAS2200", None, {None}, "reason 1.4(d) only: general"),
    ("04PARIS8983", None, {None}, "unclassified: general"),
    ("09BAKU744", ("SIPDIS", "SIPDIS\nNODIS"), {SENIOR}, "NODIS caption beats 1.4(a)"),
    ("04CARACAS2200", ("SIPDIS", "EXDIS"), {SENIOR}, "EXDIS caption"),
    ("00HARARE6677", ("DECL: 11/29/10", "DECL: X1"), {INTEL}, "DECL X1 beats 1.5(b)"),
    ("08RIGA496", ("DECL: 08/15/2023", "DECL: 25X1"), {INTEL}, "DECL 25X1 beats NOFORN"),
    ("04CARACAS2200", ("DECL: 07/02/2014", "DECL: 25X2"), {DEFENSE}, "DECL 25X2"),
]


def parse(ref_id: str, edit: tuple[str, str] | None = None) -> ParsedCable:
    text = (CABLES / f"{ref_id}.txt").read_text(encoding="utf-8")
    if edit is not None:
        assert edit[0] in text
        text = text.replace(edit[0], edit[1], 1)
    return parse_cable(text)


def routes(cable: ParsedCable) -> list[Route]:
    facts = CableFacts.build(
        reasons=cable.reasons,
        decl_codes=cable.decl.codes if cable.decl else (),
        tags=cable.tags,
        origin=cable.origin,
        decl_kind=cable.decl.kind.value if cable.decl else None,
        caveats=cable.caveats,
    )
    return [
        route(DEFAULTS, facts, PortionFacts.build(level=p.level.value, marking=p.marking))
        for p in cable.portions
    ]


@pytest.mark.parametrize(
    ("ref_id", "edit", "fired"),
    [case[:3] for case in CASES],
    ids=[f"{case[0]}: {case[3]}" for case in CASES],
)
def test_default_rules_on_the_corpus(
    ref_id: str, edit: tuple[str, str] | None, fired: set[str | None]
) -> None:
    found = routes(parse(ref_id, edit))
    assert {r.rule for r in found} == fired
    assert all((r.rule is None) == (r.queue == GENERAL_QUEUE) for r in found)


def test_every_corpus_portion_is_routed_and_never_below_its_level() -> None:
    queues: Counter[str] = Counter()
    for path in sorted(CABLES.glob("*.txt")):
        cable = parse_cable(path.read_bytes())
        found = routes(cable)
        assert len(found) == len(cable.portions)
        for portion, result in zip(cable.portions, found, strict=True):
            assert result.required == portion.level  # no default rule raises the bar
        queues.update(r.queue for r in found)
    assert queues == {
        "foreign-government": 2116,
        "general": 774,
        "intelligence-equities": 200,
        "defense-wmd": 50,
    }
