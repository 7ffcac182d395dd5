"""The one way a portion changes state: `transition()`, and the simple transitions built
on it (assign, claim, reassign). Decisions, approvals and finalization live beside it
(`decisions.py`, `approvals.py`, `finalize.py`) and call `transition()` too.

Guarantees of `transition()`:

* the (state, action) pair and the actor are checked against `states.TRANSITIONS`
  (409 `InvalidTransition` naming the current state and the allowed actions; 403 when the
  actor may not fire it);
* the change is a compare-and-set: `UPDATE portion SET status, version = version + 1 ...
  WHERE id = :id AND version = :expected`; no row updated is a 412 with the current ETag;
* the cable's roll-up status follows in the same transaction, under a lock on the cable
  row (`SELECT ... FOR UPDATE` on PostgreSQL; SQLite writers are serialised already), so
  two portions finishing at once cannot both miss `ready`;
* exactly one audit event is written for the change, in the same transaction.

`Portion.status` is assigned nowhere else (a test walks the source to keep it so).
Services never commit; the request or unit of work does.
"""

from __future__ import annotations

import functools
import hashlib
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import bindparam, update
from sqlalchemy.orm import defer
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, col, select

from service.audit.models import AuditAction
from service.audit.service import record
from service.auth.clearance import may_read
from service.auth.models import Role, User
from service.auth.principal import Principal, PrincipalKind
from service.auth.service import find_user
from service.cables.models import Cable, Portion
from service.cables.store import PORTIONS
from service.errors import Forbidden, InvalidTransition, NotFound, PreconditionFailed, Unprocessable
from service.markings import Level, covers
from service.orm import utcnow
from service.review import states
from service.review.models import Decision
from service.review.states import Action, PortionState
from service.schedule import Clock, SystemClock

AUDIT_ACTIONS: Mapping[Action, AuditAction] = {
    Action.enqueue: AuditAction.portion_routed,
    Action.assign: AuditAction.portion_routed,
    Action.claim: AuditAction.portion_claimed,
    Action.decide: AuditAction.portion_decided,
    Action.refer: AuditAction.portion_referred,
    Action.answer_referral: AuditAction.portion_referral_answered,
    Action.approve: AuditAction.portion_approved,
    Action.auto_approve: AuditAction.portion_approved,
    Action.return_: AuditAction.portion_returned,
    Action.reassign: AuditAction.portion_reassigned,
}
CHANGEABLE = frozenset({"assignee", "queue"})


@dataclass(frozen=True, slots=True)
class ReviewContext:
    """What review services take from the outside world, injectable in tests: the clock
    (which exemption codes fit depends on today's date) and the random draw in [0, 1)
    that second-review sampling uses."""

    clock: Clock = field(default_factory=SystemClock)
    draw: Callable[[], float] = field(default_factory=lambda: random.SystemRandom().random)


def text_sha256(portion: Portion) -> str:
    return hashlib.sha256(portion.text.encode("utf-8")).hexdigest()


def etag(portion: Portion) -> str:
    """The portion's strong entity tag: its version in quotes."""
    return f'"{portion.version}"'


def portion_entity_id(cable: Cable, portion: Portion) -> str:
    return f"{cable.ref_id}/{portion.seq}"


@dataclass(frozen=True, slots=True)
class Located:
    """A portion loaded for a change, with its cable (locked for the transaction unless
    `locked` is False: `locate(lock=False)`)."""

    cable: Cable
    portion: Portion
    locked: bool = True


def _locate_statement(lock: bool) -> Any:
    statement = (
        select(Cable, Portion)
        .join(Portion, col(Portion.cable_id) == col(Cable.id))
        .where(col(Cable.ref_id) == bindparam("ref_id"), col(Portion.seq) == bindparam("seq"))
        .options(*CABLE_FOR_REVIEW)
        .execution_options(populate_existing=True)
    )
    return statement.with_for_update(of=Cable) if lock else statement


# What review reads of a cable: not its whole raw text (kilobytes a row; an error if
# something tried to), nor the markings only routing and the cable views use (loaded on
# first access if some path does need them).
CABLE_FOR_REVIEW = (
    defer(Cable.raw_text, raiseload=True),  # type: ignore[arg-type]
    *(
        defer(getattr(Cable, name))
        for name in (
            "reasons",
            "tags",
            "references",
            "warnings",
            "declassify_basis",
            "classified_by",
            "signer",
        )
    ),
)
# Built once: one statement reads the cable and the portion (and locks the cable row).
_LOCATE = {lock: _locate_statement(lock) for lock in (False, True)}


def portion_not_found(ref_id: str, seq: int) -> NotFound:
    return NotFound(f"No portion {seq} of cable {ref_id}")


def locate(session: Session, *, ref_id: str, seq: int, lock: bool = True) -> Located:
    """The portion `seq` of cable `ref_id`, read fresh; with `lock`, the cable row is
    locked too (`FOR UPDATE OF cable`) so every change to this cable's portions queues
    behind this one.

    Raises NotFound (the same problem for an unknown cable and an unknown portion)."""
    row = session.exec(_LOCATE[lock], params={"ref_id": ref_id, "seq": seq}).first()
    if row is None:
        raise portion_not_found(ref_id, seq)
    cable, portion = row
    return Located(cable, portion, locked=lock)


