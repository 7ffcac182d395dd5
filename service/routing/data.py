"""What routing reads from the database: the active rules, the reviewers with their open
assignments, the facts of a cable, and who already holds a cable's work.

Routing runs inside every ingest, so these reads are lean: Core selects of the needed
columns on the session's connection (no ORM objects), one statement each: an ingest reads
the active rules and the reviewers with their loads, two statements.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import Table, bindparam, func, select
from sqlmodel import Session, col

from service.auth.models import Role, User
from service.cables.models import Cable, Portion, PortionStatus
from service.routing.assignment import Balancer, Reviewer
from service.routing.matcher import CableFacts, RuleSpec, as_level, ordered
from service.routing.models import MATCH_FIELDS, RoutingRule

OPEN_ASSIGNMENT_STATES = (PortionStatus.assigned, PortionStatus.in_review, PortionStatus.returned)
"""A reviewer's open assignments: the portions they still have to act on."""

RULES = cast(Table, RoutingRule.__table__)  # type: ignore[attr-defined]


_RULE_COLUMNS = ("id", "name", "priority", "queue", "min_clearance", *MATCH_FIELDS)
_ACTIVE_RULES = select(*(RULES.c[name] for name in _RULE_COLUMNS)).where(RULES.c.is_active)


@lru_cache(maxsize=1024)
def _spec(row: tuple[Any, ...]) -> RuleSpec:
    """The spec of one stored rule row (pure, so cached by the row's values: a changed
    rule is a new key; the rows themselves are read on every call)."""
    values = dict(zip(_RULE_COLUMNS, row, strict=True))
    return RuleSpec.build(
        id=values["id"],
        name=values["name"],
        priority=values["priority"],
        queue=values["queue"],
        min_clearance=values["min_clearance"],
        **{field: values[field] or () for field in MATCH_FIELDS},
    )


def active_rule_specs(session: Session) -> list[RuleSpec]:
    """Every active rule, in firing order (one select)."""
    rows = session.connection().execute(_ACTIVE_RULES)
    return ordered(
        _spec(tuple(tuple(v) if isinstance(v, list) else v for v in row)) for row in rows
    )


def cable_facts(cable: Cable) -> CableFacts:
    """The facts of `cable` that rules test (its DECL exemption codes count as reasons)."""
    return cable_facts_of(
        {
            "reasons": cable.reasons,
            "decl": cable.decl,
            "tags": cable.tags,
            "origin": cable.origin,
            "decl_kind": cable.decl_kind,
            "caveats": cable.caveats,
        }
    )


def cable_facts_of(values: Mapping[str, Any]) -> CableFacts:
    """`cable_facts` of a cable row not stored yet: the column values it will be inserted
    with (so a cable routed before its insert is routed as it will later be read)."""
    decl: Any = values.get("decl")
    codes = decl.get("codes") or [] if isinstance(decl, dict) else []
    return CableFacts.build(
        reasons=values.get("reasons") or (),
        decl_codes=[str(code) for code in codes],
        tags=values.get("tags") or (),
        origin=values.get("origin"),
        decl_kind=values.get("decl_kind"),
        caveats=values.get("caveats") or (),
    )


@dataclass(frozen=True, slots=True)
class ReviewerLoad:
    reviewer: Reviewer
    open_assignments: int


_ACTIVE_USERS = (
    select(col(User.username), col(User.roles), col(User.clearance), col(User.queues))
    .where(col(User.is_active))
    .order_by(col(User.username))
)
_OPEN_COUNTS = (
    select(col(Portion.assignee), func.count())
    .where(
        col(Portion.assignee).in_(bindparam("names", expanding=True)),
        col(Portion.status).in_([s.value for s in OPEN_ASSIGNMENT_STATES]),
    )
    .group_by(col(Portion.assignee))
)


def active_reviewers(session: Session) -> list[Reviewer]:
    """Every active user with the reviewer role, by username (one select)."""
    out: list[Reviewer] = []
    for username, roles, clearance, queues in session.connection().execute(_ACTIVE_USERS):
        if Role.reviewer.value in (roles or ()):
            out.append(Reviewer(username, as_level(clearance), frozenset(queues or ())))
    return out


def open_assignments(session: Session, usernames: Collection[str]) -> dict[str, int]:
    """Open assignments of each of `usernames` (one GROUP BY, over their portions only)."""
    if not usernames:
        return {}
    rows = session.connection().execute(_OPEN_COUNTS, {"names": sorted(usernames)})
    return {str(name): int(count) for name, count in rows}


_OPEN_COUNT_OF_USER = (
    select(func.count())
    .where(
        col(Portion.assignee) == col(User.username),
        col(Portion.status).in_([s.value for s in OPEN_ASSIGNMENT_STATES]),
    )
    .correlate(User)
    .scalar_subquery()
)
_ACTIVE_USERS_WITH_LOADS = (
    select(
        col(User.username),
        col(User.roles),
        col(User.clearance),
        col(User.queues),
        _OPEN_COUNT_OF_USER,
    )
    .where(col(User.is_active))
    .order_by(col(User.username))
)


def reviewer_loads(session: Session) -> list[ReviewerLoad]:
    """Every active reviewer with their open assignments, by username: one statement (a
    correlated count per active user on the `(assignee, status)` index), since routing
    reads it on every ingest."""
    out: list[ReviewerLoad] = []
    rows = session.connection().execute(_ACTIVE_USERS_WITH_LOADS)
    for username, roles, clearance, queues, count in rows:
        if Role.reviewer.value in (roles or ()):
            reviewer = Reviewer(username, as_level(clearance), frozenset(queues or ()))
            out.append(ReviewerLoad(reviewer, int(count)))
    return out


def load_balancer(
    session: Session,
    *,
    queues: Collection[str] | None = None,
    holders: dict[int, set[str]] | None = None,
) -> Balancer:
    """A balancer over the active reviewers (of `queues` only, when given) with their
    current loads (one statement, `reviewer_loads`)."""
    entries = reviewer_loads(session)
    if queues is not None:
        wanted = frozenset(queues)
        entries = [e for e in entries if not e.reviewer.queues.isdisjoint(wanted)]
    return Balancer(
        [e.reviewer for e in entries],
        loads={e.reviewer.username: e.open_assignments for e in entries},
        holders=holders,
    )


def holders_of(session: Session, cable_ids: Iterable[int]) -> dict[int, set[str]]:
    """Who holds open assignments of these cables (for cable affinity), by cable id."""
    ids = sorted(set(cable_ids))
    out: dict[int, set[str]] = {}
    for start in range(0, len(ids), 1000):
        rows = session.execute(
            select(col(Portion.cable_id), col(Portion.assignee))
            .where(
                col(Portion.cable_id).in_(ids[start : start + 1000]),
                col(Portion.assignee).is_not(None),
                col(Portion.status).in_([s.value for s in OPEN_ASSIGNMENT_STATES]),
            )
            .distinct()
        )
        for cable_id, assignee in rows:
            out.setdefault(cable_id, set()).add(assignee)
    return out
