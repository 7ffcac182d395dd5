"""The webhook delivery worker: sends committed outbox events, signed, with retries.

One pass (`deliver_due`): claim due deliveries in a short transaction (PostgreSQL
`FOR UPDATE OF webhook_delivery SKIP LOCKED`, plus a lease so no other worker takes them
while they are in flight), send each with the injected `httpx.Client` outside any
transaction, then record the attempt and the delivery's new state in another transaction.
A worker that dies after sending and before recording leaves the lease to expire, and the
delivery is sent again with the same `webhook-id` (at-least-once; receivers deduplicate on
it, as Standard Webhooks says).

Retry schedule (`settings.webhook_retry_schedule`, seconds before retry n): 5 s, 30 s,
2 min, 10 min, 30 min, 1 h, 2 h, 4 h, 8 h, 8 h, each multiplied by a random factor in
[1 - jitter, 1 + jitter] (jitter 0.2), and never sooner than a 429/503 `Retry-After`:
11 attempts over about 24 hours, then the delivery has failed. Any 2xx is a success; any
other status (redirects are not followed), a timeout or a network error is a failure. A
subscription failing without a single success for `webhook_disable_after_seconds` (a day),
or answered 410 Gone, is disabled and its pending deliveries fail.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
import structlog
from sqlalchemy import Engine, or_, select
from sqlmodel import Session, col

from service.audit.models import AuditAction
from service.audit.service import record
from service.auth.principal import system_principal
from service.db import unit_of_work
from service.integrations.webhooks.models import (
    AttemptOutcome,
    DeliveryStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEvent,
    WebhookSubscription,
)
from service.integrations.webhooks.service import disable, url_origin
from service.integrations.webhooks.signing import body_of, signed_headers
from service.integrations.webhooks.url_check import Resolver, UrlRefused, check_url, system_resolver
from service.orm import utcnow
from service.settings import Settings

log = structlog.get_logger(__name__)
WEBHOOK_ACTOR = system_principal("webhooks")
RETRY_AFTER_STATUSES = frozenset({429, 503})


@dataclass(frozen=True, slots=True)
class DeliveryPolicy:
    timeout_seconds: float
    schedule: Sequence[float]
    jitter: float
    disable_after_seconds: float
    lease_seconds: float
    batch_size: int
    allowed_hosts: Sequence[str]

    @classmethod
    def from_settings(cls, settings: Settings) -> DeliveryPolicy:
        return cls(
            timeout_seconds=settings.webhook_timeout_seconds,
            schedule=tuple(settings.webhook_retry_schedule),
            jitter=settings.webhook_retry_jitter,
            disable_after_seconds=settings.webhook_disable_after_seconds,
            lease_seconds=settings.webhook_lease_seconds,
            batch_size=settings.webhook_batch_size,
            allowed_hosts=tuple(settings.webhook_allowed_hosts),
        )

    def retry_delay(self, attempts: int, rand: Callable[[], float] = random.random) -> float | None:
        """Seconds before the next attempt after `attempts` attempts, or None: give up."""
        if attempts > len(self.schedule):
            return None
        base = self.schedule[attempts - 1]
        return base * (1 - self.jitter + 2 * self.jitter * rand())


@dataclass(frozen=True, slots=True)
class Due:
    """A claimed delivery, detached from the session."""

    delivery_id: int
    subscription_id: int
    url: str
    secrets: tuple[str, ...]  # the current secret, then the previous one in its grace period
    msg_id: str
    body: str


@dataclass(frozen=True, slots=True)
class AttemptResult:
    outcome: AttemptOutcome
    at: datetime
    duration_ms: int
    status_code: int | None = None
    error: str | None = None
    retry_after: float | None = None


def signing_secrets(subscription: WebhookSubscription, now: datetime) -> tuple[str, ...]:
    """The secrets that sign a delivery made at `now`: the current one, and the one it
    replaced while that one's grace period lasts."""
    previous, until = subscription.previous_secret, subscription.previous_secret_expires_at
    if previous is not None and until is not None and now < until:
        return (subscription.secret, previous)
    return (subscription.secret,)


