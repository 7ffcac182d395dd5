"""Ingesting and reading cables. Services never commit: the caller's unit of work does.

`ingest_cable` guarantees: a cable is stored whole or not at all (cable row, tag rows,
portion rows and its audit event in one transaction); the same text again changes nothing;
other text under a stored reference id is a conflict; unusable text is a 422 listing each
problem with its line and nothing is written.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import defer
from sqlmodel import Session, col

from service.auth.clearance import level_filter
from service.auth.principal import Principal
from service.cables.models import Cable, CableTag, Portion
from service.cables.store import NewCable, insert_children, plan_cable, record_ingested
from service.errors import Conflict, NotFound, Unprocessable
from service.pagination import decode_cursor, encode_cursor
from service.parsing import CableParseError, ParsedCable, parse_cable
from service.routing.matcher import CableFacts
from service.routing.placement import Placement, PortionKey, route_new_cable

MAX_Q_WORDS = 8


@dataclass(frozen=True, slots=True)
class IngestResult:
    cable: Cable
    created: bool


@dataclass(frozen=True, slots=True)
class CableFilters:
    classification: str | None = None
    origin: str | None = None
    tag: str | None = None
    status: str | None = None
    declassify_before: date | None = None
    declassify_after: date | None = None
    q: str | None = None


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def parse_or_422(text: str | bytes) -> ParsedCable:
    """Parse a cable, turning `CableParseError` into a 422 that lists every problem."""
    try:
        return parse_cable(text)
    except CableParseError as error:
        raise Unprocessable(
            "The cable cannot be read: "
            + "; ".join(
                f"line {p.line}: {p.message}" if p.line else p.message for p in error.problems
            ),
            errors=[
                {"loc": ["body", f"line {p.line}" if p.line else "text"], "msg": p.message}
                for p in error.problems
            ],
        ) from None


def store_parsed(
    session: Session, *, parsed: ParsedCable, text: str, sha: str
) -> tuple[Cable, NewCable]:
    """Insert the cable, its tags and its portions, the portions already routed (see
    `service.routing.placement`). No audit event: the caller records `cable.ingested`
    (`store.record_ingested`)."""

    def place(facts: CableFacts, portions: Sequence[PortionKey]) -> list[Placement]:
        return route_new_cable(session, facts=facts, portions=portions)

    new = plan_cable(parsed, text, sha, place=place)
    cable = Cable.model_validate(new.values)
    session.add(cable)
    session.flush()
    assert cable.id is not None
    insert_children(session, [new], [cable.id])
    return cable, new


def text_conflict(ref_id: str, *, stored_sha: str, posted_sha: str) -> Conflict:
    """The 409 of other text under a stored reference id."""
    return Conflict(
        f"{ref_id} is already stored with different text "
        f"(stored sha256 {stored_sha[:12]}..., posted {posted_sha[:12]}...)"
    )


# The stored raw text (kilobytes a cable) is loaded only when read: no view shows it.
LAZY_RAW_TEXT = defer(Cable.raw_text)  # type: ignore[arg-type]


def find_cable(session: Session, ref_id: str) -> Cable | None:
    statement = select(Cable).where(col(Cable.ref_id) == ref_id).options(LAZY_RAW_TEXT)
    return session.execute(statement).scalars().first()


def ingest_cable(session: Session, *, text: str | bytes, actor: Principal) -> IngestResult:
    """Parse and store one cable (see the module docstring for the guarantees)."""
    parsed = parse_or_422(text)
    text_str = text.decode("utf-8") if isinstance(text, bytes) else text
    sha = sha256_hex(text_str)
    existing = find_cable(session, parsed.ref_id)
    if existing is not None:
        if existing.raw_sha256 == sha:
            return IngestResult(cable=existing, created=False)
        raise text_conflict(parsed.ref_id, stored_sha=existing.raw_sha256, posted_sha=sha)
    cable, new = store_parsed(session, parsed=parsed, text=text_str, sha=sha)
    record_ingested(session, new, actor)
    return IngestResult(cable=cable, created=True)


def get_cable(session: Session, ref_id: str) -> Cable:
    cable = find_cable(session, ref_id)
    if cable is None:
        raise NotFound(f"No cable {ref_id}")
    return cable


def cable_portions(session: Session, cable: Cable) -> list[Portion]:
    statement = select(Portion).where(col(Portion.cable_id) == cable.id).order_by(col(Portion.seq))
    return list(session.execute(statement).scalars())


def list_cables(
    session: Session,
    *,
    principal: Principal,
    filters: CableFilters,
    limit: int,
    cursor: str | None,
) -> tuple[list[Cable], str | None]:
    """A page of cables in ingest order (stable), filtered; `q` only searches subjects the
    caller may read, so a match never reveals a subject above the caller's clearance."""
    statement = select(Cable).order_by(col(Cable.id)).options(LAZY_RAW_TEXT)
    key = decode_cursor(cursor, fields=("id",))
    if key is not None:
        statement = statement.where(col(Cable.id) > int(key["id"]))
    if filters.classification:
        statement = statement.where(col(Cable.classification) == filters.classification.upper())
    if filters.origin:
        statement = statement.where(func.lower(col(Cable.origin)) == filters.origin.lower())
    if filters.status:
        statement = statement.where(col(Cable.status) == filters.status)
    if filters.tag:
        tagged = select(col(CableTag.cable_id)).where(col(CableTag.tag) == filters.tag.upper())
        statement = statement.where(col(Cable.id).in_(tagged))
    if filters.declassify_after:
        statement = statement.where(col(Cable.declassify_on) >= filters.declassify_after)
    if filters.declassify_before:
        statement = statement.where(col(Cable.declassify_on) <= filters.declassify_before)
    if filters.q:
        statement = statement.where(level_filter(principal, col(Cable.classification)))
        for word in filters.q.split()[:MAX_Q_WORDS]:
            escaped = word.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            statement = statement.where(
                func.lower(col(Cable.subject)).like(f"%{escaped}%", escape="\\")
            )
    rows = list(session.execute(statement.limit(limit + 1)).scalars())
    next_cursor = encode_cursor({"id": rows[limit - 1].id}) if len(rows) > limit else None
    return rows[:limit], next_cursor
