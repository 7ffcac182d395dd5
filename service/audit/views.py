"""Audit event responses, built through the clearance filter (`service.auth.clearance`).

Audit details hold metadata, not text (see `service.audit.service`). Should an event ever
need to carry something readable only at a level, the producer wraps it with
`level_tagged(level, value)`, giving `{"_level": "SECRET", "value": ...}`; a caller whose
clearance does not cover that level receives `{"_level": "SECRET", "withheld_for_clearance":
true}` in its place and the event is marked `detail_withheld`. Unknown levels are withheld.
"""

from __future__ import annotations

from typing import Any

from service.audit.models import AuditEvent
from service.audit.schemas import AuditEventPublic
from service.auth.clearance import may_read
from service.auth.principal import Principal

LEVEL_KEY = "_level"


def level_tagged(level: str, value: Any) -> dict[str, Any]:
    """Wrap a detail value that only callers cleared for `level` may receive."""
    return {LEVEL_KEY: str(level), "value": value}


def _filter(principal: Principal, value: Any) -> tuple[Any, bool]:
    if isinstance(value, dict):
        if LEVEL_KEY in value and not may_read(principal, str(value[LEVEL_KEY])):
            return {LEVEL_KEY: value[LEVEL_KEY], "withheld_for_clearance": True}, True
        out: dict[str, Any] = {}
        withheld = False
        for key, item in value.items():
            out[key], hidden = _filter(principal, item)
            withheld = withheld or hidden
        return out, withheld
    if isinstance(value, list):
        items = [_filter(principal, item) for item in value]
        return [item for item, _ in items], any(hidden for _, hidden in items)
    return value, False


def visible_detail(principal: Principal, detail: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """`detail` with level-tagged values above the caller's clearance withheld, and whether
    anything was withheld."""
    filtered, withheld = _filter(principal, detail)
    return filtered, withheld


def event_view(principal: Principal, event: AuditEvent) -> AuditEventPublic:
    detail, withheld = visible_detail(principal, event.detail)
    return AuditEventPublic(
        seq=event.seq,
        at=event.at,
        actor=event.actor,
        actor_sub=event.actor_sub,
        action=event.action,
        entity=event.entity,
        entity_id=event.entity_id,
        ref_id=event.ref_id,
        detail=detail,
        detail_withheld=withheld,
        request_id=event.request_id,
        prev_hash=event.prev_hash,
        hash=event.hash,
    )
