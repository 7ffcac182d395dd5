"""The transactional outbox: `enqueue_event` writes an event (and one pending delivery per
active subscription to its type) in the caller's transaction. Nothing is sent here: the
delivery worker (`delivery.py`) sends committed events only, so an event is announced if
and only if the change it describes committed.

Payloads are thin: identifiers, states and links, never portion or cable text (a receiver
fetches what it may read through the API, where clearance applies).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import insert, select
from sqlmodel import Session, col

from service.cables.models import Cable, Portion
from service.integrations.webhooks.models import (
    DeliveryStatus,
    WebhookDelivery,
    WebhookEvent,
    WebhookSubscription,
)
from service.orm import utcnow

EVENT_TYPES = frozenset({"cable.released", "cable.withheld", "portion.decided", "import.finished"})
FORBIDDEN_KEYS = frozenset({"text", "raw_text", "portions", "subject", "spans", "note"})


def _check_thin(value: Any, path: str = "data") -> None:
    if isinstance(value, Mapping):
        for key, item in value.items():
            if key in FORBIDDEN_KEYS:
                raise ValueError(f"webhook payloads are thin: {path}.{key} is not allowed")
            _check_thin(item, f"{path}.{key}")
    elif isinstance(value, list | tuple):
        for item in value:
            _check_thin(item, path)


# Built once: every decision runs it.
_ACTIVE_SUBSCRIPTIONS = select(col(WebhookSubscription.id), col(WebhookSubscription.events)).where(
    col(WebhookSubscription.is_active)
)


def enqueue_event(
    session: Session, *, event_type: str, payload: Mapping[str, Any]
) -> WebhookEvent | None:
    """Write `event_type` with `payload` (its `data`) to the outbox, in the caller's
    transaction, with a pending delivery for each active subscription to that type.

    Returns the event, or None when no active subscription wants it (nothing is written).
    Raises ValueError for an unknown type or a payload carrying text (a programming error).
    """
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown webhook event type {event_type!r}")
    _check_thin(payload)
    subscriptions = session.execute(_ACTIVE_SUBSCRIPTIONS).all()
    targets = [sub_id for sub_id, events in subscriptions if event_type in (events or ())]
    if not targets:
        return None
    now = utcnow()
    event = WebhookEvent.model_validate(
        {
            "msg_id": "msg_" + uuid.uuid4().hex,
            "event_type": event_type,
            "payload": {
                "type": event_type,
                "timestamp": now.isoformat().replace("+00:00", "Z"),
                "data": dict(payload),
            },
            "created_at": now,
        }
    )
    session.add(event)
    session.flush()
    session.execute(
        insert(WebhookDelivery),
        [
            {
                "event_id": event.id,
                "subscription_id": sub_id,
                "status": DeliveryStatus.pending.value,
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
                "updated_at": now,
            }
            for sub_id in targets
        ],
    )
    return event


def cable_links(ref_id: str) -> dict[str, str]:
    base = f"/api/v1/cables/{ref_id}"
    return {"cable": base, "release": f"{base}/release"}


def cable_payload(cable: Cable) -> dict[str, Any]:
    """Thin payload of `cable.released` / `cable.withheld`: call after the status changed."""
    return {
        "ref_id": cable.ref_id,
        "status": cable.status,
        "version": cable.version,
        "links": cable_links(cable.ref_id),
    }


def portion_payload(cable: Cable, portion: Portion, *, action: str) -> dict[str, Any]:
    """Thin payload of `portion.decided`: the decision's action, never its spans or note."""
    return {
        "ref_id": cable.ref_id,
        "seq": portion.seq,
        "action": action,
        "status": portion.status,
        "version": portion.version,
        "links": {"portion": f"/api/v1/cables/{cable.ref_id}/portions/{portion.seq}"},
    }


def portion_decided(session: Session, *, cable: Cable, portion: Portion, action: str) -> None:
    """Announce a decision (call right after its `transition()`, in its transaction)."""
    payload = portion_payload(cable, portion, action=str(action))
    enqueue_event(session, event_type="portion.decided", payload=payload)


def cable_finalized(session: Session, *, cable: Cable) -> None:
    """Announce `cable.released` or `cable.withheld` (call after finalize set the status)."""
    enqueue_event(session, event_type=f"cable.{cable.status}", payload=cable_payload(cable))
