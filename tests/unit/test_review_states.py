"""The review state machine, exhaustively: every (state x action x role x actor facts)
against the table written out below, independently of `service.review.states`."""

from __future__ import annotations

import itertools
from collections import Counter

import pytest

from service.auth.models import Role
from service.cables.models import CableStatus, PortionStatus
from service.review import states
from service.review.states import (
    Action,
    ActorFacts,
    ActorNotAllowed,
    CableState,
    IllegalTransition,
    PortionState,
)

# The contract, as a reader would write it (docs/review.md shows the same table).
EXPECTED_TABLE = """
pending    enqueue          pending    supervisor              any
assigned   enqueue          pending    supervisor              any
pending    assign           assigned   supervisor              any
assigned   assign           assigned   supervisor              any
pending    claim            in_review  reviewer                queue_member
assigned   claim            in_review  reviewer                assignee
in_review  decide           decided    reviewer                assignee
returned   decide           decided    reviewer                assignee
decided    decide           decided    reviewer                assignee
in_review  refer            referred   reviewer                assignee
returned   refer            referred   reviewer                assignee
referred   answer_referral  in_review  supervisor,integration  any
decided    approve          approved   approver                not_decider
decided    auto_approve     approved   -                       system
decided    return           returned   approver                not_decider
pending    reassign         assigned   supervisor              any
assigned   reassign         assigned   supervisor              any
in_review  reassign         assigned   supervisor              any
returned   reassign         assigned   supervisor              any
referred   reassign         referred   supervisor              any
"""


def _expected() -> dict[tuple[str, str], tuple[str, frozenset[str], str]]:
    rows = {}
    for line in EXPECTED_TABLE.strip().splitlines():
        source, action, target, roles, rule = line.split()
        role_set = frozenset() if roles == "-" else frozenset(roles.split(","))
        rows[(source, action)] = (target, role_set, rule)
    return rows


EXPECTED = _expected()
ROLES = [role.value for role in Role] + ["system"]
FACTS = list(itertools.product([False, True], repeat=3))  # assignee, in_queue, decider


def _facts(role: str, is_assignee: bool, in_queue: bool, is_decider: bool) -> ActorFacts:
    system = role == "system"
    return ActorFacts(
        roles=frozenset(r.value for r in Role) if system else frozenset({role}),
        is_system=system,
        is_assignee=is_assignee,
        in_queue=in_queue,
        is_decider=is_decider,
    )


def _outcome(state: str, action: str, role: str, flags: tuple[bool, bool, bool]) -> str:
    """What the contract says: the target state, 'illegal' or 'forbidden'."""
    if (state, action) not in EXPECTED:
        return "illegal"
    target, roles, rule = EXPECTED[(state, action)]
    is_assignee, in_queue, is_decider = flags
    if role == "system":
        return target  # the service itself holds every role and is bound by no actor rule
    if roles and role not in roles:
        return "forbidden"
    holds = {
        "any": True,
        "assignee": is_assignee,
        "queue_member": in_queue,
        "not_decider": not is_decider,
        "system": False,
    }[rule]
    return target if holds else "forbidden"


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", list(Action), ids=lambda a: a.value)
@pytest.mark.parametrize("state", list(PortionState), ids=lambda s: s.value)
def test_every_state_action_role_and_actor(state: PortionState, action: Action, role: str) -> None:
    for flags in FACTS:
        expected = _outcome(state.value, action.value, role, flags)
        facts = _facts(role, *flags)
        if expected == "illegal":
            with pytest.raises(IllegalTransition):
                states.check(state, action, facts)
        elif expected == "forbidden":
            with pytest.raises(ActorNotAllowed):
                states.check(state, action, facts)
        else:
            assert states.check(state, action, facts).target.value == expected, flags


def test_the_table_has_exactly_the_expected_transitions() -> None:
    actual = {
        (source.value, action.value): (t.target.value, t.roles, t.rule.value)
        for (source, action), t in states.TRANSITIONS.items()
    }
    assert actual == EXPECTED


