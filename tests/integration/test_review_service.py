"""The review services on a real database (SQLite or PostgreSQL): transitions with
compare-and-set, decisions and their history, second review, sampling, referral,
reassignment, finalization, and the audit events each writes."""

from __future__ import annotations

import pytest
from factories import create_user
from review_factories import (
    DEFAULT_PORTIONS,
    P,
    audit_actions,
    audit_events,
    cable_row,
    context,
    make_cable,
    portion_row,
    principal,
)
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, col, select

from service.auth.models import Role
from service.auth.principal import system_principal
from service.db import unit_of_work
from service.errors import (
    Conflict,
    Forbidden,
    InvalidTransition,
    NotFound,
    PreconditionFailed,
    Unprocessable,
)
from service.markings import Level
from service.review import approvals, decisions, finalize, queries
from service.review import service as review
from service.review.models import Decision, Release
from service.review.states import Action
from service.review.validation import DecisionInput, SpanInput

RITA = principal("rita", Role.reviewer)
ALAN = principal("alan", Role.approver)
SUE = principal("sue", Role.supervisor)
RELEASE = DecisionInput(action="release")


def _decide(
    engine: Engine,
    ref_id: str,
    seq: int,
    decision: DecisionInput = RELEASE,
    *,
    actor=RITA,
    ctx=None,
) -> decisions.DecisionResult:
    version = portion_row(engine, ref_id, seq).version
    with unit_of_work(engine) as session:
        return decisions.decide(
            session,
            ref_id=ref_id,
            seq=seq,
            actor=actor,
            expected_version=version,
            decision=decision,
            context=ctx or context(),
        )


def _claim(engine: Engine, ref_id: str, seq: int, actor=RITA) -> None:
    with unit_of_work(engine) as session:
        review.claim(session, ref_id=ref_id, seq=seq, actor=actor, expected_version=None)


def _approve(engine: Engine, ref_id: str, seq: int, actor=ALAN) -> None:
    version = portion_row(engine, ref_id, seq).version
    with unit_of_work(engine) as session:
        approvals.approve(session, ref_id=ref_id, seq=seq, actor=actor, expected_version=version)


def _through(engine: Engine, ref_id: str, decisions_by_seq: dict[int, DecisionInput]) -> None:
    for seq, decision in decisions_by_seq.items():
        _claim(engine, ref_id, seq)
        _decide(engine, ref_id, seq, decision)
        _approve(engine, ref_id, seq)


def test_claim_decide_approve_moves_state_version_cable_and_audit(engine: Engine) -> None:
    ref_id = make_cable(engine, assignee="rita")
    _claim(engine, ref_id, 1)
    assert (portion_row(engine, ref_id, 1).status, portion_row(engine, ref_id, 1).version) == (
        "in_review",
        2,
    )
    assert cable_row(engine, ref_id).status == "in_review"
    result = _decide(
        engine,
        ref_id,
        1,
        DecisionInput(action="redact", spans=(SpanInput(7, 12, ("1.4(b)",)),)),
    )
    assert result.auto_approved is False
    assert (result.decision.portion_version, result.decision.spans) == (
        2,
        [{"start": 7, "end": 12, "codes": ["1.4(b)"]}],
    )
    _approve(engine, ref_id, 1)
    row = portion_row(engine, ref_id, 1)
    assert (row.status, row.version) == ("approved", 4)
    assert audit_actions(engine, ref_id=ref_id) == [
        "portion.claimed",
        "portion.decided",
        "portion.approved",
    ]
    claimed, decided, approved = audit_events(engine, ref_id=ref_id)
    assert claimed.detail == {
        "seq": 1,
        "state": {"old": "assigned", "new": "in_review"},
        "version": 2,
        "cable_status": {"old": "received", "new": "in_review"},
    }
    assert decided.detail["codes"] == ["1.4(b)"]
    assert decided.detail["spans"] == 1
    assert "text" not in str(decided.detail).lower().replace("text_sha256", "")
    assert approved.actor == "alan"


