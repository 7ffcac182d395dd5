"""Re-computation: an extension or exemption decision moves a cable's `declassify_on`.

`reschedule_cable` is the one function that changes a stored schedule after ingest; the
review workflow calls it when a recorded decision extends the date or exempts the cable
(e.g. a `25X1` exemption with a new date). It never commits: the caller's transaction does,
with the audit event written in the same transaction.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col

from service.audit.models import AuditAction
from service.audit.service import record
from service.auth.principal import Principal
from service.cables.models import Cable, CableStatus
from service.errors import Conflict, PreconditionFailed, Unprocessable
from service.orm import utcnow

MAX_BASIS_CHARS = 500
MAX_REASON_CHARS = 500
# The engine quotes DECL free text (an event, an unreadable instruction) in single quotes;
# that text belongs to the header portion, so it is withheld from audit details.
_QUOTED = re.compile(r"'[^']*'")


def _audit_safe_basis(basis: str | None) -> str | None:
    return None if basis is None else _QUOTED.sub("'[withheld]'", basis)


def _check(cable: Cable, *, declassify_on: date, basis: str, reason: str) -> None:
    problems: list[dict[str, Any]] = []
    if not basis.strip() or len(basis) > MAX_BASIS_CHARS:
        problems.append({"loc": ["basis"], "msg": f"1 to {MAX_BASIS_CHARS} characters"})
    if not reason.strip() or len(reason) > MAX_REASON_CHARS:
        problems.append({"loc": ["reason"], "msg": f"1 to {MAX_REASON_CHARS} characters"})
    if cable.cable_date is not None and declassify_on < cable.cable_date:
        problems.append(
            {"loc": ["declassify_on"], "msg": f"before the cable's date {cable.cable_date}"}
        )
    if problems:
        raise Unprocessable(
            "The new schedule is not acceptable: "
            + "; ".join(f"{p['loc'][0]}: {p['msg']}" for p in problems),
            errors=problems,
        )


def reschedule_cable(
    session: Session,
    *,
    cable: Cable,
    declassify_on: date,
    basis: str,
    actor: Principal,
    reason: str,
) -> Cable:
    """Record an extension or exemption decision: set `cable.declassify_on` and
    `cable.declassify_basis`, bump `version` and `updated_at`, and append one
    `cable.rescheduled` audit event whose detail holds the old and new date and basis and
    the reason. Returns the (updated) cable.

    `basis` names the decision and its authority (e.g. ``"25X1 exemption, decision 41"``)
    and `reason` says why; both must be unclassified (they are readable in the audit log
    whatever the reader's clearance). DECL text quoted in the old, engine-made basis is
    replaced by ``'[withheld]'`` in the audit detail.

    Nothing is written (and no event recorded) when the date and basis are unchanged.
    Raises Unprocessable (422) for an empty or over-long basis or reason, or a date before
    the cable's own; Conflict (409) for a released cable; PreconditionFailed (412) when the
    cable's row changed since `cable` was loaded (compare-and-set on `version`).
    """
    _check(cable, declassify_on=declassify_on, basis=basis, reason=reason)
    if cable.status == CableStatus.released:
        raise Conflict(f"{cable.ref_id} is released: its schedule can no longer change")
    if cable.declassify_on == declassify_on and cable.declassify_basis == basis:
        return cable
    old_on, old_basis = cable.declassify_on, cable.declassify_basis
    now = utcnow()
    result = session.execute(
        update(Cable)
        .where(col(Cable.id) == cable.id, col(Cable.version) == cable.version)
        .values(
            declassify_on=declassify_on,
            declassify_basis=basis,
            version=cable.version + 1,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise PreconditionFailed(f"{cable.ref_id} changed since it was read; reload and retry")
    session.refresh(cable)
    record(
        session,
        actor=actor,
        action=AuditAction.cable_rescheduled,
        entity="cable",
        entity_id=cable.ref_id,
        ref_id=cable.ref_id,
        detail={
            "declassify_on": {
                "old": old_on.isoformat() if old_on else None,
                "new": declassify_on.isoformat(),
            },
            "declassify_basis": {"old": _audit_safe_basis(old_basis), "new": basis},
            "reason": reason,
        },
    )
    return cable
