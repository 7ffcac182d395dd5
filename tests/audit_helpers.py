"""Reusable audit assertions for any test: read events straight from the database.

    before = head_seq(engine)
    ... do the thing (API call or service call) ...
    event = one_event(engine, before, AuditAction.cable_ingested)
    assert event.entity_id == "07TOKYO5624"

`events_since(engine, seq)` returns every event with seq > `seq`, in seq order.
"""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import Engine, func, select, text
from sqlmodel import Session, col

from service.audit.models import AuditAction, AuditEvent

SEED_CABLE = Path(__file__).resolve().parents[1] / "service" / "demo" / "07TOKYO5624.txt"


def events_since(engine: Engine, seq: int = 0) -> list[AuditEvent]:
    """Every audit event with seq greater than `seq`, in seq order."""
    with Session(engine, expire_on_commit=False) as session:
        statement = (
            select(AuditEvent).where(col(AuditEvent.seq) > seq).order_by(col(AuditEvent.seq))
        )
        return list(session.execute(statement).scalars())


def head_seq(engine: Engine) -> int:
    """The seq of the last event (0 for an empty log)."""
    with engine.connect() as connection:
        return int(
            connection.execute(select(func.coalesce(func.max(col(AuditEvent.seq)), 0))).scalar_one()
        )


def one_event(engine: Engine, since: int, action: AuditAction) -> AuditEvent:
    """Assert that exactly one event was written after `since`, of `action`; return it."""
    events = events_since(engine, since)
    assert [e.action for e in events] == [action.value], [e.action for e in events]
    return events[0]


def synthetic_cable(serial: int) -> tuple[str, str]:
    """(ref_id, text): the seed cable 07TOKYO5624 under another serial (ref id on line 1,
    the `DE` line and the banner serial changed), for tests that need many distinct cables."""
    assert 1000 <= serial <= 9999
    ref_id = f"07TOKYO{serial}"
    lines = SEED_CABLE.read_text(encoding="utf-8").split("\n")
    lines[0] = ref_id
    body = "\n".join(lines)
    body = body.replace("#5624/01", f"#{serial}/01").replace("TOKYO 005624", f"TOKYO {serial:06d}")
    return ref_id, body


# Raw-SQL tampering, as a superuser would do it: the append-only triggers are switched off for
# the statement and back on afterwards. Only tests may do this; the service has no such code.

SQLITE_TRIGGERS = "FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_event'"


def tamper(engine: Engine, statement: str, **params: object) -> None:
    """Run `statement` against audit_event with its append-only triggers bypassed."""
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text("ALTER TABLE audit_event DISABLE TRIGGER USER"))
            connection.execute(text(statement), params)
            connection.execute(text("ALTER TABLE audit_event ENABLE TRIGGER USER"))
            return
        triggers = connection.execute(text(f"SELECT name, sql {SQLITE_TRIGGERS}")).all()
        for name, _sql in triggers:
            connection.execute(text(f'DROP TRIGGER "{name}"'))
        connection.execute(text(statement), params)
        for _name, sql in triggers:
            connection.execute(text(sql))


def trigger_names(engine: Engine) -> set[str]:
    """The user triggers on audit_event (to check tampering put them back)."""
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            rows = connection.execute(
                text(
                    "SELECT tgname FROM pg_trigger WHERE tgrelid = 'audit_event'::regclass "
                    "AND NOT tgisinternal AND tgenabled <> 'D'"
                )
            )
        else:
            rows = connection.execute(text(f"SELECT name {SQLITE_TRIGGERS}"))
        return {str(name) for (name,) in rows}


def paragraph_windows(text_: str, width: int = 40) -> set[str]:
    """Every `width`-character window of the body paragraphs of a cable text (whitespace
    collapsed), for asserting that no audit detail carries portion text."""
    body = re.sub(r"\s+", " ", text_)
    return {body[i : i + width] for i in range(0, max(len(body) - width + 1, 0))}
