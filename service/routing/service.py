"""Routing work that is already stored to queues and reviewers. Services never commit:
the caller's transaction does.

- A new cable is routed before its portions are written (`service.routing.placement`,
  called by `ingest_cable` and the import's `store_batch`): that path never comes here.
- `assign_waiting` / `assign_waiting_for_user`: waiting portions get a reviewer once one is
  eligible (the auth service calls the latter when a user is created or changed).
- `apply_rules`: the current rules applied to unclaimed work (`pending`, `assigned`), with a
  dry run; claimed work never moves here.

Eligible reviewer: an active user with the reviewer role, a member of the portion's queue,
cleared for its required level (`matcher.Route.required`). Choice: `assignment.Balancer`
(cable affinity, then fewest open assignments, then username). Open assignments are the
portions a reviewer still has to act on: `assigned`, `in_review`, `returned`.

These rare moves go through `service.review.service.assign` (the one `transition()`), one
portion at a time, which writes one `portion.routed` event per portion naming the queue,
the assignee and the rule (null: the built-in `general` fallback). `assign_waiting` acts as
the system principal `routing`; `apply_rules` acts as the supervisor who asked.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from sqlalchemy import select
from sqlmodel import Session, col

from service.auth.models import Role, User
from service.auth.principal import Principal, system_principal
from service.cables.models import Cable, Portion, PortionStatus
from service.errors import InvalidTransition, PreconditionFailed
from service.routing.assignment import Need
from service.routing.data import active_rule_specs, cable_facts, holders_of, load_balancer
from service.routing.matcher import CableFacts, PortionFacts, Route, RuleSpec, as_level, route
from service.routing.schemas import ApplyResult, Move, PortionPlace

UNCLAIMED_STATES = (PortionStatus.pending, PortionStatus.assigned)
ROUTING_ACTOR = system_principal("routing")


def portion_route(rules: Sequence[RuleSpec], cable: CableFacts, portion: Portion) -> Route:
    return route(rules, cable, PortionFacts.build(level=portion.level, marking=portion.marking))


def _store(
    session: Session,
    *,
    portion: Portion,
    queue: str,
    assignee: str | None,
    rule: str | None,
    actor: Principal,
    cable: Cable | None = None,
) -> None:
    # Imported here: review -> auth -> routing (the user hook) -> review would be a cycle.
    from service.review.service import assign

    assign(
        session,
        portion=portion,
        assignee=assignee,
        queue=queue,
        actor=actor,
        rule=rule,
        cable=cable,
    )


def assign_waiting(session: Session, *, queues: Collection[str] | None = None) -> int:
    """Give waiting portions (pending, in a queue, no assignee) of `queues` (all queues
    when None) to eligible reviewers; returns how many were assigned. Portions keep their
    queue: moving between queues is `apply_rules`'s job."""
    balancer = load_balancer(session)
    statement = (
        select(Portion, Cable)
        .join(Cable, col(Cable.id) == col(Portion.cable_id))
        .where(
            col(Portion.status) == PortionStatus.pending,
            col(Portion.assignee).is_(None),
            col(Portion.queue).is_not(None),
        )
        .order_by(col(Portion.cable_id), col(Portion.seq))
    )
    if queues is not None:
        statement = statement.where(col(Portion.queue).in_(sorted(set(queues))))
    rows = [
        (p, c)
        for p, c in session.execute(statement).all()
        if p.queue is not None and balancer.has_eligible(p.queue, as_level(p.level))
    ]
    if not rows:
        return 0
    rules = active_rule_specs(session)
    needs: list[Need] = []
    routes: dict[int, Route] = {}
    for portion, cable in rows:
        assert portion.id is not None
        assert portion.queue is not None
        found = portion_route(rules, cable_facts(cable), portion)
        if found.queue != portion.queue:  # the rules changed since: keep the queue
            found = Route(portion.queue, None, as_level(portion.level))
        routes[portion.id] = found
        needs.append(Need(portion.id, portion.cable_id, portion.queue, found.required))
    balancer = load_balancer(session, holders=holders_of(session, (c.id or 0 for _, c in rows)))
    placed = balancer.place(needs)
    assigned = 0
    for portion, _cable in rows:
        assignee = placed.get(portion.id or 0)
        if assignee is None or portion.queue is None:
            continue
        _store(
            session,
            portion=portion,
            queue=portion.queue,
            assignee=assignee,
            rule=routes[portion.id or 0].rule,
            actor=ROUTING_ACTOR,
        )
        assigned += 1
    return assigned


