"""Second review: approve, return, and sampling (DOMAIN.md section 7).

Guarantees:
* the approver is never the decider (the transition table's two-person rule, 403);
* each decision gets at most one second review (`approval.decision_id` is unique): an
  `approved`, `returned` (with a note, back to the decider) or `auto_approved` row;
* a decision is approved automatically only when the policy has sampling on, the decision
  is eligible (`sampling.ineligibility` is None: a release in full of an UNCLASSIFIED or
  CONFIDENTIAL portion, no NODIS/EXDIS, no 25X/50X/75X) and the injected draw passes it
  over; the approval is audited as `portion.approved` by the sampling actor with the rate
  and the draw.
"""

from __future__ import annotations

from sqlmodel import Session, col, select

from service.audit.models import AuditAction
from service.audit.service import record
from service.auth.principal import Principal, system_principal
from service.cables.models import Portion
from service.errors import InvalidTransition, Unprocessable
from service.review.models import Approval, ApprovalOutcome, Decision, ReviewPolicy
from service.review.sampling import SamplingFacts, ineligibility, sampled_out
from service.review.service import (
    Located,
    ReviewContext,
    check_transition,
    current_decision,
    locate,
    require_clearance,
    transition,
)
from service.review.states import Action

SAMPLER = system_principal("second-review-sampling")
POLICY_ID = 1


def _decision_under_review(session: Session, portion: Portion) -> Decision:
    decision = current_decision(session, portion)
    if decision is None:  # a decided portion always has one; guard against bad data
        raise InvalidTransition("The portion has no decision to review")
    return decision


def _review(
    session: Session,
    *,
    located: Located,
    decision: Decision,
    action: Action,
    outcome: ApprovalOutcome,
    actor: Principal,
    expected_version: int,
    note: str | None = None,
    changes: dict[str, str] | None = None,
    detail: dict[str, object] | None = None,
) -> Approval:
    row = Approval.model_validate(
        {
            "decision_id": decision.id,
            "portion_id": located.portion.id,
            "outcome": outcome,
            "reviewer": actor.name,
            "note": note,
        }
    )
    session.add(row)
    session.flush()
    transition(
        session,
        cable=located.cable,
        portion=located.portion,
        action=action,
        actor=actor,
        expected_version=expected_version,
        changes=changes,
        detail={"decision_id": decision.id, "outcome": outcome.value, **(detail or {})},
        cable_locked=located.locked,
    )
    return row


def approve(
    session: Session, *, ref_id: str, seq: int, actor: Principal, expected_version: int
) -> Located:
    """An approver other than the decider accepts the current decision: `approved`.

    Raises NotFound, Forbidden (clearance, role, or the decider approving their own
    decision), PreconditionFailed, InvalidTransition."""
    located = locate(session, ref_id=ref_id, seq=seq)
    require_clearance(actor, located.portion)
    check_transition(
        session,
        portion=located.portion,
        action=Action.approve,
        actor=actor,
        expected_version=expected_version,
    )
    decision = _decision_under_review(session, located.portion)
    _review(
        session,
        located=located,
        decision=decision,
        action=Action.approve,
        outcome=ApprovalOutcome.approved,
        actor=actor,
        expected_version=expected_version,
    )
    return located


def return_decision(
    session: Session,
    *,
    ref_id: str,
    seq: int,
    actor: Principal,
    expected_version: int,
    note: str,
) -> Located:
    """An approver other than the decider sends the decision back to its decider with a
    note: `returned`, assigned to the decider, who may decide again. Raises as `approve`,
    and Unprocessable for a blank note."""
    located = locate(session, ref_id=ref_id, seq=seq)
    require_clearance(actor, located.portion)
    check_transition(
        session,
        portion=located.portion,
        action=Action.return_,
        actor=actor,
        expected_version=expected_version,
    )
    if not note.strip():
        raise Unprocessable(
            "A return needs a note saying what to change",
            errors=[{"loc": ["body", "note"], "msg": "must not be blank"}],
        )
    decision = _decision_under_review(session, located.portion)
    _review(
        session,
        located=located,
        decision=decision,
        action=Action.return_,
        outcome=ApprovalOutcome.returned,
        actor=actor,
        expected_version=expected_version,
        note=note.strip(),
        changes={"assignee": decision.decided_by},
    )
    return located