def test_cable_is_ready_only_when_every_portion_is_approved(engine: Engine) -> None:
    ref_id = make_cable(engine, assignee="rita")
    _through(engine, ref_id, {0: RELEASE, 1: RELEASE})
    assert cable_row(engine, ref_id).status == "in_review"
    _through(engine, ref_id, {2: RELEASE})
    assert cable_row(engine, ref_id).status == "ready"
    assert audit_events(engine, ref_id=ref_id)[-1].detail["cable_status"] == {
        "old": "in_review",
        "new": "ready",
    }


def test_stale_version_is_412_with_the_current_etag_and_writes_nothing(engine: Engine) -> None:
    ref_id = make_cable(engine, assignee="rita")
    _claim(engine, ref_id, 1)
    before = audit_actions(engine)
    with pytest.raises(PreconditionFailed) as raised, unit_of_work(engine) as session:
        decisions.decide(
            session,
            ref_id=ref_id,
            seq=1,
            actor=RITA,
            expected_version=1,
            decision=RELEASE,
            context=context(),
        )
    assert raised.value.headers == {"ETag": '"2"'}
    assert audit_actions(engine) == before
    assert portion_row(engine, ref_id, 1).status == "in_review"


def test_a_stale_portion_object_loses_the_compare_and_set(engine: Engine) -> None:
    """T-3.3: the version check passes on a stale object, the UPDATE matches no row, and
    the result is a 412, never a 500 or a lost update."""
    ref_id = make_cable(engine, assignee="rita")
    with unit_of_work(engine, write=False) as session:
        stale = review.locate(session, ref_id=ref_id, seq=1, lock=False)
    _claim(engine, ref_id, 1)  # someone else moves the portion on (version 2)
    with unit_of_work(engine) as session:
        cable = session.merge(stale.cable, load=False)
        portion = session.merge(stale.portion, load=False)
        assert portion.version == 1
        with pytest.raises(PreconditionFailed):
            review.transition(
                session,
                cable=cable,
                portion=portion,
                action=Action.claim,
                actor=RITA,
                expected_version=1,
            )
    assert portion_row(engine, ref_id, 1).version == 2
    assert audit_actions(engine, ref_id=ref_id) == ["portion.claimed"]


def test_illegal_transition_is_409_naming_state_and_allowed_actions(engine: Engine) -> None:
    ref_id = make_cable(engine, assignee="rita")
    with pytest.raises(InvalidTransition) as raised, unit_of_work(engine) as session:
        approvals.approve(session, ref_id=ref_id, seq=1, actor=ALAN, expected_version=1)
    assert raised.value.detail == (
        "cannot approve a portion that is assigned; "
        "actions allowed when assigned: enqueue, assign, claim, reassign"
    )
    assert raised.value.extra == {
        "state": "assigned",
        "allowed_actions": ["enqueue", "assign", "claim", "reassign"],
    }


def test_only_the_assignee_decides_and_nobody_approves_their_own_decision(engine: Engine) -> None:
    ref_id = make_cable(engine, assignee="rita")
    _claim(engine, ref_id, 1)
    with pytest.raises(Forbidden, match="for the portion's assignee only"):
        _decide(engine, ref_id, 1, actor=principal("other", Role.reviewer))
    both = principal("rita", Role.reviewer, Role.approver)
    _decide(engine, ref_id, 1, actor=both)
    with pytest.raises(Forbidden, match="the decider may not approve their own decision"):
        _approve(engine, ref_id, 1, actor=both)
    assert audit_actions(engine, ref_id=ref_id) == ["portion.claimed", "portion.decided"]


def test_clearance_below_the_portion_is_403_for_every_act(engine: Engine) -> None:
    ref_id = make_cable(engine, assignee="rita", portions=(P("(S) secret\n", "SECRET", "S"),))
    low = principal("rita", Role.reviewer, clearance=Level.CONFIDENTIAL)
    with pytest.raises(Forbidden, match="clearance"), unit_of_work(engine) as session:
        review.claim(session, ref_id=ref_id, seq=0, actor=low, expected_version=None)


