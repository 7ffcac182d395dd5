"""Webhook subscriptions and their delivery history. Services never commit.

A subscription's secret is generated here and returned once, by `create_subscription`
or, for a new one, by `rotate_secret`; no other function returns it. URLs are checked by
`url_check.check_url` (422 when refused).
Changes are audited (`webhook.changed`) with the URL's scheme and host only: a URL's path
or query may carry a receiver's token.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

from sqlalchemy import select, update
from sqlmodel import Session, col

from service.audit.models import AuditAction
from service.audit.service import record
from service.auth.principal import Principal
from service.errors import NotFound, Unprocessable
from service.integrations.webhooks.models import (
    DeliveryStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEvent,
    WebhookSubscription,
)
from service.integrations.webhooks.outbox import EVENT_TYPES
from service.integrations.webhooks.signing import new_secret
from service.integrations.webhooks.url_check import Resolver, UrlRefused, check_url, system_resolver
from service.orm import utcnow
from service.pagination import decode_cursor, encode_cursor

MAX_URL = 2000


@dataclass(frozen=True, slots=True)
class DeliveryRecord:
    delivery: WebhookDelivery
    event: WebhookEvent
    attempts: list[WebhookAttempt]


def url_origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rsplit('@', 1)[-1]}"


def _checked_url(url: str, allowed: Sequence[str], resolve: Resolver) -> str:
    url = url.strip()
    if len(url) > MAX_URL:
        raise Unprocessable(f"The URL is longer than {MAX_URL} characters")
    try:
        check_url(url, allowed=allowed, resolve=resolve)
    except UrlRefused as refusal:
        raise Unprocessable(
            f"The URL is refused: {refusal}", errors=[{"loc": ["body", "url"], "msg": str(refusal)}]
        ) from None
    return url


def _checked_events(events: Sequence[str]) -> list[str]:
    unknown = sorted(set(events) - EVENT_TYPES)
    if unknown or not events:
        known = ", ".join(sorted(EVENT_TYPES))
        raise Unprocessable(
            f"Subscribe to one or more of: {known}",
            errors=[{"loc": ["body", "events"], "msg": f"unknown: {', '.join(unknown)}"}],
        )
    return sorted(set(events))


def _audit(session: Session, actor: Principal, sub: WebhookSubscription, change: str) -> None:
    record(
        session,
        actor=actor,
        action=AuditAction.webhook_changed,
        entity="webhook",
        entity_id=str(sub.id),
        detail={
            "change": change,
            "url": url_origin(sub.url),
            "events": list(sub.events),
            "active": sub.is_active,
        },
    )


def create_subscription(
    session: Session,
    *,
    actor: Principal,
    url: str,
    events: Sequence[str],
    description: str | None,
    allowed_hosts: Sequence[str],
    resolve: Resolver = system_resolver,
) -> tuple[WebhookSubscription, str]:
    """Subscribe `url` to `events`; returns the subscription and its new secret (the only
    time the secret is returned). Raises Unprocessable for a refused URL or unknown event."""
    subscription = WebhookSubscription.model_validate(
        {
            "url": _checked_url(url, allowed_hosts, resolve),
            "events": _checked_events(events),
            "secret": new_secret(),
            "description": description,
            "created_by": actor.name,
        }
    )
    session.add(subscription)
    session.flush()
    _audit(session, actor, subscription, "created")
    return subscription, subscription.secret


def get_subscription(session: Session, subscription_id: int) -> WebhookSubscription:
    subscription = session.get(WebhookSubscription, subscription_id)
    if subscription is None:
        raise NotFound(f"No webhook {subscription_id}")
    return subscription


def update_subscription(
    session: Session,
    *,
    actor: Principal,
    subscription_id: int,
    url: str | None,
    events: Sequence[str] | None,
    active: bool | None,
    allowed_hosts: Sequence[str],
    resolve: Resolver = system_resolver,
) -> WebhookSubscription:
    """Change the URL, events or active flag. Re-activating clears the failure record;
    deactivating closes the pending deliveries as failed."""
    subscription = session.get(WebhookSubscription, subscription_id, with_for_update=True)
    if subscription is None:
        raise NotFound(f"No webhook {subscription_id}")
    now = utcnow()
    if url is not None:
        subscription.url = _checked_url(url, allowed_hosts, resolve)
    if events is not None:
        subscription.events = _checked_events(events)
    if active is True and not subscription.is_active:
        subscription.is_active = True
        subscription.failing_since = None
        subscription.disabled_at = None
        subscription.disabled_reason = None
    elif active is False and subscription.is_active:
        disable(session, subscription=subscription, reason=f"deactivated by {actor.name}")
    subscription.updated_at = now
    session.add(subscription)
    session.flush()
    _audit(session, actor, subscription, "updated")
    return subscription


def rotate_secret(
    session: Session,
    *,
    actor: Principal,
    subscription_id: int,
    grace_seconds: int,
) -> tuple[WebhookSubscription, str]:
    """Give the subscription a new signing secret; returns it (this once) with the row.

    The replaced secret keeps signing deliveries beside the new one (two `v1,` signatures)
    for `grace_seconds`, so the receiver can switch without refusing a message; 0 drops it
    at once. Only the last replaced secret is kept: rotating again inside the grace period
    ends the older one's. Audited as `webhook.changed` (`secret_rotated`), without secrets."""
    subscription = session.get(WebhookSubscription, subscription_id, with_for_update=True)
    if subscription is None:
        raise NotFound(f"No webhook {subscription_id}")
    now = utcnow()
    if grace_seconds > 0:
        subscription.previous_secret = subscription.secret
        subscription.previous_secret_expires_at = now + timedelta(seconds=grace_seconds)
    else:
        subscription.previous_secret = None
        subscription.previous_secret_expires_at = None
    subscription.secret = new_secret()
    subscription.updated_at = now
    session.add(subscription)
    session.flush()
    record(
        session,
        actor=actor,
        action=AuditAction.webhook_changed,
        entity="webhook",
        entity_id=str(subscription.id),
        detail={
            "change": "secret_rotated",
            "url": url_origin(subscription.url),
            "previous_secret_valid_until": (
                None
                if subscription.previous_secret_expires_at is None
                else subscription.previous_secret_expires_at.isoformat()
            ),
        },
    )
    return subscription, subscription.secret


