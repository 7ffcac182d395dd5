"""Webhook tables.

- `webhook_subscription`: a URL subscribed to event types, with its signing secret
  (Standard Webhooks `whsec_...`; stored so deliveries can be signed, shown to the admin once).
- `webhook_event`: the outbox. A row is written in the same transaction as the change it
  announces (see `outbox.enqueue_event`), so an event exists exactly when its change does.
  `msg_id` is the `webhook-id` header of every delivery of the event, retries included.
- `webhook_delivery`: one per (event, subscription), made with the event; the worker claims
  due deliveries, sends them and reschedules or closes them.
- `webhook_attempt`: one row per HTTP attempt (append-only history).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Boolean, Column, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from service.orm import JSONType, UTCDateTime, utcnow


class DeliveryStatus(StrEnum):
    pending = "pending"  # waiting for its next attempt (or its first)
    succeeded = "succeeded"  # a 2xx was received
    failed = "failed"  # the retry schedule ran out, or the endpoint was disabled


class AttemptOutcome(StrEnum):
    success = "success"
    http_error = "http_error"  # a non-2xx status (3xx included: redirects are not followed)
    timeout = "timeout"
    network_error = "network_error"
    refused_url = "refused_url"  # the URL no longer passes the address check


class WebhookSubscription(SQLModel, table=True):
    __tablename__ = "webhook_subscription"

    id: int | None = Field(default=None, primary_key=True)
    url: str = Field(sa_column=Column(Text, nullable=False))
    events: list[str] = Field(default_factory=list, sa_column=Column(JSONType, nullable=False))
    secret: str = Field(sa_column=Column(String(128), nullable=False))
    # After a rotation the old secret still signs deliveries (a second signature) until
    # `previous_secret_expires_at`, so receivers can switch without dropping a message.
    previous_secret: str | None = Field(default=None, sa_column=Column(String(128)))
    previous_secret_expires_at: datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime())
    )
    description: str | None = Field(default=None, sa_column=Column(String(200)))
    is_active: bool = Field(default=True, sa_column=Column(Boolean, nullable=False))
    failing_since: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    disabled_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    disabled_reason: str | None = Field(default=None, sa_column=Column(Text))
    created_by: str = Field(sa_column=Column(String(128), nullable=False))
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )


class WebhookEvent(SQLModel, table=True):
    __tablename__ = "webhook_event"

    id: int | None = Field(default=None, primary_key=True)
    msg_id: str = Field(sa_column=Column(String(64), nullable=False, unique=True))
    event_type: str = Field(sa_column=Column(String(64), nullable=False))
    payload: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JSONType, nullable=False)
    )
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )


class WebhookDelivery(SQLModel, table=True):
    __tablename__ = "webhook_delivery"
    __table_args__ = (
        UniqueConstraint("event_id", "subscription_id"),
        Index("ix_webhook_delivery_status_next_attempt_at", "status", "next_attempt_at"),
        Index("ix_webhook_delivery_subscription_id_id", "subscription_id", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(sa_column=Column(Integer, ForeignKey("webhook_event.id"), nullable=False))
    subscription_id: int = Field(
        sa_column=Column(Integer, ForeignKey("webhook_subscription.id"), nullable=False)
    )
    status: str = Field(
        default=DeliveryStatus.pending, sa_column=Column(String(16), nullable=False)
    )
    attempts: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    next_attempt_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    lease_until: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    finished_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))


class WebhookAttempt(SQLModel, table=True):
    __tablename__ = "webhook_attempt"
    __table_args__ = (Index("ix_webhook_attempt_delivery_id_number", "delivery_id", "number"),)

    id: int | None = Field(default=None, primary_key=True)
    delivery_id: int = Field(
        sa_column=Column(Integer, ForeignKey("webhook_delivery.id"), nullable=False)
    )
    number: int = Field(sa_column=Column(Integer, nullable=False))
    attempted_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    duration_ms: int = Field(sa_column=Column(Integer, nullable=False))
    outcome: str = Field(sa_column=Column(String(16), nullable=False))
    status_code: int | None = Field(default=None, sa_column=Column(Integer))
    error: str | None = Field(default=None, sa_column=Column(String(500)))
