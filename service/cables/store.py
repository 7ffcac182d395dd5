"""Writing new cables: the cable row, its tag rows and its portion rows, the portions
already placed by routing (`service.routing.placement`). Core statements on the session's
connection, no ORM object per row: many cables go in one executemany per table.

`NewCable` is a cable ready to be written: its row values, its parsed portions and their
placements. `insert_cables` writes a list of them (an ingest writes a list of one) and
returns their ids in order; `write_new_cables` does that and records each one's
`cable.ingested` event (the bulk import and the batched `declass ingest`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, insert, select
from sqlmodel import Session, col

from service.audit.models import AuditAction
from service.audit.service import record
from service.auth.principal import Principal
from service.cables.models import Cable, CableStatus, CableTag, Portion, PortionStatus
from service.markings import max_level
from service.orm import utcnow
from service.parsing import ParsedCable
from service.routing.data import cable_facts_of
from service.routing.matcher import CableFacts
from service.routing.placement import Placement, PortionKey, rolled_up_status, routing_detail

CABLES = cast(Table, Cable.__table__)  # type: ignore[attr-defined]
TAGS = cast(Table, CableTag.__table__)  # type: ignore[attr-defined]
PORTIONS = cast(Table, Portion.__table__)  # type: ignore[attr-defined]
_INSERT_CABLES = insert(CABLES).returning(CABLES.c.id, sort_by_parameter_order=True)


def cable_values(
    parsed: ParsedCable, text: str, sha: str, *, now: datetime | None = None
) -> dict[str, Any]:
    """The cable row of `parsed` (every column but `id`), status `received`."""
    classification = parsed.classification or max_level(*(p.level for p in parsed.portions))
    decl = parsed.decl.as_json() if parsed.decl is not None else None
    at = now or utcnow()
    return {
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
        "status": CableStatus.received.value,
        "version": 1,
        "raw_text": text,
        "raw_sha256": sha,
        "created_at": at,
        "updated_at": at,
    }


@dataclass(frozen=True, slots=True)
class NewCable:
    """A cable ready to be written: row values (status rolled up from the placements),
    parsed portions and where each goes."""

    values: dict[str, Any]
    parsed: ParsedCable
    placements: list[Placement]

    @property
    def ref_id(self) -> str:
        return self.parsed.ref_id

    def ingested_detail(self) -> dict[str, Any]:
        """The `cable.ingested` audit detail, routing included (no portion text)."""
        declassify_on = self.values["declassify_on"]
        return {
            "sha256": self.values["raw_sha256"],
            "classification": self.values["classification"],
            "portions": len(self.parsed.portions),
            "declassify_on": declassify_on.isoformat() if declassify_on else None,
            "routing": routing_detail(self.placements),
        }


Place = Callable[[CableFacts, Sequence[PortionKey]], list[Placement]]
"""Routes and places one new cable's portions: `Router.place`, or `route_new_cable`."""


def plan_cable(
    parsed: ParsedCable,
    text: str,
    sha: str,
    *,
    place: Place | None,
    now: datetime | None = None,
) -> NewCable:
    """`parsed` with its portions placed by `place` (None: left unrouted, `pending` in no
    queue; only the routing benchmark's baseline does that)."""
    values = cable_values(parsed, text, sha, now=now)
    portions = [(p.seq, p.level.value, p.marking) for p in parsed.portions]
    placements = [] if place is None else place(cable_facts_of(values), portions)
    if placements:
        values["status"] = rolled_up_status(placements)
    return NewCable(values, parsed, placements)


def insert_children(session: Session, cables: Sequence[NewCable], ids: Sequence[int]) -> None:
    """The tag and portion rows of `cables` (stored under `ids`), one executemany each."""
    tags: list[dict[str, Any]] = []
    portions: list[dict[str, Any]] = []
    for cable, cable_id in zip(cables, ids, strict=True):
        tags.extend({"cable_id": cable_id, "tag": tag[:64]} for tag in cable.values["tags"])
        now = cable.values["created_at"]
        places = {p.seq: p for p in cable.placements}
        for portion in cable.parsed.portions:
            place = places.get(portion.seq)
            portions.append(
                {
                    "cable_id": cable_id,
                    "seq": portion.seq,
                    "number": portion.number,
                    "marking": portion.marking,
                    "level": portion.level.value,
                    "text": portion.text,
                    "status": (place.status if place else PortionStatus.pending).value,
                    "queue": place.queue if place else None,
                    "assignee": place.assignee if place else None,
                    "version": 1,
                    "created_at": now,
                    "updated_at": now,
                }
            )
    if tags:
        session.execute(insert(TAGS), tags)
    if portions:
        session.execute(insert(PORTIONS), portions)


def insert_cables(session: Session, cables: Sequence[NewCable]) -> list[int]:
    """Write `cables` (cable rows with RETURNING ids, then tags and portions); their ids,
    in order."""
    if not cables:
        return []
    rows = session.execute(_INSERT_CABLES, [c.values for c in cables])
    ids = [int(row[0]) for row in rows]
    insert_children(session, cables, ids)
    return ids


def stored_shas(session: Session, ref_ids: set[str]) -> dict[str, str]:
    """The SHA-256 of the stored text of each of `ref_ids` that is stored."""
    if not ref_ids:
        return {}
    statement = select(col(Cable.ref_id), col(Cable.raw_sha256)).where(
        col(Cable.ref_id).in_(sorted(ref_ids))
    )
    return {str(ref): str(sha) for ref, sha in session.execute(statement)}


def write_new_cables(session: Session, cables: Sequence[NewCable], actor: Principal) -> None:
    """Insert `cables` in bulk (rows, tags, portions already routed), then one
    `cable.ingested` event each, with its routing, exactly as `ingest_cable` writes it."""
    insert_cables(session, cables)
    for cable in cables:
        record_ingested(session, cable, actor)


def record_ingested(session: Session, cable: NewCable, actor: Principal) -> None:
    """The `cable.ingested` event of a stored new cable, with its routing."""
    record(
        session,
        actor=actor,
        action=AuditAction.cable_ingested,
        entity="cable",
        entity_id=cable.ref_id,
        ref_id=cable.ref_id,
        detail=cable.ingested_detail(),
    )
