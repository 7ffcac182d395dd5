"""Ingesting and reading cables. Services never commit: the caller's unit of work does.

`ingest_cable` guarantees: a cable is stored whole or not at all (cable row, tag rows,
portion rows and its audit event in one transaction); the same text again changes nothing;
other text under a stored reference id is a conflict; unusable text is a 422 listing each
problem with its line and nothing is written.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, insert, select
from sqlmodel import Session, col

from service.audit.models import AuditAction
from service.audit.service import record
from service.auth.clearance import level_filter
from service.auth.principal import Principal
from service.cables.models import Cable, CableStatus, CableTag, Portion, PortionStatus
from service.errors import Conflict, NotFound, Unprocessable
from service.markings import max_level
from service.pagination import decode_cursor, encode_cursor
from service.parsing import CableParseError, ParsedCable, parse_cable
from service.routing.service import route_cable

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


def _cable_row(parsed: ParsedCable, text: str, sha: str) -> Cable:
    classification = parsed.classification or max_level(*(p.level for p in parsed.portions))
    decl = parsed.decl.as_json() if parsed.decl is not None else None
    return Cable.model_validate(
        {
            "ref_id": parsed.ref_id,
            "subject": parsed.subject,
            "origin": parsed.origin,
            "sent_at": parsed.sent_at,
            "cable_date": parsed.cable_date,
            "classification": classification.value,
            "caveats": list(parsed.caveats),
            "eo": parsed.eo,
            "decl": decl,
            "decl_kind": decl["kind"] if decl else None,
            "declassify_on": parsed.declassify_on,
            "declassify_basis": parsed.declassify_basis,
            "classified_by": parsed.classified_by,
            "reasons": list(parsed.reasons),
            "tags": list(dict.fromkeys(parsed.tags)),
            "references": list(parsed.references),
            "signer": parsed.signer,
            "warnings": list(parsed.warnings),
            "status": CableStatus.received,
            "raw_text": text,
            "raw_sha256": sha,
        }
    )


def store_parsed(session: Session, *, parsed: ParsedCable, text: str, sha: str) -> Cable:
    """Insert the cable, its tags and its portions (no audit, no routing)."""
    cable = _cable_row(parsed, text, sha)
    session.add(cable)
    session.flush()
    assert cable.id is not None
    if cable.tags:
        session.execute(
            insert(CableTag), [{"cable_id": cable.id, "tag": tag[:64]} for tag in cable.tags]
        )
    now = cable.created_at
    session.execute(
        insert(Portion),
        [
            {
                "cable_id": cable.id,
                "seq": p.seq,
                "number": p.number,
                "marking": p.marking,
                "level": p.level.value,
                "text": p.text,
                "status": PortionStatus.pending,
                "version": 1,
                "created_at": now,
                "updated_at": now,
            }
            for p in parsed.portions
        ],
    )
    return cable


def find_cable(session: Session, ref_id: str) -> Cable | None:
    return session.execute(select(Cable).where(col(Cable.ref_id) == ref_id)).scalars().first()


def ingest_cable(session: Session, *, text: str | bytes, actor: Principal) -> IngestResult:
    """Parse and store one cable (see the module docstring for the guarantees)."""
    parsed = parse_or_422(text)
    text_str = text.decode("utf-8") if isinstance(text, bytes) else text
    sha = sha256_hex(text_str)
    existing = find_cable(session, parsed.ref_id)
    if existing is not None:
        if existing.raw_sha256 == sha:
            return IngestResult(cable=existing, created=False)
        raise Conflict(
            f"{parsed.ref_id} is already stored with different text "
            f"(stored sha256 {existing.raw_sha256[:12]}..., posted {sha[:12]}...)"
        )
    cable = store_parsed(session, parsed=parsed, text=text_str, sha=sha)
    record(
        session,
        actor=actor,
        action=AuditAction.cable_ingested,
        entity="cable",
        entity_id=cable.ref_id,
        ref_id=cable.ref_id,
        detail={
            "sha256": sha,
            "classification": cable.classification,
            "portions": len(parsed.portions),
            "declassify_on": cable.declassify_on.isoformat() if cable.declassify_on else None,
        },
    )
    route_cable(session, cable=cable, actor=actor)
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
    statement = select(Cable).order_by(col(Cable.id))
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
