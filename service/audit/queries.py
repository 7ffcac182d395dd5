"""Reading the audit log: filtered, cursor-paginated lists in `seq` order.

Services never commit and never write here; there is no function that changes an event.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlmodel import Session, col

from service.audit.models import AuditAction, AuditEvent
from service.cables.service import get_cable
from service.pagination import decode_cursor, encode_cursor


@dataclass(frozen=True, slots=True)
class AuditFilters:
    ref_id: str | None = None
    actor: str | None = None
    action: AuditAction | None = None
    after_seq: int | None = None


def list_events(
    session: Session, *, filters: AuditFilters, limit: int, cursor: str | None
) -> tuple[list[AuditEvent], str | None]:
    """A page of events matching every given filter, in `seq` order, and the cursor of the
    next page (None on the last). Raises `BadRequest` for a cursor this service did not
    issue. Pages are stable: appends only ever add events after the last one."""
    after = filters.after_seq or 0
    key = decode_cursor(cursor, fields=("seq",))
    if key is not None:
        after = max(after, int(key["seq"]))
    statement = select(AuditEvent).where(col(AuditEvent.seq) > after)
    if filters.ref_id is not None:
        statement = statement.where(col(AuditEvent.ref_id) == filters.ref_id)
    if filters.actor is not None:
        statement = statement.where(col(AuditEvent.actor) == filters.actor)
    if filters.action is not None:
        statement = statement.where(col(AuditEvent.action) == filters.action.value)
    statement = statement.order_by(col(AuditEvent.seq)).limit(limit + 1)
    rows = list(session.execute(statement).scalars())
    next_cursor = encode_cursor({"seq": rows[limit - 1].seq}) if len(rows) > limit else None
    return rows[:limit], next_cursor


def cable_events(
    session: Session, *, ref_id: str, limit: int, cursor: str | None
) -> tuple[list[AuditEvent], str | None]:
    """A page of the events of one cable, in `seq` order. Raises `NotFound` when there is
    no such cable, `BadRequest` for a bad cursor."""
    cable = get_cable(session, ref_id)
    return list_events(
        session, filters=AuditFilters(ref_id=cable.ref_id), limit=limit, cursor=cursor
    )
