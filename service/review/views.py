"""Review responses, built through the clearance filter: a portion's text (and the notes
written about it, which may quote it) is null for a caller not cleared for its level."""

from __future__ import annotations

from typing import Any

from service.auth.clearance import may_read
from service.auth.principal import Principal
from service.cables.models import Cable, Portion
from service.cables.views import portion_fields
from service.review.queries import HistoryEntry, QueueItem
from service.review.schemas import (
    DecisionOut,
    DecisionResultOut,
    PortionDetailOut,
    QueueItemOut,
    RedactionOut,
    ReviewOut,
)


def _decision(entry: HistoryEntry, *, readable: bool) -> DecisionOut:
    decision, review = entry.decision, entry.review
    assert decision.id is not None
    return DecisionOut(
        id=decision.id,
        action=decision.action,
        redactions=[
            RedactionOut(start=span["start"], end=span["end"], exemption=list(span["codes"]))
            for span in decision.spans
        ],
        exemptions=list(decision.codes),
        refer_to=decision.refer_to,
        answer=decision.answer,
        note=decision.note if readable else None,
        decided_by=decision.decided_by,
        decided_at=decision.decided_at,
        portion_version=decision.portion_version,
        text_sha256=decision.text_sha256,
        review=None
        if review is None
        else ReviewOut(
            outcome=review.outcome,
            reviewer=review.reviewer,
            note=review.note if readable else None,
            reviewed_at=review.reviewed_at,
        ),
    )


def _detail_fields(
    principal: Principal, cable: Cable, portion: Portion, history: list[HistoryEntry]
) -> dict[str, Any]:
    readable = may_read(principal, portion.level)
    return {
        **portion_fields(principal, portion),
        "ref_id": cable.ref_id,
        "decisions": [_decision(entry, readable=readable) for entry in history],
    }


def portion_detail(
    principal: Principal, cable: Cable, portion: Portion, history: list[HistoryEntry]
) -> PortionDetailOut:
    """The portion as `principal` may see it, with its decision history."""
    return PortionDetailOut(**_detail_fields(principal, cable, portion, history))


def decision_result(
    principal: Principal,
    cable: Cable,
    portion: Portion,
    history: list[HistoryEntry],
    auto_approved: bool,
) -> DecisionResultOut:
    """`portion_detail` of the decided portion, and whether sampling approved it at once."""
    fields = _detail_fields(principal, cable, portion, history)
    return DecisionResultOut(**fields, auto_approved=auto_approved)


def queue_item(principal: Principal, item: QueueItem) -> QueueItemOut:
    cable, portion = item.cable, item.portion
    return QueueItemOut(
        kind=item.kind,
        ref_id=cable.ref_id,
        seq=portion.seq,
        number=portion.number,
        marking=portion.marking,
        level=portion.level,
        status=portion.status,
        version=portion.version,
        queue=portion.queue,
        assignee=portion.assignee,
        decided_by=item.decided_by,
        declassify_on=cable.declassify_on,
        subject=cable.subject if may_read(principal, cable.classification) else None,
    )
