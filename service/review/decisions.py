"""Decisions on portions (release, redact, withhold, refer) and referral answers.

Guarantees:
* a decision is stored as a new `decision` row (history is never overwritten) together
  with the portion's transition and its audit event, or not at all;
* the row records the decider, the checked spans and codes, the portion version it was
  made on and the SHA-256 of the text it was made on;
* checks run in this order: 404, 403 clearance, 412 version, 409 state, 403 actor, then
  the body (422 listing every problem), so a stale or misdirected request is told so
  before its body is judged.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

from sqlalchemy import Table, insert
from sqlmodel import Session

from service.auth.principal import Principal
from service.db import read_phase, write_phase
from service.errors import Unprocessable
from service.integrations.webhooks.outbox import portion_decided
from service.review import approvals
from service.review.models import Decision, DecisionAction
from service.review.queries import HistoryEntry, history, read_portion
from service.review.service import (
    Located,
    ReviewContext,
    check_transition,
    current_decision,
    locate,
    require_clearance,
    text_sha256,
    transition,
)
from service.review.states import Action
from service.review.validation import (
    CableAge,
    CheckedDecision,
    DecisionInput,
    DecisionProblems,
    Problem,
    canonical_codes,
    check_decision,
)

REFERRAL_ANSWERS = ("release", "redact", "withhold")
DECISIONS = cast(Table, Decision.__table__)  # type: ignore[attr-defined]
# Built once, and run as a plain insert (no unit-of-work flush): every decision runs it.
_INSERT_DECISION = insert(DECISIONS).returning(DECISIONS.c.id)


@dataclass(frozen=True, slots=True)
class DecisionResult:
    located: Located
    decision: Decision
    auto_approved: bool
    history: list[HistoryEntry]  # the portion's whole history, the new row last


@dataclass(frozen=True, slots=True)
class ReferralAnswer:
    """Another agency's answer: its recommendation for the portion, codes and a note."""

    answer: str
    codes: tuple[str, ...] = ()
    note: str | None = None


def unprocessable(problems: list[Problem], what: str) -> Unprocessable:
    return Unprocessable(
        f"The {what} cannot be stored: " + "; ".join(problem.msg for problem in problems),
        errors=[
            {"loc": [str(part) for part in problem.loc], "msg": problem.msg} for problem in problems
        ],
    )


def _age(located: Located, context: ReviewContext) -> CableAge:
    cable = located.cable
    return CableAge(cable.cable_date, cable.declassify_on, context.clock.today())


def _all_codes(checked: CheckedDecision) -> list[str]:
    codes = list(checked.codes)
    for span in checked.spans:
        codes.extend(code for code in span.codes if code not in codes)
    return codes


def decide(
    session: Session,
    *,
    ref_id: str,
    seq: int,
    actor: Principal,
    expected_version: int,
    decision: DecisionInput,
    context: ReviewContext,
) -> DecisionResult:
    """Record the assignee's decision on the portion and move it to `decided` (or
    `referred` for a referral). A release in full that the sampling policy passes over is
    approved automatically in the same transaction (`auto_approved`).

    Raises NotFound, Forbidden, PreconditionFailed, InvalidTransition and Unprocessable
    (bad spans or codes; each problem with its location)."""
    # Read phase (on SQLite without the write lock): everything the decision needs to know,
    # checked against the version read; the compare-and-set in the write phase makes sure
    # nothing changed in between (a 412 otherwise).
    read_phase(session)
    read = read_portion(session, ref_id=ref_id, seq=seq)
    located, earlier = read.located, read.history
    portion = located.portion
    require_clearance(actor, portion)
    action = Action.refer if decision.action == DecisionAction.refer else Action.decide
    check_transition(
        session, portion=portion, action=action, actor=actor, expected_version=expected_version
    )
    try:
        checked = check_decision(
            decision, text_length=len(portion.text), age=_age(located, context)
        )
    except DecisionProblems as error:
        raise unprocessable(error.problems, "decision") from None
    row = Decision.model_validate(
        {
            "portion_id": portion.id,
            "action": checked.action,
            "spans": [span.as_json() for span in checked.spans],
            "codes": list(checked.codes),
            "refer_to": checked.refer_to,
            "note": checked.note,
            "decided_by": actor.name,
            "portion_version": expected_version,
            "text_sha256": text_sha256(portion),
        }
    )
    policy = (
        approvals.policy_if_sampleable(session, located=located, decision=row)
        if action is Action.decide
        else None
    )

    write_phase(session)
    row.id = session.execute(_INSERT_DECISION, row.model_dump(exclude={"id"})).scalar_one()
    transition(
        session,
        cable=located.cable,
        portion=portion,
        action=action,
        actor=actor,
        expected_version=expected_version,
        detail={
            "decision_id": row.id,
            "action": checked.action,
            "spans": len(checked.spans),
            "codes": _all_codes(checked),
            "refer_to": checked.refer_to,
            "text_sha256": row.text_sha256,
        },
        cable_locked=located.locked,
    )
    portion_decided(session, cable=located.cable, portion=portion, action=checked.action)
    approval = (
        approvals.auto_approve(
            session, located=located, decision=row, policy=policy, context=context
        )
        if policy is not None
        else None
    )
    # The compare-and-set succeeded, so no decision was added since `earlier` was read.
    entries = [*earlier, HistoryEntry(row, approval)]
    return DecisionResult(located, row, approval is not None, entries)


def answer_referral(
    session: Session,
    *,
    ref_id: str,
    seq: int,
    actor: Principal,
    expected_version: int,
    answer: ReferralAnswer,
    context: ReviewContext,
) -> DecisionResult:
    """Record the other agency's answer to a referral and send the portion back to its
    reviewer (`in_review`), who decides with the answer in the history.

    The answer is stored as a `referral_answer` row naming the agency referred to; it
    needs no clearance (no text is read or returned). Raises as `decide`."""
    located = locate(session, ref_id=ref_id, seq=seq)
    portion = located.portion
    check_transition(
        session,
        portion=portion,
        action=Action.answer_referral,
        actor=actor,
        expected_version=expected_version,
    )
    problems: list[Problem] = []
    if answer.answer not in REFERRAL_ANSWERS:
        problems.append(
            Problem(("body", "answer"), f"answer must be one of {', '.join(REFERRAL_ANSWERS)}")
        )
    if answer.answer == "withhold" and not answer.codes:
        problems.append(Problem(("body", "exemptions"), "withhold needs an exemption code"))
    codes = canonical_codes(
        answer.codes, age=_age(located, context), loc=("body", "exemptions"), problems=problems
    )
    if problems:
        raise unprocessable(problems, "referral answer")
    referral = current_decision(session, portion)
    agency = referral.refer_to if referral is not None else None
    row = Decision.model_validate(
        {
            "portion_id": portion.id,
            "action": DecisionAction.referral_answer,
            "answer": answer.answer,
            "codes": list(codes),
            "refer_to": agency,
            "note": (answer.note or "").strip() or None,
            "decided_by": actor.name,
            "portion_version": expected_version,
            "text_sha256": text_sha256(portion),
        }
    )
    session.add(row)
    session.flush()
    transition(
        session,
        cable=located.cable,
        portion=portion,
        action=Action.answer_referral,
        actor=actor,
        expected_version=expected_version,
        detail={
            "decision_id": row.id,
            "answer": answer.answer,
            "codes": list(codes),
            "agency": agency,
        },
    )
    entries = history(session, [portion])[portion.id or 0]
    return DecisionResult(located, row, auto_approved=False, history=entries)