def disable(session: Session, *, subscription: WebhookSubscription, reason: str) -> None:
    """Deactivate a subscription and fail its pending deliveries (the caller audits)."""
    now = utcnow()
    subscription.is_active = False
    subscription.disabled_at = now
    subscription.disabled_reason = reason[:500]
    subscription.updated_at = now
    session.add(subscription)
    session.execute(
        update(WebhookDelivery)
        .where(
            col(WebhookDelivery.subscription_id) == subscription.id,
            col(WebhookDelivery.status) == DeliveryStatus.pending.value,
        )
        .values(
            status=DeliveryStatus.failed.value, finished_at=now, updated_at=now, lease_until=None
        )
    )


def list_subscriptions(
    session: Session, *, limit: int, cursor: str | None
) -> tuple[list[WebhookSubscription], str | None]:
    statement = select(WebhookSubscription).order_by(col(WebhookSubscription.id))
    key = decode_cursor(cursor, fields=("id",))
    if key is not None:
        statement = statement.where(col(WebhookSubscription.id) > int(key["id"]))
    rows = list(session.execute(statement.limit(limit + 1)).scalars())
    next_cursor = encode_cursor({"id": rows[limit - 1].id}) if len(rows) > limit else None
    return rows[:limit], next_cursor


def list_deliveries(
    session: Session, *, subscription_id: int, limit: int, cursor: str | None
) -> tuple[list[DeliveryRecord], str | None]:
    """A subscription's deliveries, oldest first, each with every attempt made."""
    get_subscription(session, subscription_id)
    statement = (
        select(WebhookDelivery, WebhookEvent)
        .join(WebhookEvent, col(WebhookEvent.id) == col(WebhookDelivery.event_id))
        .where(col(WebhookDelivery.subscription_id) == subscription_id)
        .order_by(col(WebhookDelivery.id))
    )
    key = decode_cursor(cursor, fields=("id",))
    if key is not None:
        statement = statement.where(col(WebhookDelivery.id) > int(key["id"]))
    rows = list(session.execute(statement.limit(limit + 1)).all())
    next_cursor = encode_cursor({"id": rows[limit - 1][0].id}) if len(rows) > limit else None
    rows = rows[:limit]
    attempts: dict[int, list[WebhookAttempt]] = {}
    ids = [delivery.id for delivery, _event in rows]
    if ids:
        found = session.execute(
            select(WebhookAttempt)
            .where(col(WebhookAttempt.delivery_id).in_(ids))
            .order_by(col(WebhookAttempt.delivery_id), col(WebhookAttempt.number))
        ).scalars()
        for attempt in found:
            attempts.setdefault(attempt.delivery_id, []).append(attempt)
    records = [DeliveryRecord(d, e, attempts.get(d.id or 0, [])) for d, e in rows]
    return records, next_cursor
