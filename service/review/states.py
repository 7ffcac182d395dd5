"""The review state machine as data: portion states, actions, the transition table, and
the cable roll-up.

PURE module: no database, no web framework. `service.review.service.transition` is the
one function that applies these rules to stored portions.

Invariants:

* `TRANSITIONS` is the whole machine: a (state, action) pair that is not a key is an
  illegal transition, whoever asks. There is no other dispatch on state.
* Each transition names the roles that may fire it (any one suffices; an empty set means
  no role is needed) and one actor rule that must hold as well (`ActorRule`).
* The two-person rule: `approve` and `return` require an actor other than the decider;
  `decide`, `refer` and `claim` of an assigned portion require the assignee.
* `approved` is final for a portion; a cable becomes `ready` exactly when it has
  portions and every one is `approved`; `released` and `withheld` are final for a cable.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum


class PortionState(StrEnum):
    """Same values as `service.cables.models.PortionStatus` (a test keeps them equal)."""

    pending = "pending"
    assigned = "assigned"
    in_review = "in_review"
    decided = "decided"
    returned = "returned"
    referred = "referred"
    approved = "approved"


class CableState(StrEnum):
    """Same values as `service.cables.models.CableStatus`."""

    received = "received"
    in_review = "in_review"
    ready = "ready"
    released = "released"
    withheld = "withheld"


class Action(StrEnum):
    enqueue = "enqueue"  # routing puts the portion in a queue with no eligible reviewer
    assign = "assign"  # routing (or a supervisor) puts the portion on a reviewer
    claim = "claim"  # the reviewer takes it
    decide = "decide"  # release, redact or withhold
    refer = "refer"  # to another agency
    answer_referral = "answer_referral"  # the agency's answer: back to the reviewer
    approve = "approve"  # second review: accepted
    auto_approve = "auto_approve"  # second review sampled out (system only)
    return_ = "return"  # second review: back to the decider with a note
    reassign = "reassign"  # a supervisor moves the work to another reviewer


class ActorRule(StrEnum):
    any = "any"  # the role check is enough
    assignee = "assignee"  # the portion's assignee
    queue_member = "queue_member"  # a member of the portion's queue
    not_decider = "not_decider"  # anyone but the maker of the current decision
    system = "system"  # the service itself (sampling), never a person

    @property
    def description(self) -> str:
        return _RULE_TEXT[self]


_RULE_TEXT: dict[ActorRule, str] = {
    ActorRule.any: "any holder of the role",
    ActorRule.assignee: "the portion's assignee",
    ActorRule.queue_member: "a member of the portion's queue",
    ActorRule.not_decider: "someone other than the decider",
    ActorRule.system: "the service itself",
}

# Role names as in `service.auth.models.Role` (a test keeps them equal).
REVIEWER, APPROVER, SUPERVISOR, INTEGRATION = "reviewer", "approver", "supervisor", "integration"


@dataclass(frozen=True, slots=True)
class Transition:
    source: PortionState
    action: Action
    target: PortionState
    roles: frozenset[str]
    rule: ActorRule


def _t(
    source: PortionState,
    action: Action,
    target: PortionState,
    roles: Iterable[str],
    rule: ActorRule = ActorRule.any,
) -> tuple[tuple[PortionState, Action], Transition]:
    return (source, action), Transition(source, action, target, frozenset(roles), rule)


S, A = PortionState, Action
TRANSITIONS: Mapping[tuple[PortionState, Action], Transition] = dict(
    [
        _t(S.pending, A.enqueue, S.pending, {SUPERVISOR}),
        _t(S.assigned, A.enqueue, S.pending, {SUPERVISOR}),
        _t(S.pending, A.assign, S.assigned, {SUPERVISOR}),
        _t(S.assigned, A.assign, S.assigned, {SUPERVISOR}),
        _t(S.pending, A.claim, S.in_review, {REVIEWER}, ActorRule.queue_member),
        _t(S.assigned, A.claim, S.in_review, {REVIEWER}, ActorRule.assignee),
        _t(S.in_review, A.decide, S.decided, {REVIEWER}, ActorRule.assignee),
        _t(S.returned, A.decide, S.decided, {REVIEWER}, ActorRule.assignee),
        _t(S.decided, A.decide, S.decided, {REVIEWER}, ActorRule.assignee),
        _t(S.in_review, A.refer, S.referred, {REVIEWER}, ActorRule.assignee),
        _t(S.returned, A.refer, S.referred, {REVIEWER}, ActorRule.assignee),
        _t(S.referred, A.answer_referral, S.in_review, {SUPERVISOR, INTEGRATION}),
        _t(S.decided, A.approve, S.approved, {APPROVER}, ActorRule.not_decider),
        _t(S.decided, A.auto_approve, S.approved, (), ActorRule.system),
        _t(S.decided, A.return_, S.returned, {APPROVER}, ActorRule.not_decider),
        _t(S.pending, A.reassign, S.assigned, {SUPERVISOR}),
        _t(S.assigned, A.reassign, S.assigned, {SUPERVISOR}),
        _t(S.in_review, A.reassign, S.assigned, {SUPERVISOR}),
        _t(S.returned, A.reassign, S.assigned, {SUPERVISOR}),
        _t(S.referred, A.reassign, S.referred, {SUPERVISOR}),
    ]
)
del S, A


@dataclass(frozen=True, slots=True)
class ActorFacts:
    """What the table needs to know about the actor relative to one portion."""

    roles: frozenset[str]
    is_system: bool = False
    is_assignee: bool = False
    in_queue: bool = False
    is_decider: bool = False


class TransitionError(Exception):
    """Base of the pure errors; the service layer turns them into HTTP problems."""


class IllegalTransition(TransitionError):
    """The action does not apply in the portion's state."""

    def __init__(self, state: PortionState, action: Action) -> None:
        self.state, self.action = state, action
        allowed = ", ".join(a.value for a in allowed_actions(state)) or "none"
        super().__init__(
            f"cannot {action.value} a portion that is {state.value}; "
            f"actions allowed when {state.value}: {allowed}"
        )