def require_clearance(actor: Principal, portion: Portion) -> None:
    """Forbidden unless `actor` may read the portion (nobody acts on text they cannot see)."""
    if not may_read(actor, portion.level):
        raise Forbidden("Your clearance does not cover this portion")


_CURRENT_DECISION = (
    select(Decision)
    .where(col(Decision.portion_id) == bindparam("portion_id"))
    .order_by(col(Decision.id).desc())
    .limit(1)
)


def current_decision(session: Session, portion: Portion) -> Decision | None:
    """The portion's latest decision row (release, redact, withhold, refer or a referral
    answer), or None before the first."""
    return session.exec(_CURRENT_DECISION, params={"portion_id": portion.id}).first()


def _facts(session: Session, portion: Portion, actor: Principal) -> states.ActorFacts:
    decider = None
    if portion.status == PortionState.decided:
        decision = current_decision(session, portion)
        decider = decision.decided_by if decision is not None else None
    return states.ActorFacts(
        roles=frozenset(role.value for role in actor.roles),
        is_system=actor.kind is PrincipalKind.system,
        is_assignee=portion.assignee is not None and portion.assignee == actor.name,
        in_queue=portion.queue is not None and portion.queue in actor.queues,
        is_decider=decider is not None and decider == actor.name,
    )


def precondition_failed(portion: Portion, expected_version: int) -> PreconditionFailed:
    return PreconditionFailed(
        f"The portion is at version {portion.version}, not {expected_version}; "
        "read it again and retry with its current ETag",
        headers={"ETag": etag(portion)},
    )


def check_transition(
    session: Session,
    *,
    portion: Portion,
    action: Action,
    actor: Principal,
    expected_version: int,
) -> states.Transition:
    """What `transition()` checks before changing anything: the version (412), the table
    (409 naming the state and the allowed actions) and the actor (403)."""
    if portion.version != expected_version:
        raise precondition_failed(portion, expected_version)
    state = PortionState(portion.status)
    try:
        return states.check(state, action, _facts(session, portion, actor))
    except states.IllegalTransition as error:
        raise InvalidTransition(
            str(error),
            extra={
                "state": state.value,
                "allowed_actions": [a.value for a in states.allowed_actions(state)],
            },
        ) from None
    except states.ActorNotAllowed as error:
        raise Forbidden(str(error)) from None


_LOCK_CABLE = (
    select(Cable)
    .where(col(Cable.id) == bindparam("cable_id"))
    .with_for_update()
    .options(*CABLE_FOR_REVIEW)
    .execution_options(populate_existing=True)
)
_PORTION_STATES = select(PORTIONS.c.status).where(PORTIONS.c.cable_id == bindparam("cable_id"))


def _lock_cable(session: Session, cable: Cable) -> None:
    """Lock the cable row and refresh `cable` from it (its status and version may have
    changed since it was read)."""
    session.exec(_LOCK_CABLE, params={"cable_id": cable.id}).one()


def _roll_up(session: Session, cable: Cable) -> dict[str, str] | None:
    rows = session.execute(_PORTION_STATES, {"cable_id": cable.id}).scalars()
    old = states.CableState(cable.status)
    new = states.cable_rollup(old, (PortionState(status) for status in rows))
    if new is old:
        return None
    cable.status = new.value
    cable.version += 1
    cable.updated_at = utcnow()
    return {"old": old.value, "new": new.value}


@functools.cache
def _compare_and_set(extra: tuple[str, ...]) -> Any:
    """`UPDATE portion SET status, version, updated_at[, extra...] WHERE id AND version`,
    built once per set of extra columns (building a statement costs more than running it)."""
    columns = ("status", "version", "updated_at", *extra)
    return (
        update(PORTIONS)
        .where(
            PORTIONS.c.id == bindparam("portion_id"),
            PORTIONS.c.version == bindparam("expected_version"),
        )
        .values({name: bindparam(name) for name in columns})
    )


