"""The pure balancer: eligibility, cable affinity, fewest open assignments, stable ties,
and load spreading over 1,000 portions."""

from __future__ import annotations

import random
from collections import Counter, defaultdict

from service.markings import Level, covers
from service.routing.assignment import Balancer, Need, Reviewer, spread

C, S, TS, U = Level.CONFIDENTIAL, Level.SECRET, Level.TOP_SECRET, Level.UNCLASSIFIED


def reviewer(name: str, clearance: Level = TS, queues: tuple[str, ...] = ("general",)) -> Reviewer:
    return Reviewer(username=name, clearance=clearance, queues=frozenset(queues))


def needs_for(cables: list[int], *, queue: str = "general", level: Level = C) -> list[Need]:
    """`cables[i]` portions for cable i, keys numbered in order."""
    out: list[Need] = []
    for cable, size in enumerate(cables):
        start = len(out)
        out.extend(Need(start + k, cable, queue, level) for k in range(size))
    return out


FIVE = [reviewer(name) for name in ("ana", "ben", "cy", "dee", "eve")]
NAMES = [r.username for r in FIVE]


def test_1000_single_portion_cables_end_within_one_assignment() -> None:
    balancer = Balancer(FIVE)
    placed = balancer.place(needs_for([1] * 1000))
    counts = Counter(placed.values())
    assert counts == dict.fromkeys(NAMES, 200)
    assert spread(balancer.loads, NAMES) == 0


def test_1000_portions_in_cables_of_ten_end_within_one_assignment() -> None:
    balancer = Balancer(FIVE)
    placed = balancer.place(needs_for([10] * 100))
    assert Counter(placed.values()) == dict.fromkeys(NAMES, 200)
    assert spread(balancer.loads, NAMES) <= 1


def test_1000_portions_starting_uneven_end_within_one_assignment() -> None:
    balancer = Balancer(FIVE, loads={"ana": 7, "ben": 3})
    balancer.place(needs_for([1] * 997))
    assert sum(balancer.loads.values()) == 1007
    assert spread(balancer.loads, NAMES) <= 1


def test_mixed_cable_sizes_stay_within_the_largest_cable() -> None:
    rng = random.Random(6)
    sizes = [rng.randint(2, 12) for _ in range(150)]
    balancer = Balancer(FIVE)
    placed = balancer.place(needs_for(sizes))
    assert len(placed) == sum(sizes)
    assert spread(balancer.loads, NAMES) <= max(sizes)


def test_a_cable_goes_to_one_reviewer_when_one_can_take_it_all() -> None:
    balancer = Balancer(FIVE)
    placed = balancer.place(needs_for([7, 3, 5]))
    by_cable: dict[int, set[str | None]] = defaultdict(set)
    for need in needs_for([7, 3, 5]):
        by_cable[need.cable].add(placed[need.key])
    assert by_cable == {0: {"ana"}, 1: {"ben"}, 2: {"cy"}}


def test_ties_break_by_username_and_are_stable() -> None:
    shuffled = [FIVE[3], FIVE[0], FIVE[4], FIVE[2], FIVE[1]]
    assert Balancer(shuffled).place(needs_for([1])) == {0: "ana"}
    assert Balancer(FIVE).place(needs_for([1])) == {0: "ana"}


def test_fewest_open_assignments_first() -> None:
    placed = Balancer(FIVE, loads={"ana": 3, "ben": 1, "cy": 1, "dee": 2, "eve": 4}).place(
        needs_for([1])
    )
    assert placed == {0: "ben"}


def test_never_below_the_required_level_and_none_when_nobody_is_cleared() -> None:
    staff = [reviewer("carl", C), reviewer("sam", S), reviewer("una", U)]
    needs = [
        Need(1, 1, "general", TS),
        Need(2, 2, "general", S),
        Need(3, 3, "general", C),
        Need(4, 4, "general", U),
    ]
    placed = Balancer(staff).place(needs)
    assert placed == {1: None, 2: "sam", 3: "carl", 4: "una"}
    clearance = {r.username: r.clearance for r in staff}
    for need in needs:
        name = placed[need.key]
        assert name is None or covers(clearance[name], need.required)


def test_only_members_of_the_queue() -> None:
    staff = [reviewer("gen", TS, ("general",)), reviewer("int", C, ("intelligence-equities",))]
    needs = [Need(1, 1, "intelligence-equities", C), Need(2, 1, "intelligence-equities", S)]
    assert Balancer(staff).place(needs) == {1: "int", 2: None}


def test_first_pick_can_take_the_highest_portion_of_the_cable() -> None:
    # carl (C) has less work, but only sam (S) can take the whole cable.
    staff = [reviewer("carl", C), reviewer("sam", S)]
    needs = [Need(1, 9, "general", C), Need(2, 9, "general", S), Need(3, 9, "general", C)]
    placed = Balancer(staff, loads={"sam": 5}).place(needs)
    assert placed == {1: "sam", 2: "sam", 3: "sam"}


def test_affinity_with_reviewers_already_holding_the_cable() -> None:
    balancer = Balancer(FIVE, loads={"eve": 50}, holders={4: ["eve"]})
    assert balancer.place([Need(1, 4, "general", C)]) == {1: "eve"}
    assert balancer.place([Need(2, 5, "general", C)]) == {2: "ana"}


def test_release_lowers_a_load() -> None:
    balancer = Balancer(FIVE, loads={"ana": 1})
    balancer.release("ana")
    balancer.release("ana")
    balancer.release(None)
    assert balancer.loads["ana"] == 0
