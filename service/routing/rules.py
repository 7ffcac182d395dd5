"""Routing rules as data: listing, creating, replacing and deactivating rules, and the set of
known queues. Services never commit: the request or unit of work does.

Guarantees:
- every change writes one `rule.changed` audit event in the same transaction, whose detail
  holds the rule's old and new values (`old` is null on creation);
- a rule is never deleted: `deactivate_rule` clears its `active` flag, so audit events
  that name it stay meaningful and the name stays taken; PUT may reactivate it;
- a rule names a known queue (`general`, or one named by a rule or a user's queues), or a
  new one only when the caller says so (`create_queue=True`): a typo is a 422, not a
  queue nobody watches;
- changes are compare-and-set on `version` (412 on a stale version); a rule change never
  moves work by itself: `service.routing.service.apply_rules` does, on request.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from service.audit.models import AuditAction
from service.audit.service import record
from service.auth.models import User
from service.auth.principal import Principal
from service.errors import Conflict, NotFound, PreconditionFailed, Unprocessable
from service.orm import utcnow
from service.pagination import decode_cursor, encode_cursor
from service.routing.matcher import GENERAL_QUEUE, RuleSpec
from service.routing.models import MATCH_FIELDS, RoutingRule
from service.routing.schemas import RuleIn, RuleMatch, RulePublic


def rule_etag(rule: RoutingRule) -> str:
    return f'"{rule.version}"'


def rule_public(rule: RoutingRule) -> RulePublic:
    assert rule.id is not None
    return RulePublic.model_validate(
        {
            "id": rule.id,
            "name": rule.name,
            "priority": rule.priority,
            "match": RuleMatch.model_validate({f: getattr(rule, f) for f in MATCH_FIELDS}),
            "queue": rule.queue,
            "min_clearance": rule.min_clearance,
            "active": rule.is_active,
            "version": rule.version,
            "created_at": rule.created_at,
            "updated_at": rule.updated_at,
        }
    )


def _snapshot(rule: RoutingRule) -> dict[str, Any]:
    return {
        "name": rule.name,
        "priority": rule.priority,
        "match": {field: list(getattr(rule, field)) for field in MATCH_FIELDS},
        "queue": rule.queue,
        "min_clearance": rule.min_clearance,
        "active": rule.is_active,
    }


def rule_spec(rule: RoutingRule) -> RuleSpec:
    """The matcher's view of a stored rule."""
    return RuleSpec.build(
        id=rule.id,
        name=rule.name,
        priority=rule.priority,
        queue=rule.queue,
        min_clearance=rule.min_clearance,
        **{field: getattr(rule, field) for field in MATCH_FIELDS},
    )


def known_queues(session: Session) -> set[str]:
    """`general`, every queue a rule names (active or not) and every queue of a user."""
    queues = {GENERAL_QUEUE}
    queues.update(session.execute(select(col(RoutingRule.queue)).distinct()).scalars())
    for user_queues in session.execute(select(col(User.queues))).scalars():
        queues.update(str(q) for q in user_queues or ())
    return queues


def _check_queue(session: Session, queue: str, *, create_queue: bool) -> None:
    if create_queue or queue in known_queues(session):
        return
    known = ", ".join(sorted(known_queues(session)))
    raise Unprocessable(
        f"Unknown queue {queue!r}; known queues: {known}. "
        "Pass create_queue=true to route to a new queue",
        errors=[{"loc": ["body", "queue"], "msg": f"unknown queue {queue!r}"}],
    )


def _check_name(session: Session, name: str, *, rule_id: int | None = None) -> None:
    statement = select(col(RoutingRule.id)).where(col(RoutingRule.name) == name)
    existing = session.execute(statement).scalars().first()
    if existing is not None and existing != rule_id:
        raise Conflict(f"A routing rule named {name!r} already exists (id {existing})")


def _fields(data: RuleIn) -> dict[str, Any]:
    match = data.match.model_dump(mode="json")
    return {
        "name": data.name,
        "priority": data.priority,
        **{field: list(dict.fromkeys(match[field])) for field in MATCH_FIELDS},
        "queue": data.queue,
        "min_clearance": data.min_clearance.value if data.min_clearance else None,
        "is_active": data.active,
    }


