"""The release feed: finalized cables in release order, for records systems.

Release order is the order of the cables' `cable.finalized` audit events. An event's `seq`
is assigned under the audit chain's lock, which its transaction holds until it commits
(PostgreSQL advisory lock; SQLite's single writer), so sequence numbers become visible in
increasing order with no gaps among committed events: a reader that has seen `seq` n has
seen every release before it. A cursor holding the last `seq` read therefore resumes
exactly where the reader stopped, and no release is skipped or repeated while new ones
arrive. Items carry identifiers, states, times and links only, never cable text.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session, col

from service.audit.models import AuditAction, AuditEvent
from service.cables.models import Cable
from service.pagination import decode_cursor, encode_cursor
from service.review.models import Release


@dataclass(frozen=True, slots=True)
class FeedEntry:
    sequence: int
    ref_id: str
    status: str
    released_at: datetime


@dataclass(frozen=True, slots=True)
class FeedPage:
    entries: list[FeedEntry]
    next_cursor: str | None
    resume_cursor: str


def feed_cursor(sequence: int) -> str:
    return encode_cursor({"after": sequence})


def release_feed(session: Session, *, cursor: str | None, limit: int) -> FeedPage:
    """Up to `limit` releases after `cursor` (from the first when None), in release order.
    Raises BadRequest for a cursor this service did not issue."""
    key = decode_cursor(cursor, fields=("after",))
    after = int(key["after"]) if key is not None else 0
    statement = (
        select(
            col(AuditEvent.seq), col(Cable.ref_id), col(Release.status), col(Release.finalized_at)
        )
        .join(Cable, col(Cable.ref_id) == col(AuditEvent.ref_id))
        .join(Release, col(Release.cable_id) == col(Cable.id))
        .where(
            col(AuditEvent.action) == AuditAction.cable_finalized.value,
            col(AuditEvent.seq) > after,
        )
        .order_by(col(AuditEvent.seq))
        .limit(limit + 1)
    )
    rows = list(session.execute(statement).all())
    entries = [FeedEntry(int(seq), ref, status, at) for seq, ref, status, at in rows[:limit]]
    last = entries[-1].sequence if entries else after
    more = len(rows) > limit
    return FeedPage(
        entries=entries,
        next_cursor=feed_cursor(last) if more else None,
        resume_cursor=feed_cursor(last),
    )
