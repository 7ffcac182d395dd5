"""HTTP routes for webhook subscriptions and their deliveries (admins only)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from service.auth.deps import AdminDep
from service.deps import IdPath, PageCursor, PageLimit, SessionDep, SettingsDep
from service.idempotency.http import IdempotencyDep, with_idempotency_responses
from service.integrations.schemas import (
    AttemptPublic,
    DeliveryPage,
    DeliveryPublic,
    WebhookCreated,
    WebhookIn,
    WebhookPage,
    WebhookPatch,
    WebhookPublic,
)
from service.integrations.webhooks import service
from service.integrations.webhooks.models import WebhookSubscription
from service.integrations.webhooks.schemas import WebhookSecretRotated
from service.integrations.webhooks.url_check import Resolver, system_resolver
from service.pagination import next_link
from service.routes import CommittingRoute

router = APIRouter(prefix="/api/v1/webhooks", tags=["webhooks"], route_class=CommittingRoute)


def _resolver(request: Request) -> Resolver:
    resolver: Resolver = getattr(request.app.state, "webhook_resolver", system_resolver)
    return resolver


def _public(sub: WebhookSubscription) -> WebhookPublic:
    assert sub.id is not None
    return WebhookPublic(
        id=sub.id,
        url=sub.url,
        events=list(sub.events),
        description=sub.description,
        active=sub.is_active,
        failing_since=sub.failing_since,
        disabled_at=sub.disabled_at,
        disabled_reason=sub.disabled_reason,
        created_by=sub.created_by,
        created_at=sub.created_at,
    )


@router.post(
    "",
    status_code=201,
    response_model=WebhookCreated,
    responses=with_idempotency_responses(
        {422: {"description": "A refused URL or an unknown event type"}}
    ),
)
def create_webhook(
    idempotency: IdempotencyDep,  # first: the key is claimed before the session opens
    body: WebhookIn,
    session: SessionDep,
    principal: AdminDep,
    settings: SettingsDep,
    request: Request,
    response: Response,
) -> WebhookCreated | Response:
    """Subscribe a URL to events. The response carries the signing secret (Standard
    Webhooks `whsec_...`) this once only. URLs must be http(s) and resolve to public
    addresses, unless `DECLASS_WEBHOOK_ALLOWED_HOSTS` names them (422 otherwise).
    With an `Idempotency-Key`, a retry by the same caller within the key's lifetime
    (`DECLASS_IDEMPOTENCY_TTL_SECONDS`) replays this response, secret included, and
    creates nothing."""

    def produce() -> WebhookCreated:
        sub, secret = service.create_subscription(
            session,
            actor=principal,
            url=body.url,
            events=body.events,
            description=body.description,
            allowed_hosts=settings.webhook_allowed_hosts,
            resolve=_resolver(request),
        )
        response.headers["Location"] = f"/api/v1/webhooks/{sub.id}"
        return WebhookCreated(**_public(sub).model_dump(), secret=secret)

    return idempotency.respond(session, produce, response, status_code=201)


@router.post(
    "/{webhook_id}/secret",
    response_model=WebhookSecretRotated,
    responses=with_idempotency_responses({404: {"description": "No such webhook"}}),
)
def rotate_webhook_secret(
    idempotency: IdempotencyDep,  # first: the key is claimed before the session opens
    webhook_id: IdPath,
    session: SessionDep,
    principal: AdminDep,
    settings: SettingsDep,
    response: Response,
) -> WebhookSecretRotated | Response:
    """Replace the signing secret; the new one is in this response only. For
    `DECLASS_WEBHOOK_SECRET_GRACE_SECONDS` (default a day) every delivery carries two
    signatures in `webhook-signature`, one per secret, so the receiver can switch to the
    new secret at any moment in that period. Audited."""

    def produce() -> WebhookSecretRotated:
        sub, secret = service.rotate_secret(
            session,
            actor=principal,
            subscription_id=webhook_id,
            grace_seconds=settings.webhook_secret_grace_seconds,
        )
        assert sub.id is not None
        return WebhookSecretRotated(
            id=sub.id, secret=secret, previous_secret_valid_until=sub.previous_secret_expires_at
        )

    return idempotency.respond(session, produce, response)


@router.get("", response_model=WebhookPage)
def list_webhooks(
    session: SessionDep,
    _principal: AdminDep,
    request: Request,
    response: Response,
    limit: PageLimit = 50,
    cursor: PageCursor = None,
) -> WebhookPage:
    """Every subscription (without secrets), oldest first."""
    rows, next_cursor = service.list_subscriptions(session, limit=limit, cursor=cursor)
    response.headers.update(next_link(request.url, next_cursor))
    return WebhookPage(items=[_public(s) for s in rows], next_cursor=next_cursor)


@router.get("/{webhook_id}", response_model=WebhookPublic)
def read_webhook(webhook_id: IdPath, session: SessionDep, _principal: AdminDep) -> WebhookPublic:
    """One subscription (without its secret)."""
    return _public(service.get_subscription(session, webhook_id))


@router.patch("/{webhook_id}", response_model=WebhookPublic)
def update_webhook(
    webhook_id: IdPath,
    body: WebhookPatch,
    session: SessionDep,
    principal: AdminDep,
    settings: SettingsDep,
    request: Request,
) -> WebhookPublic:
    """Change the URL or events, or set `active` (re-activating a disabled subscription
    clears its failure record; deactivating fails its pending deliveries)."""
    sub = service.update_subscription(
        session,
        actor=principal,
        subscription_id=webhook_id,
        url=body.url,
        events=body.events,
        active=body.active,
        allowed_hosts=settings.webhook_allowed_hosts,
        resolve=_resolver(request),
    )
    return _public(sub)


@router.get("/{webhook_id}/deliveries", response_model=DeliveryPage)
def list_deliveries(
    webhook_id: IdPath,
    session: SessionDep,
    _principal: AdminDep,
    request: Request,
    response: Response,
    limit: PageLimit = 50,
    cursor: PageCursor = None,
) -> DeliveryPage:
    """Deliveries to this subscription, oldest first, each with every attempt made."""
    rows, next_cursor = service.list_deliveries(
        session, subscription_id=webhook_id, limit=limit, cursor=cursor
    )
    response.headers.update(next_link(request.url, next_cursor))
    items = [
        DeliveryPublic(
            id=r.delivery.id or 0,
            webhook_id=r.event.msg_id,
            event_type=r.event.event_type,
            status=r.delivery.status,
            attempts=[
                AttemptPublic(
                    number=a.number,
                    attempted_at=a.attempted_at,
                    duration_ms=a.duration_ms,
                    outcome=a.outcome,
                    status_code=a.status_code,
                    error=a.error,
                )
                for a in r.attempts
            ],
            next_attempt_at=r.delivery.next_attempt_at if r.delivery.status == "pending" else None,
            created_at=r.delivery.created_at,
            finished_at=r.delivery.finished_at,
        )
        for r in rows
    ]
    return DeliveryPage(items=items, next_cursor=next_cursor)
