"""Which reviewer gets a routed portion: eligibility, load and cable affinity.

PURE module: no database, no web framework.

Invariants of `Balancer.place`:

* A portion only ever goes to an eligible reviewer: a member of its queue whose clearance
  covers its required level (the caller passes only active users with the reviewer role).
  When there is none it stays unassigned (None) and waits in its queue.
* Cable affinity first: a reviewer who already holds portions of the same cable gets the
  portion when eligible, so one reviewer sees as much of a cable as the rules allow.
* Otherwise the fewest open assignments wins, ties broken by username (stable, so the
  same input always gives the same placement). Among those, reviewers cleared for the
  highest level still to be placed of the cable's portions in that queue come first, so
  the first pick can take the rest of the cable too.
* Loads are counted in portions and updated as portions are placed. Because a cable is
  kept together, reviewers' loads differ by at most the largest cable's portion count
  after a run that started level; with equal-size cables they end within one cable.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from service.markings import Level, covers, max_level


@dataclass(frozen=True, slots=True)
class Reviewer:
    """An active user with the reviewer role, as the balancer sees them."""

    username: str
    clearance: Level
    queues: frozenset[str]


@dataclass(frozen=True, slots=True)
class Need:
    """One portion to place: `key` identifies it to the caller (the portion id)."""

    key: int
    cable: int
    queue: str
    required: Level


class Balancer:
    """Places portions on reviewers; keeps the loads and holders it has seen, so one
    balancer can place many cables (a routing pass) with the loads kept current."""

    def __init__(
        self,
        reviewers: Iterable[Reviewer],
        *,
        loads: Mapping[str, int] | None = None,
        holders: Mapping[int, Iterable[str]] | None = None,
    ) -> None:
        self._by_queue: dict[str, list[Reviewer]] = defaultdict(list)
        for reviewer in sorted(reviewers, key=lambda r: r.username):
            for queue in reviewer.queues:
                self._by_queue[queue].append(reviewer)
        self.loads: dict[str, int] = defaultdict(int, loads or {})
        self._holders: dict[int, set[str]] = defaultdict(set)
        for cable, names in (holders or {}).items():
            self._holders[cable].update(names)

    def hold(self, cable: int, usernames: Iterable[str]) -> None:
        """Record that `usernames` already hold portions of `cable` (for affinity)."""
        self._holders[cable].update(usernames)

    def eligible(self, queue: str, required: Level) -> list[Reviewer]:
        """Members of `queue` cleared for `required`, by username."""
        return [r for r in self._by_queue.get(queue, ()) if covers(r.clearance, required)]

    def has_eligible(self, queue: str, required: Level) -> bool:
        return any(covers(r.clearance, required) for r in self._by_queue.get(queue, ()))

    def forget(self, cable: int) -> None:
        """Drop what is known of who holds `cable` (a cable placed in full needs no more
        affinity in this pass; keeps a long pass's memory flat)."""
        self._holders.pop(cable, None)

    def release(self, username: str | None) -> None:
        """One open assignment of `username` goes away (its portion is being moved)."""
        if username is not None and self.loads.get(username, 0) > 0:
            self.loads[username] -= 1

    def _pick(self, candidates: Sequence[Reviewer]) -> Reviewer:
        return min(candidates, key=lambda r: (self.loads[r.username], r.username))

    def place(self, needs: Sequence[Need]) -> dict[int, str | None]:
        """The assignee (or None) of each need, by key; needs of one cable are kept in the
        order given (seq order), cables in order of first appearance."""
        by_cable: dict[int, list[Need]] = defaultdict(list)
        for need in needs:
            by_cable[need.cable].append(need)
        out: dict[int, str | None] = {}
        for cable, group in by_cable.items():
            holders = self._holders[cable]
            tops = _highest_still_to_place(group)
            eligible: dict[tuple[str, Level], list[Reviewer]] = {}
            for index, need in enumerate(group):
                key = (need.queue, need.required)
                candidates = eligible.get(key)
                if candidates is None:
                    candidates = eligible[key] = self.eligible(need.queue, need.required)
                if not candidates:
                    out[need.key] = None
                    continue
                affine = [r for r in candidates if r.username in holders]
                if affine:
                    chosen = self._pick(affine)
                else:
                    wide = [r for r in candidates if covers(r.clearance, tops[index])]
                    chosen = self._pick(wide or candidates)
                self.loads[chosen.username] += 1
                holders.add(chosen.username)
                out[need.key] = chosen.username
        return out


def _highest_still_to_place(group: Sequence[Need]) -> list[Level]:
    """For each need of a cable, the highest level required by it and the needs after it
    in the same queue (the clearance a first pick needs to take the rest of the cable)."""
    tops: list[Level] = [need.required for need in group]
    running: dict[str, Level] = {}
    for index in range(len(group) - 1, -1, -1):
        need = group[index]
        seen = running.get(need.queue)
        running[need.queue] = tops[index] = (
            need.required if seen is None else max_level(seen, need.required)
        )
    return tops


def spread(loads: Mapping[str, int], usernames: Iterable[str]) -> int:
    """Largest minus smallest load among `usernames` (0 for none): the balance measure."""
    values = [loads.get(name, 0) for name in usernames]
    return max(values) - min(values) if values else 0
