"""What routing reads from the database: the active rules, the reviewers with their open
assignments, the facts of a cable, and who already holds a cable's work.

Routing runs inside every ingest, so these reads are lean: Core selects of the needed
columns on the session's connection (no ORM objects), one statement each.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, func, select
from sqlmodel import Session, col

from service.auth.models import Role, User
from service.cables.models import Cable, Portion, PortionStatus
from service.routing.assignment import Balancer, Reviewer
from service.routing.matcher import CableFacts, RuleSpec, as_level, ordered
from service.routing.models import MATCH_FIELDS, RoutingRule

OPEN_ASSIGNMENT_STATES = (PortionStatus.assigned, PortionStatus.in_review, PortionStatus.returned)
"""A reviewer's open assignments: the portions they still have to act on."""

RULES = cast(Table, RoutingRule.__table__)  # type: ignore[attr-defined]


def active_rule_specs(session: Session) -> list[RuleSpec]:
    """Every active rule, in firing order (one select)."""
    rows = session.connection().execute(select(RULES).where(RULES.c.is_active)).mappings()
    return ordered(
        RuleSpec.build(
            id=row["id"],
            name=row["name"],
            priority=row["priority"],
            queue=row["queue"],
            min_clearance=row["min_clearance"],
            **{field: row[field] or () for field in MATCH_FIELDS},
        )
        for row in rows
    )


def cable_facts(cable: Cable) -> CableFacts:
    """The facts of `cable` that rules test (its DECL exemption codes count as reasons)."""
    decl: Any = cable.decl
    codes = decl.get("codes") or [] if isinstance(decl, dict) else []
    return CableFacts.build(
        reasons=cable.reasons or (),
        decl_codes=[str(code) for code in codes],
        tags=cable.tags or (),
        origin=cable.origin,
        decl_kind=cable.decl_kind,
        caveats=cable.caveats or (),
    )


@dataclass(frozen=True, slots=True)
class ReviewerLoad:
    reviewer: Reviewer
    open_assignments: int


def reviewer_loads(session: Session) -> list[ReviewerLoad]:
    """Every active user with the reviewer role and their open assignments, by username:
    one statement (the users joined to one GROUP BY over the portions)."""
    counts = (
        select(col(Portion.assignee).label("assignee"), func.count().label("n"))
        .where(
            col(Portion.assignee).is_not(None),
            col(Portion.status).in_([s.value for s in OPEN_ASSIGNMENT_STATES]),
        )
        .group_by(col(Portion.assignee))
        .subquery()
    )
    statement = (
        select(
            col(User.username), col(User.roles), col(User.clearance), col(User.queues), counts.c.n
        )
        .outerjoin(counts, counts.c.assignee == col(User.username))
        .where(col(User.is_active))
        .order_by(col(User.username))
    )
    out: list[ReviewerLoad] = []
    for username, roles, clearance, queues, n in session.connection().execute(statement):
        if Role.reviewer.value not in (roles or ()):
            continue
        reviewer = Reviewer(
            username=username, clearance=as_level(clearance), queues=frozenset(queues or ())
        )
        out.append(ReviewerLoad(reviewer, int(n or 0)))
    return out


def load_balancer(session: Session, *, holders: dict[int, set[str]] | None = None) -> Balancer:
    """A balancer over the active reviewers with their current loads."""
    loads = reviewer_loads(session)
    return Balancer(
        (entry.reviewer for entry in loads),
        loads={entry.reviewer.username: entry.open_assignments for entry in loads},
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