def test_states_and_roles_match_the_models() -> None:
    assert {s.value for s in PortionState} == {s.value for s in PortionStatus}
    assert {s.value for s in CableState} == {s.value for s in CableStatus}
    used = set().union(*(t.roles for t in states.TRANSITIONS.values()))
    assert used <= {role.value for role in Role}


def test_approved_is_final_and_every_other_state_has_a_way_on() -> None:
    assert states.allowed_actions(PortionState.approved) == []
    for state in PortionState:
        if state is not PortionState.approved:
            assert states.allowed_actions(state), state


def test_illegal_transition_names_the_state_and_the_allowed_actions() -> None:
    with pytest.raises(IllegalTransition) as raised:
        states.check(
            PortionState.in_review, Action.approve, _facts("approver", False, False, False)
        )
    assert str(raised.value) == (
        "cannot approve a portion that is in_review; "
        "actions allowed when in_review: decide, refer, reassign"
    )


def _refusal(state: PortionState, action: Action, facts: ActorFacts) -> str:
    with pytest.raises(ActorNotAllowed) as raised:
        states.check(state, action, facts)
    return str(raised.value)


def test_actor_errors_say_why() -> None:
    decider = _facts("approver", False, False, True)
    stranger = _facts("reviewer", False, True, False)
    assignee = _facts("reviewer", True, True, False)
    supervisor = _facts("supervisor", False, False, False)
    assert _refusal(PortionState.decided, Action.approve, decider) == (
        "the decider may not approve their own decision"
    )
    assert _refusal(PortionState.in_review, Action.decide, stranger) == (
        "decide is for the portion's assignee only"
    )
    assert _refusal(PortionState.decided, Action.approve, assignee) == (
        "approve needs one of the roles: approver"
    )
    assert _refusal(PortionState.decided, Action.auto_approve, supervisor) == (
        "auto_approve is for the service itself only"
    )


S = PortionState


@pytest.mark.parametrize(
    ("current", "portions", "expected"),
    [
        (CableState.received, [], CableState.received),
        (CableState.received, [S.pending, S.assigned], CableState.received),
        (CableState.received, [S.in_review, S.assigned], CableState.in_review),
        (CableState.in_review, [S.approved, S.decided], CableState.in_review),
        (CableState.in_review, [S.approved, S.pending], CableState.in_review),
        (CableState.in_review, [S.approved, S.approved], CableState.ready),
        (CableState.ready, [S.approved], CableState.ready),
        (CableState.released, [S.approved], CableState.released),
        (CableState.withheld, [S.approved], CableState.withheld),
    ],
)
def test_cable_rollup(
    current: CableState, portions: list[PortionState], expected: CableState
) -> None:
    assert states.cable_rollup(current, portions) is expected


def test_rollup_may_change_is_exact_for_small_cables() -> None:
    """Whenever it says False, moving one portion never changes the roll-up; whenever it
    says True, some cable exists where it does."""
    for source, target in itertools.product(PortionState, repeat=2):
        changes = 0
        for others in itertools.combinations_with_replacement(PortionState, 2):
            before = states.cable_rollup(CableState.received, [source, *others])
            after = states.cable_rollup(CableState.received, [target, *others])
            changes += before is not after
        assert (changes > 0) == states.rollup_may_change(source, target), (source, target)


def test_final_state_is_withheld_only_when_nothing_is_releasable() -> None:
    assert states.final_cable_state(["withhold", "withhold"]) is CableState.withheld
    assert states.final_cable_state(["withhold", "redact"]) is CableState.released
    assert states.final_cable_state(["release"]) is CableState.released


def test_every_action_is_used_by_the_table() -> None:
    used = Counter(action for (_, action) in states.TRANSITIONS)
    assert set(used) == set(Action)
