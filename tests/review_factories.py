"""Small typed factories for review tests: cables and portions inserted directly (no
parser), principals without tokens, and readers for audit events.

Import as `from review_factories import ...` (tests/ is on sys.path).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from service.audit.models import AuditEvent
from service.auth.models import Role
from service.auth.principal import Principal, PrincipalKind
from service.cables.models import Cable, Portion
from service.db import unit_of_work
from service.markings import Level
from service.review.service import ReviewContext
from service.schedule import FixedClock

TODAY = date(2026, 11, 29)
_serial = itertools.count(1)


@dataclass(frozen=True, slots=True)
class P:
    """One portion to insert: its text, level and marking."""

    text: str
    level: str = "CONFIDENTIAL"
    marking: str | None = "C"
    number: str | None = None


DEFAULT_PORTIONS = (
    P("HEADER: CLUSTER MUNITIONS DEMARCHE\n", marking=None),
    P("1. (C) Japan believes the optimal solution is a binding agreement.\n", number="1"),
    P("2. (C) Kajita said the red lines must be understood.\n", number="2"),
)


def make_cable(
    engine_or_session: Engine | Session,
    *,
    ref_id: str | None = None,
    classification: str = "CONFIDENTIAL",
    cable_date: date | None = date(2007, 12, 20),
    declassify_on: date | None = date(2017, 12, 19),
    caveats: Sequence[str] = ("SIPDIS",),
    decl: dict[str, Any] | None = None,
    portions: Sequence[P] = DEFAULT_PORTIONS,
    queue: str | None = "general",
    assignee: str | None = None,
    status: str = "pending",
) -> str:
    """Insert a cable with `portions` (seq 0..N); returns its ref_id. With `assignee`, every
    portion starts `assigned` to it (as routing would leave it)."""
    ref_id = ref_id or f"07TEST{next(_serial):04d}"
    text = "".join(p.text for p in portions)

    def insert(session: Session) -> None:
        cable = Cable.model_validate(
            {
                "ref_id": ref_id,
                "subject": "CLUSTER MUNITIONS DEMARCHE",
                "origin": "Embassy Tokyo",
                "cable_date": cable_date,
                "classification": classification,
                "caveats": list(caveats),
                "decl": decl,
                "declassify_on": declassify_on,
                "raw_text": text,
                "raw_sha256": "0" * 64,
            }
        )
        session.add(cable)
        session.flush()
        for seq, p in enumerate(portions):
            session.add(
                Portion.model_validate(
                    {
                        "cable_id": cable.id,
                        "seq": seq,
                        "number": p.number,
                        "marking": p.marking,
                        "level": p.level,
                        "text": p.text,
                        "status": "assigned" if assignee else status,
                        "queue": queue,
                        "assignee": assignee,
                    }
                )
            )

    if isinstance(engine_or_session, Session):
        insert(engine_or_session)
    else:
        with unit_of_work(engine_or_session) as session:
            insert(session)
    return ref_id


def principal(
    name: str,
    *roles: Role,
    clearance: Level = Level.TOP_SECRET,
    queues: Sequence[str] = ("general",),
) -> Principal:
    return Principal(
        name=name,
        sub=f"user:{name}",
        kind=PrincipalKind.user,
        roles=frozenset(roles),
        clearance=clearance,
        queues=tuple(queues),
    )


def context(*draws: float, today: date = TODAY) -> ReviewContext:
    """A fixed clock and a scripted sequence of random draws (AssertionError if more are
    taken than scripted)."""
    pending = list(draws)

    def draw() -> float:
        assert pending, "an unexpected random draw"
        return pending.pop(0)

    return ReviewContext(clock=FixedClock(today), draw=draw)


def audit_events(engine: Engine, *, ref_id: str | None = None) -> list[AuditEvent]:
    with unit_of_work(engine, write=False) as session:
        statement = select(AuditEvent).order_by(col(AuditEvent.seq))
        if ref_id is not None:
            statement = statement.where(col(AuditEvent.ref_id) == ref_id)
        return list(session.exec(statement))


def audit_actions(engine: Engine, *, ref_id: str | None = None) -> list[str]:
    return [event.action for event in audit_events(engine, ref_id=ref_id)]


def portion_row(engine: Engine, ref_id: str, seq: int) -> Portion:
    with unit_of_work(engine, write=False) as session:
        cable = session.exec(select(Cable).where(col(Cable.ref_id) == ref_id)).one()
        return session.exec(
            select(Portion).where(col(Portion.cable_id) == cable.id, col(Portion.seq) == seq)
        ).one()


def cable_row(engine: Engine, ref_id: str) -> Cable:
    with unit_of_work(engine, write=False) as session:
        return session.exec(select(Cable).where(col(Cable.ref_id) == ref_id)).one()
