"""Routing on a real database: new cables routed before their portions are inserted
(`placement.route_new_cable`), waiting portions, assign_waiting, apply_rules and the
queues view. Cables are stored as rows here (the parser's corpus run is
tests/integration/test_routing_corpus.py)."""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import date
from typing import Any

from factories import create_user
from sqlalchemy import Engine, select
from sqlmodel import Session, col

from service.auth.models import Role, User
from service.auth.principal import system_principal
from service.cables.models import Cable, Portion
from service.db import unit_of_work
from service.markings import Level
from service.review.service import claim
from service.routing import data, placement, queues, rules, service
from service.routing.schemas import RuleIn

C, S, TS, U = Level.CONFIDENTIAL, Level.SECRET, Level.TOP_SECRET, Level.UNCLASSIFIED
INGESTER = system_principal("tests")
_serial = itertools.count(1)


def store_cable(
    session: Session,
    *,
    levels: list[tuple[str, str | None]],
    ref_id: str | None = None,
    declassify_on: date | None = None,
    **fields: Any,
) -> Cable:
    """A cable row with portions (seq 0 first), routed before they are inserted, as
    `ingest_cable` does (`placement.route_new_cable`): born in their queue, version 1."""
    cable = Cable.model_validate(
        {
            "ref_id": ref_id or f"09TEST{next(_serial)}",
            "classification": "SECRET",
            "raw_text": "x",
            "raw_sha256": "0" * 64,
            "declassify_on": declassify_on,
            **fields,
        }
    )
    placements = placement.route_new_cable(
        session,
        facts=data.cable_facts(cable),
        portions=[(seq, level, marking) for seq, (level, marking) in enumerate(levels)],
    )
    cable.status = placement.rolled_up_status(placements)
    session.add(cable)
    session.flush()
    for (level, marking), place in zip(levels, placements, strict=True):
        session.add(
            Portion.model_validate(
                {
                    "cable_id": cable.id,
                    "seq": place.seq,
                    "level": level,
                    "marking": marking,
                    "text": "t",
                    "queue": place.queue,
                    "assignee": place.assignee,
                    "status": place.status,
                }
            )
        )
    session.flush()
    return cable


def ingest(engine: Engine, **kw: Any) -> str:
    with unit_of_work(engine) as session:
        return store_cable(session, **kw).ref_id


def placed(engine: Engine, ref_id: str) -> list[tuple[int, str, str | None, str | None]]:
    """(seq, status, queue, assignee) of each portion of `ref_id`."""
    with unit_of_work(engine, write=False) as session:
        rows = session.execute(
            select(Portion.seq, Portion.status, Portion.queue, Portion.assignee)
            .join(Cable, col(Cable.id) == col(Portion.cable_id))
            .where(col(Cable.ref_id) == ref_id)
            .order_by(col(Portion.seq))
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]


def reviewer(engine: Engine, name: str, clearance: Level, *queues: str) -> None:
    create_user(engine, username=name, roles=[Role.reviewer], clearance=clearance, queues=queues)


def test_portions_follow_the_rules_and_the_header_is_routed(engine: Engine) -> None:
    reviewer(engine, "iris", S, "intelligence-equities")
    ref = ingest(engine, levels=[(S, None), (C, "C"), (S, "S")], reasons=["1.4(c)", "1.4(d)"])
    assert placed(engine, ref) == [
        (0, "assigned", "intelligence-equities", "iris"),
        (1, "assigned", "intelligence-equities", "iris"),
        (2, "assigned", "intelligence-equities", "iris"),
    ]


def test_unmatched_goes_to_general_and_never_below_the_level(engine: Engine) -> None:
    reviewer(engine, "cora", C, "general")
    ref = ingest(engine, levels=[(C, None), (U, "U"), (S, "S"), (TS, "TS")], reasons=["1.4(d)"])
    assert placed(engine, ref) == [
        (0, "assigned", "general", "cora"),
        (1, "assigned", "general", "cora"),
        (2, "pending", "general", None),
        (3, "pending", "general", None),
    ]