def test_unknown_cable_and_unknown_portion_are_the_same_404(engine: Engine) -> None:
    ref_id = make_cable(engine)
    with unit_of_work(engine, write=False) as session:
        with pytest.raises(NotFound) as unknown_portion:
            queries.read_portion(session, ref_id=ref_id, seq=99)
        with pytest.raises(NotFound) as unknown_cable:
            queries.read_portion(session, ref_id="99NOWHERE1", seq=99)
    assert unknown_portion.value.detail == f"No portion 99 of cable {ref_id}"
    assert unknown_cable.value.detail == "No portion 99 of cable 99NOWHERE1"


def test_return_goes_back_to_the_decider_who_decides_again_without_overwriting(
    engine: Engine,
) -> None:
    ref_id = make_cable(engine, assignee="rita")
    _claim(engine, ref_id, 1)
    first = _decide(engine, ref_id, 1).decision
    version = portion_row(engine, ref_id, 1).version
    with unit_of_work(engine) as session:
        approvals.return_decision(
            session,
            ref_id=ref_id,
            seq=1,
            actor=ALAN,
            expected_version=version,
            note="redact the names",
        )
    row = portion_row(engine, ref_id, 1)
    assert (row.status, row.assignee) == ("returned", "rita")
    second = _decide(
        engine, ref_id, 1, DecisionInput(action="redact", spans=(SpanInput(0, 5, ("(b)(6)",)),))
    ).decision
    with unit_of_work(engine, write=False) as session:
        entries = queries.read_portion(session, ref_id=ref_id, seq=1).history
    assert [(e.decision.id, e.decision.action) for e in entries] == [
        (first.id, "release"),
        (second.id, "redact"),
    ]
    assert entries[0].review is not None
    assert (entries[0].review.outcome, entries[0].review.note) == ("returned", "redact the names")
    assert entries[1].review is None
    assert audit_actions(engine, ref_id=ref_id) == [
        "portion.claimed",
        "portion.decided",
        "portion.returned",
        "portion.decided",
    ]


def test_blank_return_note_is_422(engine: Engine) -> None:
    ref_id = make_cable(engine, assignee="rita")
    _claim(engine, ref_id, 1)
    _decide(engine, ref_id, 1)
    version = portion_row(engine, ref_id, 1).version
    with pytest.raises(Unprocessable, match="needs a note"), unit_of_work(engine) as session:
        approvals.return_decision(
            session, ref_id=ref_id, seq=1, actor=ALAN, expected_version=version, note="  "
        )


def test_referral_waits_for_the_answer_then_goes_back_to_the_reviewer(engine: Engine) -> None:
    ref_id = make_cable(engine, assignee="rita")
    _claim(engine, ref_id, 1)
    _decide(engine, ref_id, 1, DecisionInput(action="refer", refer_to="CIA", note="sources"))
    assert portion_row(engine, ref_id, 1).status == "referred"
    version = portion_row(engine, ref_id, 1).version
    records = principal("records", Role.integration, clearance=Level.UNCLASSIFIED)
    with unit_of_work(engine) as session:
        decisions.answer_referral(
            session,
            ref_id=ref_id,
            seq=1,
            actor=records,
            expected_version=version,
            answer=decisions.ReferralAnswer("withhold", ("1.4(c)",), "protect sources"),
            context=context(),
        )
    row = portion_row(engine, ref_id, 1)
    assert (row.status, row.assignee) == ("in_review", "rita")
    _decide(engine, ref_id, 1, DecisionInput(action="withhold", codes=("1.4(c)",)))
    with unit_of_work(engine, write=False) as session:
        entries = queries.read_portion(session, ref_id=ref_id, seq=1).history
    assert [(e.decision.action, e.decision.refer_to, e.decision.answer) for e in entries] == [
        ("refer", "CIA", None),
        ("referral_answer", "CIA", "withhold"),
        ("withhold", None, None),
    ]
    assert audit_actions(engine, ref_id=ref_id) == [
        "portion.claimed",
        "portion.referred",
        "portion.referral_answered",
        "portion.decided",
    ]


