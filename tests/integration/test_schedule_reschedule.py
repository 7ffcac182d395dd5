"""`reschedule_cable`: an extension or exemption decision moves `declassify_on`, audited."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from audit_helpers import events_since, head_seq
from sqlalchemy import Engine, select, update
from sqlmodel import Session, col

from service.auth.principal import system_principal
from service.cables.models import Cable
from service.cables.service import get_cable, ingest_cable
from service.db import unit_of_work
from service.errors import Conflict, PreconditionFailed, Unprocessable
from service.schedule_api.reschedule import reschedule_cable

SEED = Path(__file__).resolve().parents[2] / "service" / "demo" / "07TOKYO5624.txt"
ACTOR = system_principal("review-workflow")


@pytest.fixture
def seeded(engine: Engine) -> Engine:
    with unit_of_work(engine) as session:
        ingest_cable(session, text=SEED.read_text(encoding="utf-8"), actor=system_principal("t"))
    return engine


def stored(engine: Engine) -> Cable:
    with Session(engine) as session:
        return session.execute(select(Cable)).scalars().one()


def test_an_exemption_moves_the_date_and_is_audited(seeded: Engine) -> None:
    before = head_seq(seeded)
    with unit_of_work(seeded) as session:
        cable = get_cable(session, "07TOKYO5624")
        result = reschedule_cable(
            session,
            cable=cable,
            declassify_on=date(2032, 12, 31),
            basis="25X1 exemption with date 2032-12-31 (decision 41)",
            actor=ACTOR,
            reason="intelligence sources named in paragraph 3",
        )
        assert result.declassify_on == date(2032, 12, 31)
    cable = stored(seeded)
    assert (cable.declassify_on, cable.declassify_basis, cable.version) == (
        date(2032, 12, 31),
        "25X1 exemption with date 2032-12-31 (decision 41)",
        2,
    )
    [event] = events_since(seeded, before)
    assert (event.action, event.entity, event.entity_id, event.actor) == (
        "cable.rescheduled",
        "cable",
        "07TOKYO5624",
        "review-workflow",
    )
    assert event.detail == {
        "declassify_on": {"old": "2017-12-19", "new": "2032-12-31"},
        "declassify_basis": {
            "old": "DECL date 2017-12-19 (E.O. 12958 as amended)",
            "new": "25X1 exemption with date 2032-12-31 (decision 41)",
        },
        "reason": "intelligence sources named in paragraph 3",
    }


def test_the_same_schedule_again_changes_nothing(seeded: Engine) -> None:
    before = head_seq(seeded)
    with unit_of_work(seeded) as session:
        cable = get_cable(session, "07TOKYO5624")
        assert cable.declassify_basis is not None
        reschedule_cable(
            session,
            cable=cable,
            declassify_on=date(2017, 12, 19),
            basis=cable.declassify_basis,
            actor=ACTOR,
            reason="no change",
        )
    assert stored(seeded).version == 1
    assert events_since(seeded, before) == []


def test_quoted_decl_text_is_withheld_from_the_audit_detail(seeded: Engine) -> None:
    with unit_of_work(seeded) as session:
        session.execute(
            update(Cable).values(
                declassify_basis="event 'UPON TRANSFER OF THE SITE' cannot be dated: 25-year rule"
            )
        )
    before = head_seq(seeded)
    with unit_of_work(seeded) as session:
        reschedule_cable(
            session,
            cable=get_cable(session, "07TOKYO5624"),
            declassify_on=date(2030, 1, 1),
            basis="extension to 2030-01-01 (decision 7)",
            actor=ACTOR,
            reason="agency request",
        )
    [event] = events_since(seeded, before)
    assert event.detail["declassify_basis"]["old"] == (
        "event '[withheld]' cannot be dated: 25-year rule"
    )


@pytest.mark.parametrize(
    ("on", "basis", "reason", "message"),
    [
        (
            date(2007, 12, 19),
            "extension",
            "why",
            "declassify_on: before the cable's date 2007-12-20",
        ),
        (date(2030, 1, 1), " ", "why", "basis: 1 to 500 characters"),
        (date(2030, 1, 1), "extension", "", "reason: 1 to 500 characters"),
        (date(2030, 1, 1), "x" * 501, "why", "basis: 1 to 500 characters"),
    ],
)
def test_unacceptable_schedules_are_422_and_write_nothing(
    seeded: Engine, on: date, basis: str, reason: str, message: str
) -> None:
    with unit_of_work(seeded) as session, pytest.raises(Unprocessable) as raised:
        reschedule_cable(
            session,
            cable=get_cable(session, "07TOKYO5624"),
            declassify_on=on,
            basis=basis,
            actor=ACTOR,
            reason=reason,
        )
    assert raised.value.detail == f"The new schedule is not acceptable: {message}"
    assert stored(seeded).version == 1


def test_released_cables_cannot_be_rescheduled(seeded: Engine) -> None:
    with unit_of_work(seeded) as session:
        session.execute(update(Cable).values(status="released"))
    with unit_of_work(seeded) as session, pytest.raises(Conflict):
        reschedule_cable(
            session,
            cable=get_cable(session, "07TOKYO5624"),
            declassify_on=date(2030, 1, 1),
            basis="extension",
            actor=ACTOR,
            reason="why",
        )


def test_a_stale_cable_is_412(seeded: Engine) -> None:
    with unit_of_work(seeded) as session:
        cable = get_cable(session, "07TOKYO5624")
    with unit_of_work(seeded) as session:
        session.execute(update(Cable).where(col(Cable.id) == cable.id).values(version=5))
    with unit_of_work(seeded) as session, pytest.raises(PreconditionFailed):
        reschedule_cable(
            session,
            cable=cable,
            declassify_on=date(2030, 1, 1),
            basis="extension",
            actor=ACTOR,
            reason="why",
        )
    assert stored(seeded).declassify_on == date(2017, 12, 19)
