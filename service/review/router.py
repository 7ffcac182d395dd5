"""HTTP routes for review: read a portion, claim, decide, approve, return, referral
answers, reassignment, the caller's queue and the second-review policy.

Writes that change a portion need `If-Match: "<version>"` (the portion's `ETag`): 428
without it, 412 when stale. Claim takes it optionally. Every portion response carries the
new `ETag`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response
from sqlmodel import Session

from service.auth.deps import (
    AnyCaller,
    ApproverDep,
    ReviewerCaller,
    ReviewerDep,
    ReviewerOrApproverDep,
    SupervisorDep,
    SupervisorOrIntegrationDep,
)
from service.auth.principal import Principal
from service.db import autocommit_reads, finish, read_phase
from service.deps import PageCursor, SessionDep, SettingsDep
from service.errors import PreconditionFailed, PreconditionRequired
from service.idempotency.http import IdempotencyDep, with_idempotency_responses
from service.pagination import next_link
from service.responses import model_response
from service.review import approvals, decisions, queries
from service.review import service as review
from service.review.models import ReviewPolicy
from service.review.schemas import (
    AssigneeIn,
    DecisionIn,
    DecisionResultOut,
    PolicyIn,
    PolicyOut,
    PortionDetailOut,
    QueuePage,
    ReferralAnswerIn,
    ReturnIn,
)
from service.review.service import Located, ReviewContext
from service.review.validation import DecisionInput, SpanInput
from service.review.views import decision_result, portion_detail, queue_item
from service.routes import CommittingRoute

router = APIRouter(prefix="/api/v1", tags=["review"], route_class=CommittingRoute)

PORTION = "/cables/{ref_id}/portions/{seq}"
Seq = Annotated[int, Path(ge=0, le=100_000, description="0 is the header, 1..N the body")]
RefId = Annotated[str, Path(max_length=64)]
IfMatch = Annotated[
    str | None,
    Header(description='The portion\'s ETag, e.g. "3": required on writes (428 without it)'),
]
PORTION_RESPONSES: dict[int | str, dict[str, str]] = {
    404: {"description": "No such cable or portion"},
    409: {"description": "Not allowed in the portion's current state"},
    412: {"description": "If-Match is stale; the current ETag is in the response"},
    428: {"description": "If-Match is missing"},
}


async def review_context() -> ReviewContext:
    """The clock and random draw of review services (tests override this dependency).
    async: no I/O, so no hop to a worker thread."""
    return ReviewContext()


ContextDep = Annotated[ReviewContext, Depends(review_context)]


def expected_version(if_match: str | None, *, required: bool = True) -> int | None:
    """The version named by an `If-Match` header: `"3"` (or a bare `3`).

    Missing: 428 when required. `*`, weak tags, lists and anything else that cannot equal
    a single strong portion ETag: 412 (no current version can match it)."""
    if if_match is None or not if_match.strip():
        if required:
            raise PreconditionRequired(
                'This write needs If-Match: "<version>", the ETag from reading the portion'
            )
        return None
    tag = if_match.strip()
    if tag == "*":
        raise PreconditionRequired('If-Match must name the portion version, e.g. "3", not *')
    raw = tag[1:-1] if len(tag) >= 2 and tag[0] == tag[-1] == '"' else tag
    if not raw.isdigit() or len(raw) > 9:
        raise PreconditionFailed(f'If-Match {tag[:40]!r} is not a portion ETag such as "3"')
    return int(raw)


def _respond(
    session: Session,
    principal: Principal,
    located: Located,
    response: Response,
) -> PortionDetailOut:
    portion = located.portion
    history = queries.history(session, [portion])[portion.id or 0]
    response.headers["ETag"] = review.etag(portion)
    return portion_detail(principal, located.cable, portion, history)


@router.get(PORTION, response_model=PortionDetailOut, responses={404: PORTION_RESPONSES[404]})
def read_portion(
    session: SessionDep, caller: AnyCaller, ref_id: RefId, seq: Seq, response: Response
) -> Response:
    """One portion with its decision history, oldest first. Its strong `ETag` is
    `"<version>"`. Above the caller's clearance, `text` (and notes) are null and
    `withheld_for_clearance` is true."""
    autocommit_reads(session)  # two independent reads: the caller, the portion with history
    principal = caller.principal(session)
    detail = queries.read_portion(session, ref_id=ref_id, seq=seq)
    response.headers["ETag"] = review.etag(detail.located.portion)
    located = detail.located
    return model_response(
        portion_detail(principal, located.cable, located.portion, detail.history), response
    )


@router.post(f"{PORTION}/claim", response_model=PortionDetailOut, responses=PORTION_RESPONSES)
def claim(
    session: SessionDep,
    principal: ReviewerDep,
    ref_id: RefId,
    seq: Seq,
    response: Response,
    if_match: IfMatch = None,
) -> PortionDetailOut:
    """Take the portion: its assignee, or a member of its queue while it waits
    unassigned (then the caller becomes the assignee). `If-Match` is optional here."""
    located = review.claim(
        session,
        ref_id=ref_id,
        seq=seq,
        actor=principal,
        expected_version=expected_version(if_match, required=False),
    )
    return _respond(session, principal, located, response)


@router.put(
    f"{PORTION}/decision",
    response_model=DecisionResultOut,
    responses=with_idempotency_responses(PORTION_RESPONSES),
)
def decide(
    idempotency: IdempotencyDep,  # first: the key is claimed before the session opens
    session: SessionDep,
    caller: ReviewerCaller,
    context: ContextDep,
    ref_id: RefId,
    seq: Seq,
    body: DecisionIn,
    response: Response,
    if_match: IfMatch = None,
) -> DecisionResultOut | Response:
    """The assignee's decision: `release`, `redact` (half-open character spans into the
    portion text, inside it, not overlapping, each with its exemption codes), `withhold`
    (codes) or `refer` (to the agency in `refer_to`). Codes must fit the cable's age (422
    names the codes that fit). A new decision supersedes the last; none is overwritten.
    With an `Idempotency-Key`, a retry replays the first outcome instead of deciding again."""

    if not idempotency.keyed:
        # The caller is read in the decision's read phase (on SQLite, outside the write
        # lock); with a key, `respond()` runs the decision in a writer's savepoint.
        read_phase(session)
    principal = caller.principal(session)

    def produce() -> DecisionResultOut:
        version = expected_version(if_match)
        assert version is not None
        result = decisions.decide(
            session,
            ref_id=ref_id,
            seq=seq,
            actor=principal,
            expected_version=version,
            decision=DecisionInput(
                action=body.action,
                spans=tuple(SpanInput(r.start, r.end, tuple(r.exemption)) for r in body.redactions),
                codes=tuple(body.exemptions),
                refer_to=body.refer_to,
                note=body.note,
            ),
            context=context,
        )
        located = result.located
        response.headers["ETag"] = review.etag(located.portion)
        return decision_result(
            principal, located.cable, located.portion, result.history, result.auto_approved
        )

    outcome = idempotency.respond(session, produce, response)
    finish(session)  # commit now: the write lock is released before the response is built
    return outcome if isinstance(outcome, Response) else model_response(outcome, response)


@router.post(f"{PORTION}/approve", response_model=PortionDetailOut, responses=PORTION_RESPONSES)
def approve(
    session: SessionDep,
    principal: ApproverDep,
    ref_id: RefId,
    seq: Seq,
    response: Response,
    if_match: IfMatch = None,
) -> PortionDetailOut:
    """Second review: accept the current decision. The decider may not approve their own
    decision (403)."""
    version = expected_version(if_match)
    assert version is not None
    located = approvals.approve(
        session, ref_id=ref_id, seq=seq, actor=principal, expected_version=version
    )
    return _respond(session, principal, located, response)


@router.post(f"{PORTION}/return", response_model=PortionDetailOut, responses=PORTION_RESPONSES)
def return_decision(
    session: SessionDep,
    principal: ApproverDep,
    ref_id: RefId,
    seq: Seq,
    body: ReturnIn,
    response: Response,
    if_match: IfMatch = None,
) -> PortionDetailOut:
    """Second review: send the decision back to its decider with a note; the portion
    becomes `returned` and the decider may decide again."""
    version = expected_version(if_match)
    assert version is not None
    located = approvals.return_decision(
        session, ref_id=ref_id, seq=seq, actor=principal, expected_version=version, note=body.note
    )
    return _respond(session, principal, located, response)


@router.post(f"{PORTION}/referral", response_model=PortionDetailOut, responses=PORTION_RESPONSES)
def answer_referral(
    session: SessionDep,
    principal: SupervisorOrIntegrationDep,
    context: ContextDep,
    ref_id: RefId,
    seq: Seq,
    body: ReferralAnswerIn,
    response: Response,
    if_match: IfMatch = None,
) -> PortionDetailOut:
    """Record the other agency's answer to a referral; the portion goes back to its
    reviewer (`in_review`), who decides with the answer in the history."""
    version = expected_version(if_match)
    assert version is not None
    result = decisions.answer_referral(
        session,
        ref_id=ref_id,
        seq=seq,
        actor=principal,
        expected_version=version,
        answer=decisions.ReferralAnswer(body.answer, tuple(body.exemptions), body.note),
        context=context,
    )
    located = result.located
    response.headers["ETag"] = review.etag(located.portion)
    return portion_detail(principal, located.cable, located.portion, result.history)


@router.put(f"{PORTION}/assignee", response_model=PortionDetailOut, responses=PORTION_RESPONSES)
def reassign(
    session: SessionDep,
    principal: SupervisorDep,
    ref_id: RefId,
    seq: Seq,
    body: AssigneeIn,
    response: Response,
    if_match: IfMatch = None,
) -> PortionDetailOut:
    """Reassign the portion to any active reviewer whose clearance covers it (queue
    membership is not required); 422 otherwise. Claimed or returned work goes back to
    `assigned`; decided and approved portions cannot be reassigned (409)."""
    version = expected_version(if_match)
    assert version is not None
    located = review.reassign(
        session,
        ref_id=ref_id,
        seq=seq,
        username=body.username,
        actor=principal,
        expected_version=version,
    )
    return _respond(session, principal, located, response)


@router.get("/queue", response_model=QueuePage)
def work_queue(
    session: SessionDep,
    principal: ReviewerOrApproverDep,
    settings: SettingsDep,
    request: Request,
    response: Response,
    limit: int | None = Query(None, ge=1, le=500),
    cursor: PageCursor = None,
) -> QueuePage:
    """The caller's work, soonest `declassify_on` first: portions assigned to a reviewer
    (assigned, in review or returned) and, for an approver, decisions awaiting its second
    review (never its own). Cursor-paginated with a `Link` header."""
    items, next_cursor = queries.work_queue(
        session,
        principal=principal,
        limit=min(limit or settings.page_limit_default, settings.page_limit_max),
        cursor=cursor,
    )
    response.headers.update(next_link(request.url, next_cursor))
    return QueuePage(items=[queue_item(principal, item) for item in items], next_cursor=next_cursor)


def _policy_out(policy: ReviewPolicy) -> PolicyOut:
    return PolicyOut(
        sampling_enabled=policy.sampling_enabled,
        sample_rate=policy.sample_rate,
        updated_by=policy.updated_by,
        updated_at=policy.updated_at,
    )


@router.get("/review/policy", response_model=PolicyOut)
def read_policy(session: SessionDep, _principal: SupervisorDep) -> PolicyOut:
    """The second-review sampling policy (DOMAIN.md section 7)."""
    return _policy_out(approvals.get_policy(session))


@router.put("/review/policy", response_model=PolicyOut)
def change_policy(session: SessionDep, principal: SupervisorDep, body: PolicyIn) -> PolicyOut:
    """Turn sampling on or off and set the share of eligible decisions still reviewed.
    Sampling only ever skips the second review of UNCLASSIFIED and CONFIDENTIAL portions
    released in full; never SECRET and above, NODIS/EXDIS cables or 25X/50X/75X codes."""
    policy = approvals.set_policy(
        session,
        actor=principal,
        sampling_enabled=body.sampling_enabled,
        sample_rate=body.sample_rate,
    )
    return _policy_out(policy)