def test_bad_decision_is_422_with_every_problem_and_writes_nothing(engine: Engine) -> None:
    ref_id = make_cable(engine, assignee="rita")
    _claim(engine, ref_id, 1)
    bad = DecisionInput(
        action="redact", spans=(SpanInput(10, 5, ("1.4(b)",)), SpanInput(0, 999, ("25X1",)))
    )
    with pytest.raises(Unprocessable) as raised:
        _decide(engine, ref_id, 1, bad)
    assert [e["loc"] for e in raised.value.errors or []] == [
        ["body", "redactions", "0", "end"],
        ["body", "redactions", "1", "end"],
        ["body", "redactions", "1", "exemption"],
    ]
    assert "codes that fit: 1.4(a)-1.4(h)" in raised.value.detail
    with unit_of_work(engine, write=False) as session:
        assert session.exec(select(Decision)).all() == []
    assert audit_actions(engine, ref_id=ref_id) == ["portion.claimed"]


# --- sampling ------------------------------------------------------------------------


def _enable_sampling(engine: Engine, rate: float) -> None:
    with unit_of_work(engine) as session:
        approvals.set_policy(session, actor=SUE, sampling_enabled=True, sample_rate=rate)


def test_sampling_is_off_by_default(engine: Engine) -> None:
    ref_id = make_cable(engine, assignee="rita", portions=(P("(U) plain\n", "UNCLASSIFIED", "U"),))
    _claim(engine, ref_id, 0)
    result = _decide(engine, ref_id, 0, ctx=context())  # no draw scripted: none taken
    assert result.auto_approved is False
    assert portion_row(engine, ref_id, 0).status == "decided"


def test_sampled_out_release_is_auto_approved_and_audited_as_such(engine: Engine) -> None:
    _enable_sampling(engine, 0.1)
    ref_id = make_cable(engine, assignee="rita")
    _claim(engine, ref_id, 1)
    result = _decide(engine, ref_id, 1, ctx=context(0.5))
    assert result.auto_approved is True
    row = portion_row(engine, ref_id, 1)
    assert (row.status, row.version) == ("approved", 4)
    approved = audit_events(engine, ref_id=ref_id)[-1]
    assert (approved.action, approved.actor) == ("portion.approved", "second-review-sampling")
    assert approved.detail["outcome"] == "auto_approved"
    assert (approved.detail["sample_rate"], approved.detail["draw"]) == (0.1, 0.5)


def test_drawn_release_still_needs_an_approver(engine: Engine) -> None:
    _enable_sampling(engine, 0.1)
    ref_id = make_cable(engine, assignee="rita")
    _claim(engine, ref_id, 1)
    assert _decide(engine, ref_id, 1, ctx=context(0.05)).auto_approved is False
    assert portion_row(engine, ref_id, 1).status == "decided"


@pytest.mark.parametrize(
    ("cable", "portion", "decision"),
    [
        ({}, P("(S) secret\n", "SECRET", "S"), RELEASE),
        ({"caveats": ("NODIS",)}, P("(C) x\n"), RELEASE),
        ({"caveats": ("EXDIS",)}, P("(C) x\n"), RELEASE),
        ({"decl": {"kind": "exemption", "codes": ["25X1"]}}, P("(C) x\n"), RELEASE),
        ({}, P("(C) x\n"), DecisionInput(action="redact", spans=(SpanInput(0, 1, ("1.4(b)",)),))),
    ],
)
def test_never_sampled_whatever_the_draw(
    engine: Engine, cable: dict[str, object], portion: P, decision: DecisionInput
) -> None:
    _enable_sampling(engine, 0.0)
    ref_id = make_cable(engine, assignee="rita", portions=(portion,), **cable)  # type: ignore[arg-type]
    _claim(engine, ref_id, 0)
    assert _decide(engine, ref_id, 0, decision, ctx=context()).auto_approved is False