def assign_waiting_for_user(session: Session, *, user: User) -> int:
    """Call after creating or changing `user` (roles, clearance, queues, active): when the
    user is an active reviewer, waiting portions of the user's queues are assigned."""
    if not user.is_active or Role.reviewer.value not in user.roles or not user.queues:
        return 0
    return assign_waiting(session, queues=user.queues)


def _place(portion: Portion) -> PortionPlace:
    return PortionPlace(queue=portion.queue, assignee=portion.assignee, status=portion.status)


def apply_rules(
    session: Session, *, actor: Principal, dry_run: bool, limit: int = 500
) -> ApplyResult:
    """Apply the current rules to unclaimed portions (`pending`, `assigned`).

    A portion moves when the rules now send it to another queue, when its assignee is no
    longer eligible (inactive, out of the queue, not cleared), or when it waits and a
    reviewer is now eligible; an assigned portion that stays in its queue with an eligible
    assignee is left alone. Claimed work (`in_review` and later) never moves. With
    `dry_run` nothing changes and the moves are listed. Portions claimed meanwhile are
    counted as `skipped`. Needs a supervisor `actor` (the review table's `assign`).
    """
    statement = (
        select(Portion, Cable)
        .join(Cable, col(Cable.id) == col(Portion.cable_id))
        .where(col(Portion.status).in_([s.value for s in UNCLAIMED_STATES]))
        .order_by(col(Portion.cable_id), col(Portion.seq))
    )
    rows = [(p, c) for p, c in session.execute(statement).all()]
    rules = active_rule_specs(session)
    facts: dict[int, CableFacts] = {}
    balancer = load_balancer(session)
    routes: dict[int, Route] = {}
    moving: list[tuple[Portion, Cable]] = []
    holders: dict[int, set[str]] = {}
    for portion, cable in rows:
        assert portion.id is not None
        assert cable.id is not None
        cable_fact = facts.setdefault(cable.id, cable_facts(cable))
        found = portion_route(rules, cable_fact, portion)
        routes[portion.id] = found
        keeps = (
            found.queue == portion.queue
            and portion.assignee is not None
            and any(
                r.username == portion.assignee
                for r in balancer.eligible(found.queue, found.required)
            )
        )
        if keeps and portion.assignee is not None:
            holders.setdefault(cable.id, set()).add(portion.assignee)
        else:
            balancer.release(portion.assignee)
            moving.append((portion, cable))
    holders_claimed = holders_of(session, (c.id or 0 for _, c in moving))
    for cable_id, names in [*holders.items(), *holders_claimed.items()]:
        balancer.hold(cable_id, names)
    placed = balancer.place(
        [
            Need(p.id or 0, p.cable_id, routes[p.id or 0].queue, routes[p.id or 0].required)
            for p, _ in moving
        ]
    )
    moves: list[Move] = []
    skipped = 0
    for portion, cable in moving:
        found = routes[portion.id or 0]
        assignee = placed.get(portion.id or 0)
        if (found.queue, assignee) == (portion.queue, portion.assignee):
            continue
        old = _place(portion)
        new = PortionPlace(
            queue=found.queue,
            assignee=assignee,
            status=PortionStatus.assigned if assignee else PortionStatus.pending,
        )
        if not dry_run:
            try:  # a refused transition writes nothing, so the transaction goes on
                _store(
                    session,
                    portion=portion,
                    queue=found.queue,
                    assignee=assignee,
                    rule=found.rule,
                    actor=actor,
                )
            except (PreconditionFailed, InvalidTransition):
                skipped += 1
                continue
        moves.append(
            Move(
                ref_id=cable.ref_id,
                seq=portion.seq,
                level=portion.level,
                rule=found.rule,
                old=old,
                new=new,
            )
        )
    return ApplyResult(
        dry_run=dry_run,
        examined=len(rows),
        moved=len(moves),
        skipped=skipped,
        items=moves[:limit],
        truncated=len(moves) > limit,
    )