class ActorNotAllowed(TransitionError):
    """The transition exists but this actor may not fire it."""

    def __init__(self, transition: Transition, reason: str) -> None:
        self.transition = transition
        super().__init__(reason)


def allowed_actions(state: PortionState) -> list[Action]:
    """The actions the table allows from `state`, in table order."""
    return [action for (source, action) in TRANSITIONS if source == state]


def _rule_holds(rule: ActorRule, facts: ActorFacts) -> bool:
    if rule is ActorRule.system:
        return facts.is_system
    if facts.is_system:
        return True  # the service itself (routing, CLI) is bound by roles only
    if rule is ActorRule.assignee:
        return facts.is_assignee
    if rule is ActorRule.queue_member:
        return facts.in_queue
    if rule is ActorRule.not_decider:
        return not facts.is_decider
    return True


def check(state: PortionState, action: Action, facts: ActorFacts) -> Transition:
    """The transition `action` fires from `state` for this actor.

    Raises `IllegalTransition` when the table has no such transition and
    `ActorNotAllowed` when the actor lacks every allowed role or breaks the actor rule.
    """
    transition = TRANSITIONS.get((state, action))
    if transition is None:
        raise IllegalTransition(state, action)
    if transition.roles and not (facts.is_system or facts.roles & transition.roles):
        needed = ", ".join(sorted(transition.roles))
        raise ActorNotAllowed(transition, f"{action.value} needs one of the roles: {needed}")
    if not _rule_holds(transition.rule, facts):
        if transition.rule is ActorRule.not_decider:
            reason = f"the decider may not {action.value} their own decision"
        else:
            reason = f"{action.value} is for {transition.rule.description} only"
        raise ActorNotAllowed(transition, reason)
    return transition


FINAL_CABLE_STATES = frozenset({CableState.released, CableState.withheld})
_NOT_STARTED = frozenset({PortionState.pending, PortionState.assigned})


def cable_rollup(current: CableState, portions: Iterable[PortionState]) -> CableState:
    """The cable's state from its portions' states.

    Final states never change. Otherwise: `ready` when there are portions and all are
    approved; `received` while no portion has been claimed; `in_review` in between.
    """
    if current in FINAL_CABLE_STATES:
        return current
    states = list(portions)
    if states and all(state is PortionState.approved for state in states):
        return CableState.ready
    if all(state in _NOT_STARTED for state in states):
        return CableState.received
    return CableState.in_review


def _bucket(state: PortionState) -> int:
    return 0 if state in _NOT_STARTED else 2 if state is PortionState.approved else 1


def rollup_may_change(source: PortionState, target: PortionState) -> bool:
    """False when moving one portion from `source` to `target` cannot change
    `cable_rollup` (both not started, both approved, or both in between)."""
    return _bucket(source) != _bucket(target)


def final_cable_state(actions: Iterable[str]) -> CableState:
    """What finalizing makes of a ready cable, from its portions' final decision actions:
    `withheld` when every portion is withheld (nothing releasable), else `released`."""
    return (
        CableState.withheld
        if all(action == "withhold" for action in actions)
        else CableState.released
    )