def test_only_active_reviewers_of_the_queue(engine: Engine) -> None:
    create_user(engine, username="sup", roles=[Role.supervisor], clearance=TS, queues=["general"])
    reviewer(engine, "elsewhere", TS, "senior")
    reviewer(engine, "gone", TS, "general")
    with unit_of_work(engine) as session:
        from service.auth.service import update_user

        update_user(session, actor=INGESTER, username="gone", is_active=False)
    ref = ingest(engine, levels=[(C, None)])
    assert placed(engine, ref) == [(0, "pending", "general", None)]


def test_a_waiting_portion_is_assigned_when_a_reviewer_appears(engine: Engine) -> None:
    ref = ingest(engine, levels=[(S, None), (S, "S//NF")], caveats=["NOFORN"])
    assert placed(engine, ref) == [
        (0, "pending", "foreign-government", None),
        (1, "pending", "foreign-government", None),
    ]
    reviewer(engine, "low", C, "foreign-government")
    with unit_of_work(engine) as session:
        assert service.assign_waiting(session) == 0
        # A user row written directly (not through the auth service, so no hook ran).
        fields = {
            "username": "fay",
            "password_hash": "x",
            "roles": ["reviewer"],
            "clearance": "SECRET",
            "queues": ["foreign-government"],
        }
        session.add(User.model_validate(fields))
        session.flush()
        assert service.assign_waiting(session, queues=["general"]) == 0
        assert service.assign_waiting(session, queues=["foreign-government"]) == 2
    assert placed(engine, ref) == [
        (0, "assigned", "foreign-government", "fay"),
        (1, "assigned", "foreign-government", "fay"),
    ]


def test_1000_portions_and_5_reviewers_end_within_one_assignment(engine: Engine) -> None:
    names = ["r1", "r2", "r3", "r4", "r5"]
    for name in names:
        reviewer(engine, name, TS, "general")
    with unit_of_work(engine) as session:
        for _ in range(200):  # 200 cables: a header and four paragraphs each
            store_cable(session, levels=[(C, None)] + [(C, "C")] * 4)
    with unit_of_work(engine, write=False) as session:
        counts = Counter(session.execute(select(Portion.assignee)).scalars())
        loads = {
            entry.reviewer.username: entry.open_assignments
            for entry in data.reviewer_loads(session)
        }
    assert sum(counts.values()) == 1000
    assert counts == dict.fromkeys(names, 200)
    assert max(loads.values()) - min(loads.values()) <= 1


def test_fewest_open_assignments_and_cable_affinity(engine: Engine) -> None:
    reviewer(engine, "ada", TS, "general")
    reviewer(engine, "bob", TS, "general")
    first = ingest(engine, levels=[(C, None), (C, "C"), (C, "C")])
    second = ingest(engine, levels=[(C, None)])
    third = ingest(engine, levels=[(C, None)])
    assert {a for *_, a in placed(engine, first)} == {"ada"}
    assert {a for *_, a in placed(engine, second)} == {"bob"}
    assert {a for *_, a in placed(engine, third)} == {"bob"}


