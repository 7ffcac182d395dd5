"""The pure routing matcher: rule semantics, the default rules of migration 0003 on
hand-made facts, and firing order. (The same defaults on the real corpus:
tests/unit/test_routing_corpus.py.)"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest

from service.markings import Level
from service.routing.matcher import (
    GENERAL_QUEUE,
    CableFacts,
    PortionFacts,
    RuleSpec,
    first_match,
    matches,
    ordered,
    route,
)

MIGRATION = Path(__file__).resolve().parents[2] / "alembic" / "versions" / "0003_routing_rule.py"


def default_rules() -> list[RuleSpec]:
    """The rules migration 0003 inserts, read from the migration itself."""
    spec = importlib.util.spec_from_file_location("routing_migration", MIGRATION)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    rows: list[dict[str, Any]] = module.DEFAULT_RULES
    return ordered(RuleSpec.build(**row) for row in rows)


DEFAULTS = default_rules()


def test_defaults_fire_in_documented_order() -> None:
    assert [(r.priority, r.name, r.queue) for r in DEFAULTS] == [
        (10, "senior-restricted-distribution", "senior"),
        (20, "intelligence-equities", "intelligence-equities"),
        (30, "defense-wmd", "defense-wmd"),
        (40, "foreign-government-information", "foreign-government"),
        (50, "foreign-government-noforn", "foreign-government"),
    ]


def cable(**kw: Any) -> CableFacts:
    return CableFacts.build(**kw)


def portion(level: str = "CONFIDENTIAL", marking: str | None = None) -> PortionFacts:
    return PortionFacts.build(level=level, marking=marking)


INTEL, FGOV = "intelligence-equities", "foreign-government"
DEFENSE, SENIOR = "defense-wmd", "senior"
FGI, NOFORN = "foreign-government-information", "foreign-government-noforn"
SENIOR_RULE = "senior-restricted-distribution"

DEFAULT_CASES = [
    # (case, cable facts, portion facts, expected queue, expected rule)
    ("1.4(c)", cable(reasons=["1.4(c)"]), portion(), INTEL, INTEL),
    ("1.4(C) upper case", cable(reasons=["1.4(C)"]), portion(), INTEL, INTEL),
    ("1.5(c) of 12958", cable(reasons=["1.5(c)"]), portion(), INTEL, INTEL),
    ("1.3(a)(4) of 12356", cable(reasons=["1.3(a)(4)"]), portion(), INTEL, INTEL),
    ("DECL X1", cable(decl_codes=["X1"]), portion(), INTEL, INTEL),
    ("DECL 25X1", cable(decl_codes=["25X1"]), portion(), INTEL, INTEL),
    ("DECL 50X1-HUM", cable(decl_codes=["50X1-HUM"]), portion(), INTEL, INTEL),
    ("1.4(b)", cable(reasons=["1.4(b)", "1.4(d)"]), portion(), FGOV, FGI),
    ("1.5(b) of 12958", cable(reasons=["1.5(b)", "1.5(d)"]), portion(), FGOV, FGI),
    ("NOFORN caveat", cable(caveats=["NOFORN"]), portion(), FGOV, NOFORN),
    ("S//NF mark", cable(reasons=["1.4(d)"]), portion("SECRET", "S//NF"), FGOV, NOFORN),
    ("SBU//NF mark", cable(), portion("UNCLASSIFIED", "SBU//NF"), FGOV, NOFORN),
    ("1.4(a)", cable(reasons=["1.4(a)"]), portion(), DEFENSE, DEFENSE),
    ("1.4(g)", cable(reasons=["1.4(g)"]), portion(), DEFENSE, DEFENSE),
    ("1.4(h)", cable(reasons=["1.4(h)"]), portion(), DEFENSE, DEFENSE),
    ("DECL X2", cable(decl_codes=["X2"]), portion(), DEFENSE, DEFENSE),
    ("DECL 25X2", cable(decl_codes=["25X2"]), portion(), DEFENSE, DEFENSE),
    ("DECL 50X2-WMD", cable(decl_codes=["50X2-WMD"]), portion(), DEFENSE, DEFENSE),
    ("NODIS", cable(caveats=["NODIS"]), portion(), SENIOR, SENIOR_RULE),
    ("EXDIS", cable(caveats=["EXDIS"]), portion(), SENIOR, SENIOR_RULE),
    ("1.4(d) only", cable(reasons=["1.4(d)"]), portion(), GENERAL_QUEUE, None),
    ("nothing", cable(), portion("UNCLASSIFIED"), GENERAL_QUEUE, None),
    ("SIPDIS is no NOFORN", cable(caveats=["SIPDIS"]), portion(), GENERAL_QUEUE, None),
    # Order: the stricter equity wins when several match.
    ("NODIS beats 1.4(c)", cable(caveats=["NODIS"], reasons=["1.4(c)"]), portion(), SENIOR, SENIOR_RULE),  # noqa: E501
    ("1.4(c) beats 1.4(a)", cable(reasons=["1.4(a)", "1.4(c)"]), portion(), INTEL, INTEL),
    ("1.4(a) beats 1.4(b)", cable(reasons=["1.4(b)", "1.4(a)"]), portion(), DEFENSE, DEFENSE),
    ("1.4(c) beats NOFORN", cable(reasons=["1.4(c)"], caveats=["NOFORN"]), portion(), INTEL, INTEL),
]  # fmt: skip


@pytest.mark.parametrize(
    ("cable_facts", "portion_facts", "queue", "rule"),
    [case[1:] for case in DEFAULT_CASES],
    ids=[case[0] for case in DEFAULT_CASES],
)
def test_default_rules(
    cable_facts: CableFacts, portion_facts: PortionFacts, queue: str, rule: str | None
) -> None:
    found = route(DEFAULTS, cable_facts, portion_facts)
    assert (found.queue, found.rule) == (queue, rule)


def test_lists_are_any_of_and_fields_all_of() -> None:
    rule = RuleSpec.build(
        name="r", priority=1, queue="q", tags=["PREL", "PGOV"], origins=["Embassy Tokyo"]
    )
    tokyo_prel = cable(tags=["PREL", "JA"], origin="Embassy Tokyo")
    assert matches(rule, tokyo_prel, portion())
    assert matches(rule, cable(tags=["pgov"], origin="embassy  tokyo"), portion())
    assert not matches(rule, cable(tags=["PREL"], origin="Embassy Paris"), portion())
    assert not matches(rule, cable(tags=["ECON"], origin="Embassy Tokyo"), portion())


def test_empty_rule_matches_everything() -> None:
    rule = RuleSpec.build(name="all", priority=1, queue="q")
    assert matches(rule, cable(), portion("TOP SECRET", "TS"))


def test_levels_markings_and_decl_kinds() -> None:
    secret_only = RuleSpec.build(name="s", priority=1, queue="q", levels=["SECRET"])
    assert matches(secret_only, cable(), portion("SECRET"))
    assert not matches(secret_only, cable(), portion("TOP SECRET"))
    nf_mark = RuleSpec.build(name="nf", priority=1, queue="q", markings=["NF"])
    assert matches(nf_mark, cable(), portion("SECRET", "S//NF"))
    assert not matches(nf_mark, cable(caveats=["NOFORN"]), portion("SECRET", "S"))
    assert not matches(nf_mark, cable(), portion("SECRET", None))
    oadr = RuleSpec.build(name="o", priority=1, queue="q", decl_kinds=["oadr"])
    assert matches(oadr, cable(decl_kind="oadr"), portion())
    assert not matches(oadr, cable(decl_kind=None), portion())


def test_order_is_priority_then_name_whatever_the_load_order() -> None:
    b = RuleSpec.build(name="b", priority=5, queue="qb")
    a = RuleSpec.build(name="a", priority=5, queue="qa")
    z = RuleSpec.build(name="z", priority=1, queue="qz", tags=["NONE"])
    for loaded in ([b, a, z], [z, a, b], [a, b, z]):
        assert first_match(ordered(loaded), cable(), portion()) == a


def test_required_level_is_the_higher_of_portion_and_rule() -> None:
    rules = [RuleSpec.build(name="r", priority=1, queue="q", min_clearance="SECRET")]
    assert route(rules, cable(), portion("CONFIDENTIAL")).required is Level.SECRET
    assert route(rules, cable(), portion("TOP SECRET")).required is Level.TOP_SECRET
    assert route([], cable(), portion("CONFIDENTIAL")).required is Level.CONFIDENTIAL


def test_unknown_level_is_treated_as_top_secret() -> None:
    assert portion("SECRETISH").level is Level.TOP_SECRET