def transition(
    session: Session,
    *,
    cable: Cable,
    portion: Portion,
    action: Action,
    actor: Principal,
    expected_version: int,
    changes: Mapping[str, Any] | None = None,
    detail: Mapping[str, Any] | None = None,
    cable_locked: bool = True,
) -> states.Transition:
    """Apply `action` to `portion` (see the module docstring for the guarantees).

    `cable` must be the portion's cable as returned by `locate()`: locked, or with
    `cable_locked=False` (`locate(lock=False)`) locked and re-read here only when the
    transition may change the cable's roll-up, after the compare-and-set. `changes` may
    set `assignee` and `queue` in the same compare-and-set; `detail` is added to the audit
    event and must not contain portion text. The portion object holds the new values
    afterwards (set from the compare-and-set that succeeded, without reading them back).

    Raises PreconditionFailed (412), InvalidTransition (409), Forbidden (403).
    """
    extra = dict(changes or {})
    if not set(extra) <= CHANGEABLE:
        raise ValueError(f"transition() may only change {sorted(CHANGEABLE)}")
    rule = check_transition(
        session, portion=portion, action=action, actor=actor, expected_version=expected_version
    )
    values = {
        "status": rule.target.value,
        "version": expected_version + 1,
        "updated_at": utcnow(),
        **extra,
    }
    result = session.execute(
        _compare_and_set(tuple(sorted(extra))),
        {**values, "portion_id": portion.id, "expected_version": expected_version},
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        session.refresh(portion)
        raise precondition_failed(portion, expected_version)
    for name, value in values.items():
        set_committed_value(portion, name, value)
    event: dict[str, Any] = {
        "seq": portion.seq,
        "state": {"old": rule.source.value, "new": rule.target.value},
        "version": portion.version,
    }
    event.update({key: value for key, value in extra.items() if key not in event})
    event.update(detail or {})
    if states.rollup_may_change(rule.source, rule.target):
        if not cable_locked:
            _lock_cable(session, cable)
        cable_change = _roll_up(session, cable)
        if cable_change is not None:
            event["cable_status"] = cable_change
    record(
        session,
        actor=actor,
        action=AUDIT_ACTIONS[action],
        entity="portion",
        entity_id=portion_entity_id(cable, portion),
        ref_id=cable.ref_id,
        detail=event,
    )
    return rule


def assign(
    session: Session,
    *,
    portion: Portion,
    assignee: str | None,
    queue: str | None,
    actor: Principal,
    rule: str | None = None,
    cable: Cable | None = None,
) -> Portion:
    """Route `portion` (pending, or assigned and not yet claimed) to `queue` and, when one
    is eligible, to `assignee`; for the routing engine (actor: the system or a supervisor).

    With an assignee the portion becomes `assigned`; without one it waits `pending` in its
    queue. `rule` names the routing rule that fired, for the audit event (`portion.routed`).
    Pass the portion's `cable` when this transaction already holds it (it stored the cable,
    or locked it); otherwise it is locked here. The portion must still be at the version it
    was loaded with (PreconditionFailed otherwise, e.g. when it was claimed since);
    InvalidTransition when it is claimed or further on.
    """
    if cable is None:
        cable = session.exec(
            select(Cable).where(col(Cable.id) == portion.cable_id).with_for_update()
        ).one()
    transition(
        session,
        cable=cable,
        portion=portion,
        action=Action.enqueue if assignee is None else Action.assign,
        actor=actor,
        expected_version=portion.version,
        changes={"assignee": assignee, "queue": queue},
        detail={"rule": rule},
    )
    return portion


def claim(
    session: Session, *, ref_id: str, seq: int, actor: Principal, expected_version: int | None
) -> Located:
    """The reviewer takes the portion: its assignee, or (while it waits unassigned in a
    queue) any member of that queue, who becomes the assignee. Without `expected_version`
    the current version is used (the cable lock makes that race-free)."""
    located = locate(session, ref_id=ref_id, seq=seq)
    require_clearance(actor, located.portion)
    portion = located.portion
    changes = {"assignee": actor.name} if portion.status == PortionState.pending else {}
    transition(
        session,
        cable=located.cable,
        portion=portion,
        action=Action.claim,
        actor=actor,
        expected_version=portion.version if expected_version is None else expected_version,
        changes=changes,
    )
    return located


def eligible_reviewer(session: Session, *, username: str, level: str) -> User:
    """The active reviewer `username` whose clearance covers `level`, or Unprocessable."""
    user = find_user(session, username)
    if user is None or not user.is_active:
        raise Unprocessable(
            f"{username} is not an active user",
            errors=[{"loc": ["body", "username"], "msg": "no active user of that name"}],
        )
    if Role.reviewer.value not in user.roles:
        raise Unprocessable(
            f"{username} is not a reviewer",
            errors=[{"loc": ["body", "username"], "msg": "the user lacks the reviewer role"}],
        )
    if not covers(Level(user.clearance), Level(level)):
        raise Unprocessable(
            f"{username} is cleared to {user.clearance}, below this {level} portion",
            errors=[{"loc": ["body", "username"], "msg": "clearance below the portion's level"}],
        )
    return user


def reassign(
    session: Session,
    *,
    ref_id: str,
    seq: int,
    username: str,
    actor: Principal,
    expected_version: int,
) -> Located:
    """A supervisor gives the portion to another active reviewer cleared for it (queue
    membership not required). Claimed or returned work goes back to `assigned`; referred
    work stays referred. Decided and approved portions cannot be reassigned (409)."""
    located = locate(session, ref_id=ref_id, seq=seq)
    require_clearance(actor, located.portion)
    check_transition(
        session,
        portion=located.portion,
        action=Action.reassign,
        actor=actor,
        expected_version=expected_version,
    )
    user = eligible_reviewer(session, username=username, level=located.portion.level)
    previous = located.portion.assignee
    transition(
        session,
        cable=located.cable,
        portion=located.portion,
        action=Action.reassign,
        actor=actor,
        expected_version=expected_version,
        changes={"assignee": user.username},
        detail={"assignee": {"old": previous, "new": user.username}},
    )
    return located