def test_apply_moves_unclaimed_work_only(engine: Engine) -> None:
    reviewer(engine, "gil", TS, "general")
    reviewer(engine, "tom", TS, "general")
    reviewer(engine, "tia", TS, "tokyo-desk")
    ref = ingest(engine, levels=[(C, None), (C, "C"), (C, "C")], origin="Embassy Tokyo")
    assert {a for *_, a in placed(engine, ref)} == {"gil"}
    supervisor = system_principal("sup")
    gil = system_principal("gil")
    with unit_of_work(engine) as session:
        claim(session, ref_id=ref, seq=1, actor=gil, expected_version=None)
        rules.create_rule(
            session,
            actor=supervisor,
            data=RuleIn.model_validate(
                {
                    "name": "tokyo",
                    "priority": 5,
                    "match": {"origins": ["Embassy Tokyo"]},
                    "queue": "tokyo-desk",
                }
            ),
        )
    with unit_of_work(engine) as session:
        preview = service.apply_rules(session, actor=supervisor, dry_run=True)
    assert (preview.dry_run, preview.examined, preview.moved) == (True, 2, 2)
    moves = [(m.seq, m.old.assignee, m.new.queue, m.new.assignee, m.rule) for m in preview.items]
    assert moves == [
        (0, "gil", "tokyo-desk", "tia", "tokyo"),
        (2, "gil", "tokyo-desk", "tia", "tokyo"),
    ]
    assert placed(engine, ref)[0] == (0, "assigned", "general", "gil")
    with unit_of_work(engine) as session:
        done = service.apply_rules(session, actor=supervisor, dry_run=False)
    assert (done.moved, done.skipped) == (2, 0)
    assert placed(engine, ref) == [
        (0, "assigned", "tokyo-desk", "tia"),
        (1, "in_review", "general", "gil"),
        (2, "assigned", "tokyo-desk", "tia"),
    ]
    with unit_of_work(engine) as session:
        again = service.apply_rules(session, actor=supervisor, dry_run=False)
    assert (again.examined, again.moved) == (2, 0)


def test_apply_replaces_an_assignee_no_longer_eligible(engine: Engine) -> None:
    reviewer(engine, "old", TS, "general")
    ref = ingest(engine, levels=[(S, None)])
    reviewer(engine, "new", TS, "general")
    with unit_of_work(engine) as session:
        from service.auth.service import update_user

        update_user(session, actor=INGESTER, username="old", clearance=C)
        result = service.apply_rules(session, actor=system_principal("sup"), dry_run=False)
    assert result.moved == 1
    assert placed(engine, ref) == [(0, "assigned", "general", "new")]


def test_queue_overview(engine: Engine) -> None:
    reviewer(engine, "ivy", C, "intelligence-equities")
    ingest(engine, levels=[(C, None), (S, "S")], reasons=["1.4(c)"], declassify_on=date(2030, 1, 1))
    ingest(engine, levels=[(C, None)], reasons=["1.4(c)"], declassify_on=date(2020, 5, 1))
    with unit_of_work(engine, write=False) as session:
        views = {view.name: view for view in queues.queue_overview(session)}
    assert sorted(views) == [
        "defense-wmd",
        "foreign-government",
        "general",
        "intelligence-equities",
        "senior",
    ]
    intel = views["intelligence-equities"]
    assert (intel.open_count, intel.unassignable_count) == (3, 1)
    assert intel.unassignable_by_level == {"SECRET": 1}
    assert intel.oldest_declassify_on == date(2020, 5, 1)
    assert intel.rules == ["intelligence-equities"]
    assert [(m.username, m.clearance, m.open_assignments) for m in intel.members] == [("ivy", C, 2)]
    assert (views["general"].open_count, views["general"].members) == (0, [])


def test_the_user_hooks_assign_waiting_work(engine: Engine) -> None:
    from service.auth.service import update_user

    ref = ingest(engine, levels=[(S, None), (C, "C")], reasons=["1.4(a)"])
    assert placed(engine, ref) == [
        (0, "pending", "defense-wmd", None),
        (1, "pending", "defense-wmd", None),
    ]
    reviewer(engine, "dora", C, "defense-wmd")  # created: takes what her clearance covers
    assert placed(engine, ref) == [
        (0, "pending", "defense-wmd", None),
        (1, "assigned", "defense-wmd", "dora"),
    ]
    with unit_of_work(engine) as session:  # clearance raised: the rest follows
        update_user(session, actor=INGESTER, username="dora", clearance=S)
    assert placed(engine, ref) == [
        (0, "assigned", "defense-wmd", "dora"),
        (1, "assigned", "defense-wmd", "dora"),
    ]