def claim_due(session: Session, *, policy: DeliveryPolicy, now: datetime) -> list[Due]:
    """Lease up to `policy.batch_size` due deliveries of active subscriptions."""
    statement = (
        select(WebhookDelivery, WebhookEvent, WebhookSubscription)
        .join(WebhookEvent, col(WebhookEvent.id) == col(WebhookDelivery.event_id))
        .join(
            WebhookSubscription,
            col(WebhookSubscription.id) == col(WebhookDelivery.subscription_id),
        )
        .where(
            col(WebhookDelivery.status) == DeliveryStatus.pending.value,
            col(WebhookDelivery.next_attempt_at) <= now,
            or_(col(WebhookDelivery.lease_until).is_(None), col(WebhookDelivery.lease_until) < now),
            col(WebhookSubscription.is_active),
        )
        .order_by(col(WebhookDelivery.next_attempt_at), col(WebhookDelivery.id))
        .limit(policy.batch_size)
        .with_for_update(skip_locked=True, of=WebhookDelivery)
    )
    claimed: list[Due] = []
    for delivery, event, subscription in session.execute(statement).all():
        delivery.lease_until = now + timedelta(seconds=policy.lease_seconds)
        session.add(delivery)
        assert delivery.id is not None
        assert subscription.id is not None
        claimed.append(
            Due(
                delivery_id=delivery.id,
                subscription_id=subscription.id,
                url=subscription.url,
                secrets=signing_secrets(subscription, now),
                msg_id=event.msg_id,
                body=body_of(event.payload),
            )
        )
    session.flush()
    return claimed


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after", "")
    return float(value) if value.strip().isdigit() else None


def send(
    client: httpx.Client, due: Due, *, policy: DeliveryPolicy, resolve: Resolver = system_resolver
) -> AttemptResult:
    """One signed POST of `due` (no database work here)."""
    at = utcnow()
    started = time.monotonic()

    def elapsed() -> int:
        return int((time.monotonic() - started) * 1000)

    try:
        check_url(due.url, allowed=policy.allowed_hosts, resolve=resolve)
    except UrlRefused as refusal:
        return AttemptResult(AttemptOutcome.refused_url, at, elapsed(), error=str(refusal)[:500])
    headers = signed_headers(secrets=due.secrets, msg_id=due.msg_id, at=at, body=due.body)
    try:
        response = client.post(
            due.url,
            content=due.body.encode("utf-8"),
            headers=headers,
            timeout=policy.timeout_seconds,
            follow_redirects=False,
        )
    except httpx.TimeoutException:
        return AttemptResult(AttemptOutcome.timeout, at, elapsed(), error="timed out")
    except httpx.HTTPError as error:
        message = f"{type(error).__name__}: {error}"[:500]
        return AttemptResult(AttemptOutcome.network_error, at, elapsed(), error=message)
    if 200 <= response.status_code < 300:
        return AttemptResult(AttemptOutcome.success, at, elapsed(), response.status_code)
    retry_after = _retry_after(response) if response.status_code in RETRY_AFTER_STATUSES else None
    return AttemptResult(
        AttemptOutcome.http_error,
        at,
        elapsed(),
        response.status_code,
        error=f"HTTP {response.status_code}",
        retry_after=retry_after,
    )


def record_attempt(
    session: Session, *, due: Due, result: AttemptResult, policy: DeliveryPolicy
) -> WebhookDelivery | None:
    """Store the attempt and move the delivery on: succeeded, rescheduled or failed."""
    delivery = session.get(WebhookDelivery, due.delivery_id, with_for_update=True)
    subscription = session.get(WebhookSubscription, due.subscription_id, with_for_update=True)
    if delivery is None or subscription is None:
        return None
    now = utcnow()
    delivery.attempts += 1
    attempt = WebhookAttempt.model_validate(
        {
            "delivery_id": delivery.id,
            "number": delivery.attempts,
            "attempted_at": result.at,
            "duration_ms": result.duration_ms,
            "outcome": result.outcome.value,
            "status_code": result.status_code,
            "error": result.error,
        }
    )
    session.add(attempt)
    delivery.lease_until = None
    delivery.updated_at = now
    if result.outcome is AttemptOutcome.success:
        delivery.status = DeliveryStatus.succeeded
        delivery.finished_at = now
        subscription.failing_since = None
        session.add(subscription)
    else:
        _after_failure(session, delivery, subscription, result, policy, now)
    session.add(delivery)
    session.flush()
    return delivery


