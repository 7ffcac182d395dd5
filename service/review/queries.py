"""Reads for review: one portion with its decision history, and a caller's work queue.

Neither returns portion text itself: callers build responses through the clearance filter
(`service.auth.clearance`), and the queue carries no text at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, and_, bindparam, func, literal, or_, tuple_
from sqlalchemy.types import Date
from sqlmodel import Session, col, select

from service.auth.clearance import readable_levels
from service.auth.models import Role
from service.auth.principal import Principal
from service.cables.models import Cable, Portion
from service.pagination import decode_cursor, encode_cursor
from service.review.models import Approval, Decision
from service.review.service import CABLE_FOR_REVIEW, Located, portion_not_found
from service.review.states import PortionState

OPEN_FOR_REVIEWER = (PortionState.assigned, PortionState.in_review, PortionState.returned)
NO_DATE = date(9999, 12, 31)  # portions without a declassify_on sort last


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    decision: Decision
    review: Approval | None


@dataclass(frozen=True, slots=True)
class PortionDetail:
    located: Located
    history: list[HistoryEntry]


# One statement: a decision has at most one second review (approval.decision_id is unique).
# Built once (every portion read runs it): building a statement costs more than running it.
_HISTORY = (
    select(Decision, Approval)
    .outerjoin(Approval, col(Approval.decision_id) == col(Decision.id))
    .where(col(Decision.portion_id).in_(bindparam("ids", expanding=True)))
    .order_by(col(Decision.id))
)


def history(session: Session, portions: list[Portion]) -> dict[int, list[HistoryEntry]]:
    """Every decision of `portions` (oldest first) with its second review, by portion id."""
    ids = [portion.id for portion in portions if portion.id is not None]
    out: dict[int, list[HistoryEntry]] = {portion_id: [] for portion_id in ids}
    if not ids:
        return out
    rows = session.exec(_HISTORY, params={"ids": ids}).all()
    for decision, review in rows:
        out[decision.portion_id].append(HistoryEntry(decision, review))
    return out


# The portion, its cable and its history in one statement (one row per decision, or one row
# without a decision): reading a portion and deciding it both need all three.
_PORTION_WITH_HISTORY = (
    select(Cable, Portion, Decision, Approval)
    .join(Portion, col(Portion.cable_id) == col(Cable.id))
    .outerjoin(Decision, col(Decision.portion_id) == col(Portion.id))
    .outerjoin(Approval, col(Approval.decision_id) == col(Decision.id))
    .where(col(Cable.ref_id) == bindparam("ref_id"), col(Portion.seq) == bindparam("seq"))
    .order_by(col(Decision.id))
    .options(*CABLE_FOR_REVIEW)
    .execution_options(populate_existing=True)
)


def read_portion(session: Session, *, ref_id: str, seq: int) -> PortionDetail:
    """The portion with its decision history, oldest first (no lock: a plain read).

    Raises NotFound (the same problem for an unknown cable and an unknown portion)."""
    rows = session.exec(_PORTION_WITH_HISTORY, params={"ref_id": ref_id, "seq": seq}).all()
    if not rows:
        raise portion_not_found(ref_id, seq)
    cable, portion = rows[0][0], rows[0][1]
    entries = [
        HistoryEntry(decision, review) for _, _, decision, review in rows if decision is not None
    ]
    return PortionDetail(Located(cable, portion, locked=False), entries)


@dataclass(frozen=True, slots=True)
class QueueItem:
    kind: str  # "review" (the caller's own work) or "approval" (a decision to review)
    cable: Cable
    portion: Portion
    decided_by: str | None


def _latest_decider() -> ColumnElement[str]:
    return (
        select(Decision.decided_by)
        .where(col(Decision.portion_id) == Portion.id)
        .order_by(col(Decision.id).desc())
        .limit(1)
        .scalar_subquery()
    )


def _sort_key() -> tuple[Any, ...]:
    due = func.coalesce(col(Cable.declassify_on), literal(NO_DATE, Date))
    return due, col(Cable.id), col(Portion.seq)


def work_queue(
    session: Session, *, principal: Principal, limit: int, cursor: str | None
) -> tuple[list[QueueItem], str | None]:
    """The caller's work, soonest `declassify_on` first (then cable and portion order):
    for a reviewer, portions assigned to it that are assigned, in review or returned; for
    an approver, decided portions within its clearance whose decision someone else made."""
    decider = _latest_decider()
    wanted: list[ColumnElement[bool]] = []
    if principal.has_role(Role.reviewer):
        wanted.append(
            and_(
                col(Portion.assignee) == principal.name,
                col(Portion.status).in_([state.value for state in OPEN_FOR_REVIEWER]),
            )
        )
    if principal.has_role(Role.approver):
        wanted.append(
            and_(
                col(Portion.status) == PortionState.decided.value,
                col(Portion.level).in_(readable_levels(principal)),
                decider != principal.name,
            )
        )
    if not wanted:
        return [], None
    key = _sort_key()
    statement = (
        select(Cable, Portion, decider)
        .join(Portion, col(Portion.cable_id) == col(Cable.id))
        .where(or_(*wanted))
        .order_by(*key)
    )
    after = decode_cursor(cursor, fields=("due", "cable", "seq"))
    if after is not None:
        statement = statement.where(
            tuple_(*key)
            > tuple_(
                literal(date.fromisoformat(str(after["due"])), Date),
                literal(int(after["cable"])),
                literal(int(after["seq"])),
            )
        )
    rows = session.exec(statement.limit(limit + 1)).all()
    items = [
        QueueItem(
            kind="approval"
            if portion.status == PortionState.decided and latest != principal.name
            else "review",
            cable=cable,
            portion=portion,
            decided_by=latest,
        )
        for cable, portion, latest in rows[:limit]
    ]
    next_cursor = None
    if len(rows) > limit:
        last = items[-1]
        due = last.cable.declassify_on or NO_DATE
        next_cursor = encode_cursor(
            {"due": due.isoformat(), "cable": last.cable.id, "seq": last.portion.seq}
        )
    return items, next_cursor