def test_policy_change_is_validated_and_audited(engine: Engine) -> None:
    with pytest.raises(Unprocessable), unit_of_work(engine) as session:
        approvals.set_policy(session, actor=SUE, sampling_enabled=True, sample_rate=1.5)
    _enable_sampling(engine, 0.25)
    (event,) = audit_events(engine)
    assert (event.action, event.entity, event.entity_id) == (
        "rule.changed",
        "review_policy",
        "sampling",
    )
    assert event.detail == {
        "old": {"sampling_enabled": False, "sample_rate": 0.1},
        "new": {"sampling_enabled": True, "sample_rate": 0.25},
    }


# --- routing entry point and reassignment ----------------------------------------------


def test_assign_and_enqueue_for_routing(engine: Engine) -> None:
    ref_id = make_cable(engine, queue=None)
    routing = system_principal("routing")
    with unit_of_work(engine) as session:
        cable = review.locate(session, ref_id=ref_id, seq=0, lock=False).cable
        portions = list(
            session.exec(
                select(review.Portion)
                .where(col(review.Portion.cable_id) == cable.id)
                .order_by(col(review.Portion.seq))
            )
        )
        review.assign(
            session, portion=portions[0], assignee="rita", queue="general", actor=routing, rule="r1"
        )
        review.assign(
            session, portion=portions[1], assignee=None, queue="senior", actor=routing, rule="r2"
        )
    first, second = portion_row(engine, ref_id, 0), portion_row(engine, ref_id, 1)
    assert (first.status, first.assignee, first.queue, first.version) == (
        "assigned",
        "rita",
        "general",
        2,
    )
    assert (second.status, second.assignee, second.queue, second.version) == (
        "pending",
        None,
        "senior",
        2,
    )
    events = audit_events(engine, ref_id=ref_id)
    assert [(e.action, e.actor, e.detail["rule"]) for e in events] == [
        ("portion.routed", "routing", "r1"),
        ("portion.routed", "routing", "r2"),
    ]
    # A queue member claims the waiting portion and becomes its assignee.
    _claim(engine, ref_id, 1, actor=principal("quinn", Role.reviewer, queues=("senior",)))
    assert portion_row(engine, ref_id, 1).assignee == "quinn"
    with pytest.raises(Forbidden, match="member of the portion's queue"):
        _claim(engine, ref_id, 2, actor=principal("quinn", Role.reviewer, queues=("senior",)))


def test_reassign_needs_an_active_cleared_reviewer(engine: Engine) -> None:
    ref_id = make_cable(engine, assignee="rita", portions=(P("(S) x\n", "SECRET", "S"),))
    create_user(engine, username="low", roles=[Role.reviewer], clearance=Level.CONFIDENTIAL)
    create_user(engine, username="appr", roles=[Role.approver], clearance=Level.TOP_SECRET)
    create_user(engine, username="high", roles=[Role.reviewer], clearance=Level.SECRET)

    def reassign(username: str) -> None:
        version = portion_row(engine, ref_id, 0).version
        with unit_of_work(engine) as session:
            review.reassign(
                session,
                ref_id=ref_id,
                seq=0,
                username=username,
                actor=SUE,
                expected_version=version,
            )

    for username, message in [
        ("ghost", "ghost is not an active user"),
        ("appr", "appr is not a reviewer"),
        ("low", "low is cleared to CONFIDENTIAL, below this SECRET portion"),
    ]:
        with pytest.raises(Unprocessable) as raised:
            reassign(username)
        assert raised.value.detail == message
    _claim(engine, ref_id, 0)
    reassign("high")
    row = portion_row(engine, ref_id, 0)
    assert (row.status, row.assignee) == ("assigned", "high")
    event = audit_events(engine, ref_id=ref_id)[-1]
    assert (event.action, event.detail["assignee"]) == (
        "portion.reassigned",
        {"old": "rita", "new": "high"},
    )


