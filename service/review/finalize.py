"""Finalizing a reviewed cable, and its release (stored once) or preview.

Guarantees:
* `finalize` succeeds only when every portion is approved and the supervisor is cleared
  for every portion; the cable becomes `released` (or `withheld` when every portion is
  withheld), and text, JSON and PDF are rendered once and stored in `release` (append-only:
  a release never changes), with one `cable.finalized` audit event, in one transaction;
* the release is built from each portion's current, approved decision: the renderers
  (`service.release`) never emit a redacted character;
* a preview (supervisors, before finalization) shows the current decisions, decided or
  approved; portions without one are shown withheld under `UNDECIDED`, and portions above
  the viewer's clearance are withheld for clearance (no text, codes or offsets).
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from datetime import date

from sqlmodel import Session, col, select

from service.audit.models import AuditAction
from service.audit.service import record
from service.auth.clearance import may_read
from service.auth.principal import Principal
from service.cables.models import Cable, Portion
from service.errors import Conflict, Forbidden, NotFound
from service.integrations.webhooks.outbox import cable_finalized
from service.orm import utcnow
from service.release import (
    PortionAction,
    ReleaseDocument,
    ReleasePortion,
    ReleaseSpan,
    render_json,
    render_pdf,
    render_text,
)
from service.review import states
from service.review.models import ApprovalOutcome, DecisionAction, Release
from service.review.queries import HistoryEntry, history
from service.review.states import PortionState

UNDECIDED = "UNDECIDED"
_FINAL_ACTIONS = frozenset({DecisionAction.release, DecisionAction.redact, DecisionAction.withhold})


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def cable_by_ref(session: Session, ref_id: str, *, lock: bool = False) -> Cable:
    """The cable `ref_id` (locked for the transaction with `lock`), or NotFound."""
    statement = select(Cable).where(col(Cable.ref_id) == ref_id)
    if lock:
        statement = statement.with_for_update()
    cable = session.exec(statement.execution_options(populate_existing=True)).first()
    if cable is None:
        raise NotFound(f"No cable {ref_id}")
    return cable


def _portions(session: Session, cable: Cable) -> list[Portion]:
    statement = select(Portion).where(col(Portion.cable_id) == cable.id).order_by(col(Portion.seq))
    return list(session.exec(statement.execution_options(populate_existing=True)))


def _final_entry(entries: list[HistoryEntry]) -> HistoryEntry | None:
    """The current decision when it is a final one (release, redact or withhold)."""
    if entries and entries[-1].decision.action in _FINAL_ACTIONS:
        return entries[-1]
    return None


def _release_portion(
    portion: Portion, entry: HistoryEntry | None, *, visible: bool
) -> ReleasePortion:
    if not visible:
        return ReleasePortion(portion.seq, portion.number, None, PortionAction.withhold)
    if entry is None:
        return ReleasePortion(
            portion.seq, portion.number, portion.text, PortionAction.withhold, codes=(UNDECIDED,)
        )
    decision = entry.decision
    spans = tuple(
        ReleaseSpan(int(span["start"]), int(span["end"]), tuple(span["codes"]))
        for span in decision.spans
    )
    return ReleasePortion(
        seq=portion.seq,
        number=portion.number,
        text=portion.text,
        action=PortionAction(decision.action),
        spans=spans,
        codes=tuple(decision.codes),
    )


def _approvers(entries: dict[int, list[HistoryEntry]]) -> tuple[str, ...]:
    names: dict[str, None] = {}
    for portion_entries in entries.values():
        final = _final_entry(portion_entries)
        if final and final.review and final.review.outcome == ApprovalOutcome.approved:
            names[final.review.reviewer] = None
    return tuple(names)


def build_document(
    session: Session,
    *,
    cable: Cable,
    portions: list[Portion],
    viewer: Principal,
    released_on: date,
    is_preview: bool,
) -> ReleaseDocument:
    """The cable as it would be released from its current decisions, seen by `viewer`."""
    entries = history(session, portions)
    approvers = _approvers(entries) or (() if is_preview else (viewer.name,))
    return ReleaseDocument(
        ref_id=cable.ref_id,
        subject=cable.subject,
        classification=cable.classification,
        origin=cable.origin,
        sent_at=cable.sent_at,
        portions=tuple(
            _release_portion(
                portion,
                _final_entry(entries[portion.id or 0]),
                visible=may_read(viewer, portion.level),
            )
            for portion in portions
        ),
        approvers=approvers,
        released_on=released_on,
        is_preview=is_preview,
    )


def _not_ready(portions: list[Portion]) -> Conflict:
    waiting = Counter(p.status for p in portions if p.status != PortionState.approved)
    states_text = ", ".join(f"{count} {state}" for state, count in sorted(waiting.items()))
    total = sum(waiting.values())
    return Conflict(
        f"{total} of {len(portions)} portions are not approved yet ({states_text}); "
        "a cable is finalized when every portion is approved",
        extra={"not_approved": dict(sorted(waiting.items()))},
    )


def finalize(session: Session, *, ref_id: str, actor: Principal, today: date) -> Release:
    """Release (or withhold) a cable whose every portion is approved, storing its rendered
    text, JSON and PDF once. Raises NotFound, Forbidden (a portion above the supervisor's
    clearance) and Conflict (already finalized, or not every portion approved)."""
    cable = cable_by_ref(session, ref_id, lock=True)
    if cable.status in states.FINAL_CABLE_STATES:
        raise Conflict(f"{ref_id} was already finalized ({cable.status})")
    portions = _portions(session, cable)
    if any(not may_read(actor, portion.level) for portion in portions):
        raise Forbidden("Your clearance does not cover every portion of this cable")
    if not portions or any(p.status != PortionState.approved for p in portions):
        raise _not_ready(portions)
    document = build_document(
        session, cable=cable, portions=portions, viewer=actor, released_on=today, is_preview=False
    )
    outcome = states.final_cable_state(p.action.value for p in document.portions)
    text = render_text(document)
    json_text = json.dumps(render_json(document), ensure_ascii=False, indent=2)
    pdf = render_pdf(document)
    release = Release.model_validate(
        {
            "cable_id": cable.id,
            "status": outcome.value,
            "finalized_by": actor.name,
            "text": text,
            "json_text": json_text,
            "pdf": pdf,
            "text_sha256": sha256_hex(text.encode("utf-8")),
            "json_sha256": sha256_hex(json_text.encode("utf-8")),
            "pdf_sha256": sha256_hex(pdf),
        }
    )
    session.add(release)
    old_status = cable.status
    cable.status = outcome.value
    cable.version += 1
    cable.updated_at = utcnow()
    session.add(cable)
    record(
        session,
        actor=actor,
        action=AuditAction.cable_finalized,
        entity="cable",
        entity_id=cable.ref_id,
        ref_id=cable.ref_id,
        detail={
            "status": {"old": old_status, "new": outcome.value},
            "portions": dict(sorted(Counter(p.action.value for p in document.portions).items())),
            "approvers": list(document.approvers),
            "released_on": today.isoformat(),
            "text_sha256": release.text_sha256,
            "json_sha256": release.json_sha256,
            "pdf_sha256": release.pdf_sha256,
        },
    )
    cable_finalized(session, cable=cable)
    return release


def stored_release(session: Session, *, cable: Cable) -> Release:
    """The stored release of a finalized cable; NotFound before finalization."""
    release = session.exec(select(Release).where(col(Release.cable_id) == cable.id)).first()
    if release is None:
        raise NotFound(f"{cable.ref_id} has not been released")
    return release


def preview(session: Session, *, cable: Cable, viewer: Principal, today: date) -> ReleaseDocument:
    """What the release would be if finalized now, as `viewer` may see it."""
    return build_document(
        session,
        cable=cable,
        portions=_portions(session, cable),
        viewer=viewer,
        released_on=today,
        is_preview=True,
    )
