"""Appending to the audit log: `record(...)`, the one way an audit event is written.

`record()` checks and queues the event on the session; the events a transaction queued are
appended together just before it commits (a `before_commit` hook on every session), with
one chain lock, one read of the head and one INSERT for all of them. So the chain is locked
for the end of the transaction only (the append and the COMMIT), not from the first
`record()` on, and a transaction recording many events pays for the chain once.

Guarantees of `record`:
- the event is written in the caller's transaction, so it commits or rolls back with the
  change it describes (services never commit; the request or unit of work does); an event
  queued inside a savepoint that rolls back is dropped with it;
- appends are serialised: PostgreSQL takes a transaction-level advisory lock
  (`pg_advisory_xact_lock(AUDIT_CHAIN_LOCK)`) at the append, released at COMMIT or
  ROLLBACK; SQLite relies on the writer transaction's `BEGIN IMMEDIATE` (see
  `service.db.open_session(write=True)`);
- `seq` is the head's `seq` + 1 and `prev_hash` the head's `hash`, so the chain is gapless
  and, with the unique constraint on `prev_hash`, cannot fork;
- any failure while checking or writing the event raises `AuditUnavailable` (503): from
  `record()` (a detail that is not JSON, a field too long) or from the commit (the append
  itself); either way the transaction rolls back and the client never receives a 2xx.

There is deliberately no function to update or delete an audit event; the database rejects
both with triggers (migration 0002).

What `detail` may contain: identifiers, hashes, counts, levels, dates, states and old/new
values of changed fields. It must never contain portion text (or any other classified text,
passwords or tokens): the audit log is readable by supervisors and admins whatever their
clearance, and events can never be redacted afterwards.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, cast

import structlog
from sqlalchemy import Table, event, insert, select, text
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm import SessionTransaction
from sqlmodel import Session

from service.audit.chain import HASHED_FIELDS, event_hash, normalise_detail
from service.audit.models import GENESIS_HASH, AuditAction, AuditEvent
from service.auth.principal import Principal
from service.db import WRITE_OPTION
from service.errors import ServiceUnavailable
from service.orm import utcnow
from service.request_context import current_request_id

log = structlog.get_logger(__name__)

# Key of the PostgreSQL advisory lock that serialises appends ("DECLAUDT" as a bigint).
AUDIT_CHAIN_LOCK = int.from_bytes(b"DECLAUDT", "big") & 0x7FFF_FFFF_FFFF_FFFF

FIELD_LIMITS = {"actor": 128, "actor_sub": 128, "entity": 32, "entity_id": 128, "ref_id": 64}

# session.info keys: the events queued in the open transaction, and where each open
# savepoint began in that list (so a savepoint's rollback drops the events queued in it).
AUDIT_EVENTS = cast(Table, AuditEvent.__table__)  # type: ignore[attr-defined]
QUEUE_KEY = "declass_audit_queue"
MARKS_KEY = "declass_audit_marks"


class AuditUnavailable(ServiceUnavailable):
    """The audit event could not be written, so the change it describes was rolled back."""

    slug = "audit-unavailable"

    def __init__(self) -> None:
        super().__init__(
            "The audit log could not record this change, so the change was not recorded "
            "and was rolled back; try again shortly",
            headers={"Retry-After": "5"},
        )


def _require_writer(session: OrmSession) -> None:
    # Also begins the transaction if nothing did yet, so a rollback drops the queue.
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        return
    if not connection.get_execution_options().get(WRITE_OPTION, False):
        # A deferred SQLite transaction could read a stale head; it must begin as a writer.
        raise RuntimeError("record() needs a writer session (open_session(engine, write=True))")


# Built once: every audited change runs them.
_LOCK_CHAIN = text("SELECT pg_advisory_xact_lock(:key)")
_HEAD = (
    select(AUDIT_EVENTS.c.seq, AUDIT_EVENTS.c.hash, AUDIT_EVENTS.c.at)
    .order_by(AUDIT_EVENTS.c.seq.desc())
    .limit(1)
)
_INSERT = insert(AUDIT_EVENTS)


def _lock_chain(session: OrmSession) -> None:
    if session.connection().dialect.name == "postgresql":
        session.execute(_LOCK_CHAIN, {"key": AUDIT_CHAIN_LOCK})


def _head(session: OrmSession) -> tuple[int, str, datetime | None]:
    row = session.execute(_HEAD).first()
    if row is None:
        return 0, GENESIS_HASH, None
    return int(row[0]), str(row[1]), row[2]


def _check_lengths(fields: Mapping[str, Any]) -> None:
    for name, limit in FIELD_LIMITS.items():
        value = fields[name]
        if value is not None and len(value) > limit:
            raise ValueError(f"audit field {name} is longer than {limit} characters")


def _queued_event(
    *,
    actor: Principal,
    action: AuditAction,
    entity: str,
    entity_id: str,
    ref_id: str | None,
    detail: Mapping[str, Any] | None,
) -> AuditEvent:
    """The event as far as it is known before the append: everything but its place in the
    chain (`seq`, `prev_hash`, `hash`; `at` may still move up to the head's)."""
    fields: dict[str, Any] = {
        "seq": 0,
        "at": utcnow(),
        "actor": actor.name,
        "actor_sub": actor.sub,
        "action": AuditAction(action).value,
        "entity": entity,
        "entity_id": entity_id,
        "ref_id": ref_id,
        "detail": normalise_detail(detail),
        "request_id": current_request_id(),
        "prev_hash": GENESIS_HASH,
        "hash": "",
    }
    _check_lengths(fields)
    return AuditEvent.model_validate(fields)


def _append(session: OrmSession, events: list[AuditEvent]) -> None:
    """Give `events` their places after the chain's head and insert them in one statement."""
    _lock_chain(session)
    head_seq, head_hash, head_at = _head(session)
    rows: list[dict[str, Any]] = []
    for queued in events:
        head_seq += 1
        fields = {name: getattr(queued, name) for name in HASHED_FIELDS}
        fields["seq"] = head_seq
        fields["prev_hash"] = head_hash
        # Never earlier than the event before, so `at` is monotonic along `seq` despite
        # clock steps.
        if head_at is not None and fields["at"] < head_at:
            fields["at"] = head_at
        fields["hash"] = event_hash(fields)
        rows.append(fields)
        head_hash, head_at = fields["hash"], fields["at"]
    session.execute(_INSERT, rows)
    for queued, fields in zip(events, rows, strict=True):
        for name in ("seq", "at", "prev_hash", "hash"):
            setattr(queued, name, fields[name])


def _fail(error: Exception, *, action: str, entity: str, entity_id: str) -> AuditUnavailable:
    log.error(
        "audit_write_failed",
        action=action,
        entity=entity,
        entity_id=entity_id,
        error=type(error).__name__,
        # DBAPI errors: the driver message only, not the statement or its parameters.
        reason=str(getattr(error, "orig", None) or error)[:200],
    )
    return AuditUnavailable()


def record(
    session: Session,
    *,
    actor: Principal,
    action: AuditAction,
    entity: str,
    entity_id: str,
    ref_id: str | None = None,
    detail: Mapping[str, Any] | None = None,
) -> AuditEvent:
    """Queue one event describing a change made in `session`'s transaction; it is appended
    to the chain when the transaction commits, together with the transaction's other events.

    Call it in the same transaction as the change, from a session that began as a writer
    (every non-GET request's session and every `unit_of_work` is one); a read session must
    not call it (on SQLite that is refused).

    `detail` holds JSON values (dates are stored as ISO strings) describing the change, e.g.
    `{"status": {"old": "pending", "new": "decided"}}`; it must never contain portion text.

    Returns the event; its `seq`, `prev_hash` and `hash` (and possibly a later `at`) are
    filled in by the append at commit. Raises `AuditUnavailable` (a 503
    `ServiceUnavailable`) when the event cannot be checked here, and the commit raises it
    when the append fails; the caller lets it propagate so the whole transaction rolls
    back. Errors in the caller's own pending changes are flushed before the append and
    raised unchanged.
    """
    try:
        queue: list[AuditEvent] | None = session.info.get(QUEUE_KEY)
        if not queue:
            _require_writer(session)
        queued = _queued_event(
            actor=actor,
            action=action,
            entity=entity,
            entity_id=entity_id,
            ref_id=ref_id,
            detail=detail,
        )
    except Exception as error:
        raise _fail(error, action=str(action), entity=entity, entity_id=entity_id) from error
    if queue is None:
        queue = session.info[QUEUE_KEY] = []
    queue.append(queued)
    return queued


def flush_audit(session: OrmSession) -> None:
    """Append the events queued so far now rather than at commit (for a caller that must
    read them back in the same transaction). Raises `AuditUnavailable` as the commit would;
    the chain stays locked until the transaction ends."""
    queue: list[AuditEvent] | None = session.info.get(QUEUE_KEY)
    if not queue:
        return
    session.flush()
    events = list(queue)
    try:
        _append(session, events)
    except Exception as error:
        first = events[0]
        raise _fail(
            error, action=first.action, entity=first.entity, entity_id=first.entity_id
        ) from error
    del queue[: len(events)]
    # Every open savepoint now begins at the (empty) queue's start.
    marks: dict[SessionTransaction, int] = session.info.get(MARKS_KEY) or {}
    for transaction in marks:
        marks[transaction] = 0


@event.listens_for(OrmSession, "before_commit")
def _append_before_commit(session: OrmSession) -> None:
    if session.in_nested_transaction() or not session.info.get(QUEUE_KEY):
        return  # a savepoint's events wait for the outer commit
    flush_audit(session)


@event.listens_for(OrmSession, "after_transaction_create")
def _mark_savepoint(session: OrmSession, transaction: SessionTransaction) -> None:
    if transaction.nested:
        queue = session.info.get(QUEUE_KEY)
        session.info.setdefault(MARKS_KEY, {})[transaction] = len(queue) if queue else 0


@event.listens_for(OrmSession, "after_soft_rollback")
def _drop_rolled_back(session: OrmSession, previous_transaction: SessionTransaction) -> None:
    queue: list[AuditEvent] | None = session.info.get(QUEUE_KEY)
    marks: dict[SessionTransaction, int] | None = session.info.get(MARKS_KEY)
    if previous_transaction.nested and marks is not None:
        mark = marks.pop(previous_transaction, None)
        if mark is not None and queue:
            del queue[mark:]
    elif not previous_transaction.nested and queue:
        queue.clear()


@event.listens_for(OrmSession, "after_transaction_end")
def _forget(session: OrmSession, transaction: SessionTransaction) -> None:
    # A savepoint's mark stays until the transaction ends: `after_soft_rollback` (which
    # needs it) comes after this event.
    if transaction.parent is None and not transaction.nested:
        # Committed (appended already) or rolled back: nothing may carry over.
        session.info.pop(QUEUE_KEY, None)
        session.info.pop(MARKS_KEY, None)
