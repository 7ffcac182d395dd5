"""Which queue a portion goes to: routing rules matched against a portion and its cable.

PURE module: no database, no web framework.

Invariants:

* A rule matches when every one of its non-empty lists shares at least one value with the
  portion's facts ("any of" within a list, "and" across lists); a rule with all lists empty
  matches everything. Values compare case-insensitively with whitespace collapsed.
* `first_match` picks among active rules by ascending `(priority, name)`, so the result
  never depends on the order rules were loaded in; no match routes to `GENERAL_QUEUE`.
* The facts of a portion (see `PortionFacts`, `CableFacts`):
  - `levels`: the portion's level; `markings`: its marking and the marking's `//` parts
    (`S//NF` gives `S//NF`, `S`, `NF`); a portion without a marking has no markings;
  - `caveats`: the cable's caveats plus those its mark carries (`S//NF` carries NOFORN);
  - `reasons`: the cable's classification reasons plus its DECL exemption codes (`X1`,
    `25X1`, `50X1-HUM`), which name the same equities in later orders;
  - `tags`, `origins`, `decl_kinds`: the cable's tags, origin and DECL kind.
* A route's `required` level is the higher of the portion's level and the rule's
  `min_clearance`: a reviewer below it never gets the portion. A level this module does
  not know counts as TOP SECRET (the safe side).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from service.markings import Level, max_level, parse_mark

GENERAL_QUEUE = "general"


def norm(value: str) -> str:
    """The comparison form of a match value: upper-case, whitespace collapsed."""
    return " ".join(value.split()).upper()


def _norm_set(values: Iterable[str | None]) -> frozenset[str]:
    return frozenset(norm(v) for v in values if v is not None and v.strip())


def as_level(value: str | None) -> Level:
    """`value` as a Level; unknown or missing text is TOP SECRET (never under-protects)."""
    try:
        return Level(norm(value or ""))
    except ValueError:
        return Level.TOP_SECRET


@dataclass(frozen=True, slots=True)
class RuleSpec:
    """One routing rule as the matcher sees it (lists already in comparison form)."""

    name: str
    priority: int
    queue: str
    id: int | None = None
    min_clearance: Level | None = None
    levels: frozenset[str] = frozenset()
    markings: frozenset[str] = frozenset()
    reasons: frozenset[str] = frozenset()
    tags: frozenset[str] = frozenset()
    origins: frozenset[str] = frozenset()
    decl_kinds: frozenset[str] = frozenset()
    caveats: frozenset[str] = frozenset()

    @classmethod
    def build(
        cls,
        *,
        name: str,
        priority: int,
        queue: str,
        id: int | None = None,
        min_clearance: str | None = None,
        levels: Iterable[str] = (),
        markings: Iterable[str] = (),
        reasons: Iterable[str] = (),
        tags: Iterable[str] = (),
        origins: Iterable[str] = (),
        decl_kinds: Iterable[str] = (),
        caveats: Iterable[str] = (),
    ) -> RuleSpec:
        """A spec from stored or posted values, normalising every list."""
        return cls(
            name=name,
            priority=priority,
            queue=queue,
            id=id,
            min_clearance=as_level(min_clearance) if min_clearance else None,
            levels=_norm_set(levels),
            markings=_norm_set(markings),
            reasons=_norm_set(reasons),
            tags=_norm_set(tags),
            origins=_norm_set(origins),
            decl_kinds=_norm_set(decl_kinds),
            caveats=_norm_set(caveats),
        )


@dataclass(frozen=True, slots=True)
class CableFacts:
    """What rules may test about a cable, in comparison form."""

    reasons: frozenset[str] = frozenset()
    tags: frozenset[str] = frozenset()
    origins: frozenset[str] = frozenset()
    decl_kinds: frozenset[str] = frozenset()
    caveats: frozenset[str] = frozenset()

    @classmethod
    def build(
        cls,
        *,
        reasons: Iterable[str] = (),
        decl_codes: Iterable[str] = (),
        tags: Iterable[str] = (),
        origin: str | None = None,
        decl_kind: str | None = None,
        caveats: Iterable[str] = (),
    ) -> CableFacts:
        return cls(
            reasons=_norm_set([*reasons, *decl_codes]),
            tags=_norm_set(tags),
            origins=_norm_set([origin]),
            decl_kinds=_norm_set([decl_kind]),
            caveats=_norm_set(caveats),
        )


@lru_cache(maxsize=512)
def _marking_facts(marking: str) -> tuple[frozenset[str], frozenset[str]]:
    """(markings, caveats) of one marking: the whole, its `//` parts, the mark's caveats."""
    whole = norm(marking)
    parts = {whole, *(norm(p) for p in whole.split("//") if p.strip())}
    mark = parse_mark(marking)
    caveats = _norm_set(mark.caveats) if mark is not None else frozenset()
    return frozenset(parts), caveats


@dataclass(frozen=True, slots=True)
class PortionFacts:
    """What rules may test about one portion, in comparison form."""

    level: Level
    markings: frozenset[str] = frozenset()
    caveats: frozenset[str] = frozenset()

    @classmethod
    def build(cls, *, level: str, marking: str | None) -> PortionFacts:
        if not marking or not marking.strip():
            return cls(level=as_level(level))
        markings, caveats = _marking_facts(marking)
        return cls(level=as_level(level), markings=markings, caveats=caveats)


def _hit(wanted: frozenset[str], have: frozenset[str]) -> bool:
    return not wanted or not wanted.isdisjoint(have)


def matches(rule: RuleSpec, cable: CableFacts, portion: PortionFacts) -> bool:
    """True when every non-empty list of `rule` meets the facts (see the module invariants)."""
    # A Level is a str enum, so it is found in a set of level names as is.
    return (
        (not rule.levels or portion.level in rule.levels)
        and _hit(rule.markings, portion.markings)
        and (
            not rule.caveats
            or not rule.caveats.isdisjoint(cable.caveats)
            or not rule.caveats.isdisjoint(portion.caveats)
        )
        and _hit(rule.reasons, cable.reasons)
        and _hit(rule.tags, cable.tags)
        and _hit(rule.origins, cable.origins)
        and _hit(rule.decl_kinds, cable.decl_kinds)
    )


def ordered(rules: Iterable[RuleSpec]) -> list[RuleSpec]:
    """Rules in firing order: ascending priority, then name."""
    return sorted(rules, key=lambda rule: (rule.priority, rule.name))


def first_match(
    rules: Sequence[RuleSpec], cable: CableFacts, portion: PortionFacts
) -> RuleSpec | None:
    """The rule that fires for this portion, or None; `rules` must be `ordered(...)`."""
    for rule in rules:
        if matches(rule, cable, portion):
            return rule
    return None


@dataclass(frozen=True, slots=True)
class Route:
    """Where a portion goes: its queue, the rule that sent it (None: the built-in
    `general` fallback) and the lowest clearance that may review it."""

    queue: str
    rule: str | None
    required: Level


def route(rules: Sequence[RuleSpec], cable: CableFacts, portion: PortionFacts) -> Route:
    """The route of one portion under `rules` (already `ordered`)."""
    rule = first_match(rules, cable, portion)
    if rule is None:
        return Route(queue=GENERAL_QUEUE, rule=None, required=portion.level)
    required = max_level(portion.level, rule.min_clearance or portion.level)
    return Route(queue=rule.queue, rule=rule.name, required=required)
