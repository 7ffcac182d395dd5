"""The supervisors' view of the queues: open work, waiting work, members and due dates.

A queue is listed when it is known (`general`, named by a rule or a user) or still holds
open work. Counts are of portions: `open_count` those not yet approved, `unassignable_count`
those waiting (pending, no assignee), `oldest_declassify_on` the soonest `declassify_on` of
the cables of its open portions. Nothing here carries portion text.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from sqlalchemy import and_, case, func, select
from sqlmodel import Session, col

from service.cables.models import Cable, Portion, PortionStatus
from service.routing.data import reviewer_loads
from service.routing.models import RoutingRule
from service.routing.rules import known_queues
from service.routing.schemas import QueueMember, QueueView


def queue_overview(session: Session) -> list[QueueView]:
    """Every queue by name, with its counts, members and active rules (five small queries)."""
    waiting = and_(col(Portion.status) == PortionStatus.pending, col(Portion.assignee).is_(None))
    statement = (
        select(
            col(Portion.queue),
            col(Portion.level),
            func.count(),
            func.sum(case((waiting, 1), else_=0)),
            func.min(col(Cable.declassify_on)),
        )
        .join(Cable, col(Cable.id) == col(Portion.cable_id))
        .where(col(Portion.queue).is_not(None), col(Portion.status) != PortionStatus.approved)
        .group_by(col(Portion.queue), col(Portion.level))
    )
    open_count: dict[str, int] = defaultdict(int)
    unassignable: dict[str, dict[str, int]] = defaultdict(dict)
    oldest: dict[str, date] = {}
    for queue, level, count, waiting_count, soonest in session.execute(statement):
        open_count[queue] += int(count)
        if waiting_count:
            unassignable[queue][level] = int(waiting_count)
        if soonest is not None and (queue not in oldest or soonest < oldest[queue]):
            oldest[queue] = soonest
    rules: dict[str, list[str]] = defaultdict(list)
    rule_rows = session.execute(
        select(col(RoutingRule.queue), col(RoutingRule.name))
        .where(col(RoutingRule.is_active))
        .order_by(col(RoutingRule.priority), col(RoutingRule.name))
    )
    for queue, name in rule_rows:
        rules[queue].append(name)
    members: dict[str, list[QueueMember]] = defaultdict(list)
    for entry in reviewer_loads(session):
        for queue in sorted(entry.reviewer.queues):
            members[queue].append(
                QueueMember(
                    username=entry.reviewer.username,
                    clearance=entry.reviewer.clearance,
                    open_assignments=entry.open_assignments,
                )
            )
    names = known_queues(session) | set(open_count)
    return [
        QueueView(
            name=name,
            rules=rules.get(name, []),
            open_count=open_count.get(name, 0),
            unassignable_count=sum(unassignable.get(name, {}).values()),
            unassignable_by_level=unassignable.get(name, {}),
            oldest_declassify_on=oldest.get(name),
            members=members.get(name, []),
        )
        for name in sorted(names)
    ]