_POLICY = select(ReviewPolicy).where(col(ReviewPolicy.id) == POLICY_ID)


def get_policy(session: Session) -> ReviewPolicy:
    """The second-review policy (migration 0004 creates its one row)."""
    policy = session.exec(_POLICY).first()
    return policy if policy is not None else ReviewPolicy(id=POLICY_ID)


def set_policy(
    session: Session, *, actor: Principal, sampling_enabled: bool, sample_rate: float
) -> ReviewPolicy:
    """A supervisor turns sampling on or off and sets the share of eligible decisions that
    still get a second review (0..1). Audited as `rule.changed` on `review_policy`."""
    if not 0.0 <= sample_rate <= 1.0:
        raise Unprocessable(
            "sample_rate must be between 0 and 1",
            errors=[{"loc": ["body", "sample_rate"], "msg": "must be between 0 and 1"}],
        )
    policy = session.exec(
        select(ReviewPolicy).where(col(ReviewPolicy.id) == POLICY_ID).with_for_update()
    ).one()
    old = {"sampling_enabled": policy.sampling_enabled, "sample_rate": policy.sample_rate}
    policy.sampling_enabled = sampling_enabled
    policy.sample_rate = sample_rate
    policy.updated_by = actor.name
    session.add(policy)
    record(
        session,
        actor=actor,
        action=AuditAction.rule_changed,
        entity="review_policy",
        entity_id="sampling",
        detail={
            "old": old,
            "new": {"sampling_enabled": sampling_enabled, "sample_rate": sample_rate},
        },
    )
    return policy


def sampling_facts(located: Located, decision: Decision) -> SamplingFacts:
    decl = located.cable.decl or {}
    decl_codes = decl.get("codes") or []
    return SamplingFacts(
        action=decision.action,
        span_count=len(decision.spans),
        codes=tuple(decision.codes),
        level=located.portion.level,
        marking=located.portion.marking,
        cable_caveats=tuple(located.cable.caveats),
        decl_codes=tuple(str(code) for code in decl_codes),
    )


def policy_if_sampleable(
    session: Session, *, located: Located, decision: Decision
) -> ReviewPolicy | None:
    """The sampling policy when `decision` (not stored yet) could be sampled out at all;
    None, without reading the policy, when it always needs a second review."""
    if ineligibility(sampling_facts(located, decision)) is not None:
        return None
    return get_policy(session)


def auto_approve(
    session: Session,
    *,
    located: Located,
    decision: Decision,
    policy: ReviewPolicy,
    context: ReviewContext,
) -> Approval | None:
    """Approve the stored `decision` automatically when `policy` samples it out (see the
    module docstring); the `auto_approved` row when it did. Draws from `context.draw` only
    for eligible decisions with sampling on."""
    draw = sampled_out(
        sampling_facts(located, decision),
        sampling_enabled=policy.sampling_enabled,
        sample_rate=policy.sample_rate,
        draw=context.draw,
    )
    if draw is None:
        return None
    return _review(
        session,
        located=located,
        decision=decision,
        action=Action.auto_approve,
        outcome=ApprovalOutcome.auto_approved,
        actor=SAMPLER,
        expected_version=located.portion.version,
        detail={"sample_rate": policy.sample_rate, "draw": round(draw, 6)},
    )


def sample_out(
    session: Session, *, located: Located, decision: Decision, context: ReviewContext
) -> bool:
    """`auto_approve` with the policy read here; True when the decision was approved."""
    policy = policy_if_sampleable(session, located=located, decision=decision)
    if policy is None:
        return False
    return (
        auto_approve(session, located=located, decision=decision, policy=policy, context=context)
        is not None
    )
