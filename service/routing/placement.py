"""Routing a new cable before its portions are written (ingest and bulk import).

A `Router` holds the active rules and a `Balancer`, read once: per request for a cable
posted to the API (`route_new_cable`), once per batch for an import or a `declass ingest`
of many files (`load_router`), the balancer's loads carried from one cable to the next.
Placing cables one after another with one router gives exactly what ingesting them one by
one in the same order gives, since each ingest reads the loads its predecessors left.

Each portion, the header included, gets the queue of the first active rule that matches
(else `general`) and, when one is eligible, a reviewer (`Balancer.place`: a new cable has
no holders yet). The portions are then inserted already placed, at version 1: `assigned`
with their assignee, or `pending` waiting in their queue. There is no per-portion update and
no per-portion audit event: the cable's `cable.ingested` event carries the routing in its
detail, `"routing": [{"queue", "assignee", "rule", "seqs": [...]}, ...]` (`rule` null: the
built-in `general` fallback; `assignee` null: waiting), so every routing still writes an
audit event naming the rule that fired for each portion.

The cable's roll-up status is `review.states.cable_rollup` of the placed portions, the
same as when the portions were routed one by one after being inserted (`received`).
"""

from __future__ import annotations

import itertools
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from service.cables.models import PortionStatus
from service.markings import covers
from service.review.states import CableState, PortionState, cable_rollup
from service.routing.assignment import Balancer, Need
from service.routing.data import (
    active_reviewers,
    active_rule_specs,
    load_balancer,
    open_assignments,
)
from service.routing.matcher import CableFacts, PortionFacts, Route, RuleSpec, route

PortionKey = tuple[int, str, str | None]
"""What routing needs of a portion not stored yet: (seq, level, marking)."""


@dataclass(frozen=True, slots=True)
class Placement:
    """Where one new portion goes: its queue, its assignee (None: it waits) and the rule
    that fired (None: the `general` fallback)."""

    seq: int
    queue: str
    assignee: str | None
    rule: str | None

    @property
    def status(self) -> PortionStatus:
        return PortionStatus.assigned if self.assignee is not None else PortionStatus.pending


def routing_detail(placements: Iterable[Placement]) -> list[dict[str, Any]]:
    """The audit form of a cable's routing: one entry per (queue, assignee, rule), in order
    of its first portion, listing its portions' `seqs` (each seq in exactly one entry). A
    cable's portions mostly share a route, so this is a fraction of one entry per portion
    to normalise and hash."""
    groups: dict[tuple[str, str | None, str | None], list[int]] = {}
    for p in placements:
        groups.setdefault((p.queue, p.assignee, p.rule), []).append(p.seq)
    return [
        {"queue": queue, "assignee": assignee, "rule": rule, "seqs": seqs}
        for (queue, assignee, rule), seqs in groups.items()
    ]


def routes_of(
    rules: Sequence[RuleSpec], facts: CableFacts, portions: Iterable[PortionKey]
) -> list[tuple[int, Route]]:
    """(seq, route) of each portion under `rules` (in firing order); portions of a cable
    with the same level and marking have the same facts, so they are matched once."""
    found: dict[tuple[str, str | None], Route] = {}
    out: list[tuple[int, Route]] = []
    for seq, level, marking in portions:
        key = (level, marking)
        hit = found.get(key)
        if hit is None:
            hit = found[key] = route(rules, facts, PortionFacts.build(level=level, marking=marking))
        out.append((seq, hit))
    return out


class Router:
    """Places new cables one after another with the loads kept current."""

    def __init__(self, rules: Sequence[RuleSpec], balancer: Balancer) -> None:
        self.rules = rules
        self.balancer = balancer
        # New cables have no id yet and no holders: each gets a key no stored cable has.
        self._keys = itertools.count(-1, -1)

    def place_routes(self, routes: Sequence[tuple[int, Route]]) -> list[Placement]:
        key = next(self._keys)
        placed = self.balancer.place([Need(seq, key, r.queue, r.required) for seq, r in routes])
        self.balancer.forget(key)
        return [Placement(seq, r.queue, placed[seq], r.rule) for seq, r in routes]

    def place(self, facts: CableFacts, portions: Iterable[PortionKey]) -> list[Placement]:
        """Route and place the portions of one new cable (seq order)."""
        return self.place_routes(routes_of(self.rules, facts, portions))


def load_router(session: Session, *, queues: Collection[str] | None = None) -> Router:
    """The active rules and a balancer over the active reviewers (of `queues`, when given)
    with their current open assignments: two statements (once per import batch)."""
    return Router(active_rule_specs(session), load_balancer(session, queues=queues))


def route_new_cable(
    session: Session, *, facts: CableFacts, portions: Sequence[PortionKey]
) -> list[Placement]:
    """The placements of one new cable (the single-ingest path): the active rules, the
    active reviewers, and the open assignments of those eligible for its portions, three
    small reads at most."""
    rules = active_rule_specs(session)
    routes = routes_of(rules, facts, portions)
    wanted = {(r.queue, r.required) for _, r in routes}
    candidates = [
        reviewer
        for reviewer in active_reviewers(session)
        if any(q in reviewer.queues and covers(reviewer.clearance, lv) for q, lv in wanted)
    ]
    # Loads only order the candidates: with one (or none) there is nothing to count, and
    # otherwise only theirs are counted (the count grows with their open work).
    names = [r.username for r in candidates]
    loads = open_assignments(session, names) if len(names) > 1 else {}
    return Router(rules, Balancer(candidates, loads=loads)).place_routes(routes)


def rolled_up_status(placements: Iterable[Placement]) -> str:
    """The new cable's status from its placed portions (`review.states.cable_rollup`)."""
    # The roll-up depends on which states occur, not how often: one per distinct state.
    states = {PortionState.assigned if p.assignee else PortionState.pending for p in placements}
    return cable_rollup(CableState.received, states).value
