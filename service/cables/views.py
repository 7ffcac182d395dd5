"""Cable and portion responses, built through the clearance filter (`service.auth.clearance`).

When the header portion (seq 0) is above the caller's clearance, the fields taken from it
(subject, classifier, references, signer, the DECL free text) are withheld too, leaving the
unclassified metadata: reference id, origin, dates, markings, tags, schedule and status.
"""

from __future__ import annotations

from typing import Any

from service.auth.clearance import may_read, visible_text
from service.auth.principal import Principal
from service.cables.models import Cable, Portion
from service.cables.schemas import CablePublic, CableSummary, PortionPublic


def portion_fields(principal: Principal, portion: Portion) -> dict[str, Any]:
    """The fields of `PortionPublic` as `principal` may see them (for models extending it)."""
    text = visible_text(principal, level=portion.level, text=portion.text)
    return {
        "seq": portion.seq,
        "number": portion.number,
        "marking": portion.marking,
        "level": portion.level,
        "status": portion.status,
        "assignee": portion.assignee,
        "queue": portion.queue,
        "version": portion.version,
        "text": text,
        "withheld_for_clearance": text is None,
    }


def portion_view(principal: Principal, portion: Portion) -> PortionPublic:
    return PortionPublic(**portion_fields(principal, portion))


def cable_summary(
    principal: Principal, cable: Cable, *, header_level: str | None = None
) -> CableSummary:
    """The cable's fields; `header_level` defaults to the cable's classification."""
    readable = may_read(principal, header_level or cable.classification)
    decl = cable.decl
    if decl is not None and not readable and "text" in decl:
        decl = {key: value for key, value in decl.items() if key != "text"}
    return CableSummary(
        ref_id=cable.ref_id,
        subject=cable.subject if readable else None,
        origin=cable.origin,
        sent_at=cable.sent_at,
        cable_date=cable.cable_date,
        classification=cable.classification,
        caveats=cable.caveats,
        eo=cable.eo,
        decl=decl,
        declassify_on=cable.declassify_on,
        declassify_basis=cable.declassify_basis if readable else None,
        classified_by=cable.classified_by if readable else None,
        reasons=cable.reasons,
        tags=cable.tags,
        references=cable.references if readable else [],
        signer=cable.signer if readable else None,
        warnings=cable.warnings if readable else [],
        status=cable.status,
        version=cable.version,
        header_withheld_for_clearance=not readable,
    )


def cable_view(principal: Principal, cable: Cable, portions: list[Portion]) -> CablePublic:
    header = next((p for p in portions if p.seq == 0), None)
    summary = cable_summary(principal, cable, header_level=header.level if header else None)
    return CablePublic(
        **summary.model_dump(), portions=[portion_view(principal, p) for p in portions]
    )
