"""Appending to the audit log: `record(...)`, the one way an audit event is written.

Guarantees of `record`:
- the event is written in the caller's transaction, so it commits or rolls back with the
  change it describes (services never commit; the request or unit of work does);
- appends are serialised: PostgreSQL takes a transaction-level advisory lock
  (`pg_advisory_xact_lock(AUDIT_CHAIN_LOCK)`), released at COMMIT or ROLLBACK; SQLite relies on
  the writer transaction's `BEGIN IMMEDIATE` (see `service.db.open_session(write=True)`);
- `seq` is the head's `seq` + 1 and `prev_hash` the head's `hash`, so the chain is gapless
  and, with the unique constraint on `prev_hash`, cannot fork;
- any failure while writing the event raises `AuditUnavailable` (503): the caller lets it
  propagate, the transaction rolls back and the client never receives a 2xx.

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
from typing import Any

import structlog
from sqlalchemy import select, text
from sqlmodel import Session, col

from service.audit.chain import event_hash, normalise_detail
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


class AuditUnavailable(ServiceUnavailable):
    """The audit event could not be written, so the change it describes was rolled back."""

    slug = "audit-unavailable"

    def __init__(self) -> None:
        super().__init__(
            "The audit log could not record this change, so the change was not recorded "
            "and was rolled back; try again shortly",
            headers={"Retry-After": "5"},
        )


def _lock_chain(session: Session) -> None:
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": AUDIT_CHAIN_LOCK})
    elif not connection.get_execution_options().get(WRITE_OPTION, False):
        # A deferred SQLite transaction could read a stale head; it must begin as a writer.
        raise RuntimeError("record() needs a writer session (open_session(engine, write=True))")


def _head(session: Session) -> tuple[int, str, datetime | None]:
    statement = select(col(AuditEvent.seq), col(AuditEvent.hash), col(AuditEvent.at))
    row = session.execute(statement.order_by(col(AuditEvent.seq).desc()).limit(1)).first()
    if row is None:
        return 0, GENESIS_HASH, None
    return int(row[0]), str(row[1]), row[2]


def _check_lengths(fields: Mapping[str, Any]) -> None:
    for name, limit in FIELD_LIMITS.items():
        value = fields[name]
        if value is not None and len(value) > limit:
            raise ValueError(f"audit field {name} is longer than {limit} characters")


def _append(
    session: Session,
    *,
    actor: Principal,
    action: AuditAction,
    entity: str,
    entity_id: str,
    ref_id: str | None,
    detail: Mapping[str, Any] | None,
) -> AuditEvent:
    normal_detail = normalise_detail(detail)
    _lock_chain(session)
    head_seq, head_hash, head_at = _head(session)
    now = utcnow()
    fields: dict[str, Any] = {
        "seq": head_seq + 1,
        # Never earlier than the head, so `at` is monotonic along `seq` despite clock steps.
        "at": max(now, head_at) if head_at is not None else now,
        "actor": actor.name,
        "actor_sub": actor.sub,
        "action": AuditAction(action).value,
        "entity": entity,
        "entity_id": entity_id,
        "ref_id": ref_id,
        "detail": normal_detail,
        "request_id": current_request_id(),
        "prev_hash": head_hash,
    }
    _check_lengths(fields)
    fields["hash"] = event_hash(fields)
    event = AuditEvent.model_validate(fields)
    session.add(event)
    session.flush()
    return event


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
    """Append one event describing a change made in `session`'s transaction.

    Call it in the same transaction as the change, after making the change, from a session
    that began as a writer (every non-GET request's session and every `unit_of_work` is
    one); a read session must not call it (on SQLite that is refused).

    `detail` holds JSON values (dates are stored as ISO strings) describing the change, e.g.
    `{"status": {"old": "pending", "new": "decided"}}`; it must never contain portion text.

    Returns the flushed event. Raises `AuditUnavailable` (a 503 `ServiceUnavailable`) when
    the event cannot be written for any reason; the caller must let it propagate so the
    whole transaction rolls back. Errors in the caller's own pending changes are raised
    unchanged (they are flushed before the audit write begins).
    """
    session.flush()
    try:
        return _append(
            session,
            actor=actor,
            action=action,
            entity=entity,
            entity_id=entity_id,
            ref_id=ref_id,
            detail=detail,
        )
    except Exception as error:
        log.error(
            "audit_write_failed",
            action=str(action),
            entity=entity,
            entity_id=entity_id,
            error=type(error).__name__,
            # DBAPI errors: the driver message only, not the statement or its parameters.
            reason=str(getattr(error, "orig", None) or error)[:200],
        )
        raise AuditUnavailable() from error
