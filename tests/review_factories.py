"""Small typed factories for review tests: cables and portions inserted directly (no
parser), principals without tokens, and readers for audit events.

Import as `from review_factories import ...` (tests/ is on sys.path).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from factories import auth_headers, create_user
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import Engine
from sqlmodel import Session, col, select

import service
from service.audit.models import AuditEvent
from service.auth.models import Role
from service.auth.principal import Principal, PrincipalKind
from service.cables.models import Cable, Portion
from service.db import unit_of_work
from service.markings import Level
from service.review.router import review_context
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


def portion_path(ref_id: str, seq: int, what: str = "") -> str:
    return f"/api/v1/cables/{ref_id}/portions/{seq}" + (f"/{what}" if what else "")


def if_match(version: int | str) -> dict[str, str]:
    return {"If-Match": f'"{version}"'}


def cable_row(engine: Engine, ref_id: str) -> Cable:
    with unit_of_work(engine, write=False) as session:
        return session.exec(select(Cable).where(col(Cable.ref_id) == ref_id)).one()


# --- the seed cable through the API ----------------------------------------------------

SEED_REF_ID = "07TOKYO5624"
SEED = Path(service.__file__).parent / "demo" / f"{SEED_REF_ID}.txt"


@dataclass
class Run:
    """The seed cable ingested (every portion routed to `rita`) and four users' headers."""

    client: TestClient
    engine: Engine
    rita: dict[str, str]  # reviewer and approver, SECRET, queue foreign-government
    alan: dict[str, str]  # approver, SECRET
    sue: dict[str, str]  # supervisor, TOP SECRET
    uma: dict[str, str]  # reviewer cleared UNCLASSIFIED only
    raw: str
    ref_id: str = SEED_REF_ID

    def one_event(self, call: Callable[[], Response], action: str) -> Response:
        """Make `call()` and check that it wrote exactly one audit event, `action`."""
        before = len(audit_actions(self.engine))
        response = call()
        assert audit_actions(self.engine)[before:] == [action], response.text
        return response

    def no_event(self, call: Callable[[], Response]) -> Response:
        """Make `call()` and check that it wrote no audit event."""
        before = audit_actions(self.engine)
        response = call()
        assert audit_actions(self.engine) == before, response.text
        return response

    def portion(self, seq: int, headers: dict[str, str] | None = None) -> dict[str, Any]:
        response = self.client.get(portion_path(self.ref_id, seq), headers=headers or self.rita)
        assert response.status_code == 200, response.text
        assert response.headers["ETag"] == f'"{response.json()["version"]}"'
        body: dict[str, Any] = response.json()
        return body

    def post(self, seq: int, what: str, headers: dict[str, str], **kwargs: Any) -> Response:
        return self.client.post(portion_path(self.ref_id, seq, what), headers=headers, **kwargs)

    def claim(self, seq: int) -> Response:
        return self.post(seq, "claim", self.rita)

    def decide(
        self, seq: int, body: dict[str, Any], headers: dict[str, str] | None = None
    ) -> Response:
        """PUT a decision with the portion's current ETag."""
        version = self.portion(seq)["version"]
        return self.client.put(
            portion_path(self.ref_id, seq, "decision"),
            json=body,
            headers={**(headers or self.rita), **if_match(version)},
        )

    def approve(self, seq: int, headers: dict[str, str] | None = None) -> Response:
        version = self.portion(seq)["version"]
        return self.post(seq, "approve", {**(headers or self.alan), **if_match(version)})


def start_run(app: FastAPI, client: TestClient, engine: Engine) -> Run:
    """Users, a fixed review context (today: TODAY, no random draws) and the seed cable."""
    app.dependency_overrides[review_context] = lambda: context()
    users = {
        "rita": ([Role.reviewer, Role.approver], Level.SECRET, ["foreign-government", "general"]),
        "alan": ([Role.approver], Level.SECRET, []),
        "sue": ([Role.supervisor], Level.TOP_SECRET, []),
        "uma": ([Role.reviewer], Level.UNCLASSIFIED, []),
    }
    headers = {}
    for name, (roles, clearance, queues) in users.items():
        _, password = create_user(
            engine, username=name, roles=roles, clearance=clearance, queues=queues
        )
        headers[name] = auth_headers(client, name, password)
    raw = SEED.read_text(encoding="utf-8")
    response = client.post(
        "/api/v1/cables",
        content=raw.encode(),
        headers={**headers["sue"], "Content-Type": "text/plain"},
    )
    assert response.status_code == 201, response.text
    return Run(
        client, engine, headers["rita"], headers["alan"], headers["sue"], headers["uma"], raw
    )