def _audit(
    session: Session,
    *,
    actor: Principal,
    rule: RoutingRule,
    change: str,
    old: dict[str, Any] | None,
) -> None:
    record(
        session,
        actor=actor,
        action=AuditAction.rule_changed,
        entity="routing_rule",
        entity_id=str(rule.id),
        detail={"change": change, "old": old, "new": _snapshot(rule)},
    )


def list_rules(
    session: Session, *, active: bool | None, limit: int, cursor: str | None
) -> tuple[list[RoutingRule], str | None]:
    """A page of rules in firing order (priority, then name, then id: stable)."""
    statement = select(RoutingRule).order_by(
        col(RoutingRule.priority), col(RoutingRule.name), col(RoutingRule.id)
    )
    key = decode_cursor(cursor, fields=("priority", "name"))
    if key is not None:
        priority, name = int(key["priority"]), str(key["name"])
        statement = statement.where(
            (col(RoutingRule.priority) > priority)
            | ((col(RoutingRule.priority) == priority) & (col(RoutingRule.name) > name))
        )
    if active is not None:
        statement = statement.where(col(RoutingRule.is_active) == active)
    rows = list(session.execute(statement.limit(limit + 1)).scalars())
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1]
        next_cursor = encode_cursor({"priority": last.priority, "name": last.name})
    return rows[:limit], next_cursor


def get_rule(session: Session, rule_id: int, *, lock: bool = False) -> RoutingRule:
    """The rule `rule_id` (locked for the transaction with `lock`), or NotFound."""
    statement = select(RoutingRule).where(col(RoutingRule.id) == rule_id)
    if lock:
        statement = statement.with_for_update()
    rule: RoutingRule | None = (
        session.execute(statement.execution_options(populate_existing=True)).scalars().first()
    )
    if rule is None:
        raise NotFound(f"No routing rule {rule_id}")
    return rule


def create_rule(
    session: Session, *, actor: Principal, data: RuleIn, create_queue: bool = False
) -> RoutingRule:
    """Store a new rule. Raises Conflict (409) when the name is taken and Unprocessable
    (422) for an unknown queue without `create_queue`."""
    _check_name(session, data.name)
    _check_queue(session, data.queue, create_queue=create_queue)
    rule = RoutingRule.model_validate(_fields(data))
    session.add(rule)
    session.flush()
    _audit(session, actor=actor, rule=rule, change="created", old=None)
    return rule


def _check_version(rule: RoutingRule, expected_version: int) -> None:
    if rule.version != expected_version:
        raise PreconditionFailed(
            f"The rule is at version {rule.version}, not {expected_version}; "
            "read it again and retry with its current ETag",
            headers={"ETag": rule_etag(rule)},
        )


def update_rule(
    session: Session,
    *,
    actor: Principal,
    rule_id: int,
    data: RuleIn,
    expected_version: int,
    create_queue: bool = False,
) -> RoutingRule:
    """Replace a rule whole. Raises NotFound, PreconditionFailed (stale version), Conflict
    (name taken by another rule) and Unprocessable (unknown queue)."""
    rule = get_rule(session, rule_id, lock=True)
    _check_version(rule, expected_version)
    _check_name(session, data.name, rule_id=rule.id)
    if data.queue != rule.queue:
        _check_queue(session, data.queue, create_queue=create_queue)
    old = _snapshot(rule)
    for name, value in _fields(data).items():
        setattr(rule, name, value)
    if _snapshot(rule) == old:
        return rule
    rule.version += 1
    rule.updated_at = utcnow()
    session.add(rule)
    session.flush()
    _audit(session, actor=actor, rule=rule, change="updated", old=old)
    return rule


def deactivate_rule(
    session: Session, *, actor: Principal, rule_id: int, expected_version: int
) -> RoutingRule:
    """Deactivate a rule (what DELETE means here). Deactivating an inactive rule changes
    nothing and writes no event. Raises NotFound and PreconditionFailed."""
    rule = get_rule(session, rule_id, lock=True)
    _check_version(rule, expected_version)
    if not rule.is_active:
        return rule
    old = _snapshot(rule)
    rule.is_active = False
    rule.version += 1
    rule.updated_at = utcnow()
    session.add(rule)
    session.flush()
    _audit(session, actor=actor, rule=rule, change="deactivated", old=old)
    return rule