# --- finalize -------------------------------------------------------------------------


def test_finalize_needs_every_portion_approved(engine: Engine) -> None:
    ref_id = make_cable(engine, assignee="rita")
    _through(engine, ref_id, {0: RELEASE})
    with pytest.raises(Conflict) as raised, unit_of_work(engine) as session:
        finalize.finalize(session, ref_id=ref_id, actor=SUE, today=context().clock.today())
    assert raised.value.detail == (
        "2 of 3 portions are not approved yet (2 assigned); "
        "a cable is finalized when every portion is approved"
    )
    assert "cable.finalized" not in audit_actions(engine)


def test_finalize_stores_the_release_once(engine: Engine) -> None:
    ref_id = make_cable(engine, assignee="rita")
    span = DecisionInput(action="redact", spans=(SpanInput(7, 12, ("(b)(6)",)),))
    _through(
        engine,
        ref_id,
        {0: RELEASE, 1: span, 2: DecisionInput(action="withhold", codes=("1.4(d)",))},
    )
    with unit_of_work(engine) as session:
        release = finalize.finalize(
            session, ref_id=ref_id, actor=SUE, today=context().clock.today()
        )
    assert release.status == "released"
    assert cable_row(engine, ref_id).status == "released"
    redacted = DEFAULT_PORTIONS[1].text[7:12]
    assert redacted not in release.text
    assert "[REDACTED (b)(6)]" in release.text
    assert "¶2. [REDACTED 1.4(d)]" in release.text
    assert release.pdf.startswith(b"%PDF")
    event = audit_events(engine, ref_id=ref_id)[-1]
    assert (event.action, event.detail["status"], event.detail["approvers"]) == (
        "cable.finalized",
        {"old": "ready", "new": "released"},
        ["alan"],
    )
    with pytest.raises(Conflict, match="already finalized"), unit_of_work(engine) as session:
        finalize.finalize(session, ref_id=ref_id, actor=SUE, today=context().clock.today())


def test_finalize_withholds_when_nothing_is_releasable(engine: Engine) -> None:
    ref_id = make_cable(engine, assignee="rita", portions=DEFAULT_PORTIONS[:2])
    withhold = DecisionInput(action="withhold", codes=("1.4(b)",))
    _through(engine, ref_id, {0: withhold, 1: withhold})
    with unit_of_work(engine) as session:
        release = finalize.finalize(
            session, ref_id=ref_id, actor=SUE, today=context().clock.today()
        )
    assert release.status == "withheld"
    assert cable_row(engine, ref_id).status == "withheld"


def test_finalize_needs_clearance_for_every_portion(engine: Engine) -> None:
    ref_id = make_cable(engine, assignee="rita", portions=(P("(S) x\n", "SECRET", "S"),))
    _through(engine, ref_id, {0: RELEASE})
    low = principal("sue", Role.supervisor, clearance=Level.CONFIDENTIAL)
    with pytest.raises(Forbidden), unit_of_work(engine) as session:
        finalize.finalize(session, ref_id=ref_id, actor=low, today=context().clock.today())


@pytest.mark.parametrize("table", ["decision", "approval", "release"])
def test_history_rows_cannot_be_changed_or_deleted(engine: Engine, table: str) -> None:
    ref_id = make_cable(engine, assignee="rita", portions=DEFAULT_PORTIONS[:1])
    _through(engine, ref_id, {0: RELEASE})
    with unit_of_work(engine) as session:
        finalize.finalize(session, ref_id=ref_id, actor=SUE, today=context().clock.today())
    for statement in (f"UPDATE {table} SET id = id", f"DELETE FROM {table}"):
        with pytest.raises(DBAPIError, match="append-only"), Session(engine) as session:
            session.execute(text(statement))
    with Session(engine) as session:
        assert session.exec(select(Release)).one().status == "released"
