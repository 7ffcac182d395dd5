"""Placing a new cable before its portions are written (service/routing/placement.py): the
pure parts, with rules and reviewers given."""

from __future__ import annotations

from service.markings import Level
from service.routing.assignment import Balancer, Reviewer
from service.routing.matcher import CableFacts, RuleSpec, ordered
from service.routing.placement import Placement, Router, rolled_up_status, routing_detail

RULES = ordered(
    [
        RuleSpec.build(name="ts", priority=10, queue="senior", levels=["TOP SECRET"]),
        RuleSpec.build(name="nf", priority=20, queue="noforn", caveats=["NOFORN"]),
    ]
)


def test_each_portion_gets_its_rule_queue_and_reviewer_and_loads_carry_over() -> None:
    router = Router(
        RULES,
        Balancer(
            [
                Reviewer("ann", Level.TOP_SECRET, frozenset({"general", "senior"})),
                Reviewer("ben", Level.SECRET, frozenset({"general"})),
            ]
        ),
    )
    first = router.place(
        CableFacts.build(), [(0, "SECRET", None), (1, "TOP SECRET", "TS"), (2, "SECRET", "S")]
    )
    assert first == [
        Placement(0, "general", "ann", None),
        Placement(1, "senior", "ann", "ts"),
        Placement(2, "general", "ann", None),
    ]
    # ann holds 3 now: the next cables go to ben until the loads meet.
    second = router.place(CableFacts.build(), [(0, "SECRET", None), (1, "SECRET", "S")])
    third = router.place(CableFacts.build(caveats=["NOFORN"]), [(0, "SECRET", "S//NF")])
    assert [p.assignee for p in second] == ["ben", "ben"]
    assert third == [Placement(0, "noforn", None, "nf")]
    assert dict(router.balancer.loads) == {"ann": 3, "ben": 2}
    assert [p.status.value for p in first + third] == ["assigned"] * 3 + ["pending"]


def test_the_audit_detail_lists_every_seq_once_grouped_by_route() -> None:
    placements = [
        Placement(0, "general", "ann", None),
        Placement(1, "senior", None, "ts"),
        Placement(2, "general", "ann", None),
        Placement(3, "senior", None, "ts"),
    ]
    assert routing_detail(placements) == [
        {"queue": "general", "assignee": "ann", "rule": None, "seqs": [0, 2]},
        {"queue": "senior", "assignee": None, "rule": "ts", "seqs": [1, 3]},
    ]
    assert routing_detail([]) == []


def test_a_new_cable_rolls_up_to_received_assigned_or_waiting() -> None:
    assert rolled_up_status([Placement(0, "general", "ann", None)]) == "received"
    assert rolled_up_status([Placement(0, "general", None, None)]) == "received"