def _after_failure(
    session: Session,
    delivery: WebhookDelivery,
    subscription: WebhookSubscription,
    result: AttemptResult,
    policy: DeliveryPolicy,
    now: datetime,
) -> None:
    if subscription.failing_since is None:
        subscription.failing_since = result.at
        session.add(subscription)
    delay = policy.retry_delay(delivery.attempts)
    if delay is None:
        delivery.status = DeliveryStatus.failed
        delivery.finished_at = now
    else:
        delay = max(delay, min(result.retry_after or 0.0, max(policy.schedule)))
        delivery.next_attempt_at = now + timedelta(seconds=delay)
    failing_for = (now - subscription.failing_since).total_seconds()
    reason = None
    if result.status_code == 410:
        reason = "the endpoint answered 410 Gone"
    elif failing_for >= policy.disable_after_seconds and subscription.is_active:
        reason = f"every delivery failed for {int(failing_for)} seconds"
    if reason is not None and subscription.is_active:
        session.add(delivery)
        session.flush()
        disable(session, subscription=subscription, reason=reason)
        if delivery.status == DeliveryStatus.pending:
            delivery.status = DeliveryStatus.failed
            delivery.finished_at = now
        record(
            session,
            actor=WEBHOOK_ACTOR,
            action=AuditAction.webhook_changed,
            entity="webhook",
            entity_id=str(subscription.id),
            detail={"change": "disabled", "url": url_origin(subscription.url), "reason": reason},
        )


def deliver_due(
    engine: Engine,
    client: httpx.Client,
    *,
    policy: DeliveryPolicy,
    resolve: Resolver = system_resolver,
) -> int:
    """One pass: claim, send and record; returns how many attempts were made. Once an
    attempt disables its subscription (410 Gone, a day of failures), the pass sends nothing
    more to it: `disable` has failed its other deliveries, claimed ones included."""
    with unit_of_work(engine, write=False) as session:
        any_due = select(col(WebhookDelivery.id)).where(
            col(WebhookDelivery.status) == DeliveryStatus.pending.value,
            col(WebhookDelivery.next_attempt_at) <= utcnow(),
        )
        if session.execute(any_due.limit(1)).first() is None:
            return 0
    with unit_of_work(engine) as session:
        claimed = claim_due(session, policy=policy, now=utcnow())
    attempts = 0
    disabled: set[int] = set()
    for due in claimed:
        if due.subscription_id in disabled:
            continue  # disabled by an earlier attempt of this pass: its deliveries failed
        result = send(client, due, policy=policy, resolve=resolve)
        attempts += 1
        with unit_of_work(engine) as session:
            record_attempt(session, due=due, result=result, policy=policy)
            subscription = session.get(WebhookSubscription, due.subscription_id)
            if subscription is None or not subscription.is_active:
                disabled.add(due.subscription_id)
        log.info(
            "webhook_attempt",
            delivery=due.delivery_id,
            outcome=result.outcome.value,
            status=result.status_code,
        )
    return attempts


class DeliveryWorker:
    """A daemon thread running `deliver_due` until `stop()`; it stops between passes."""

    def __init__(
        self,
        engine: Engine,
        client: httpx.Client,
        *,
        policy: DeliveryPolicy,
        poll_seconds: float,
        resolve: Resolver = system_resolver,
    ) -> None:
        self.engine = engine
        self.client = client
        self.policy = policy
        self.poll_seconds = poll_seconds
        self.resolve = resolve
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="webhook-delivery", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                made = deliver_due(
                    self.engine, self.client, policy=self.policy, resolve=self.resolve
                )
            except Exception:
                log.exception("webhook_pass_failed")
                made = 0
            if not made:
                self._stop.wait(self.poll_seconds)
