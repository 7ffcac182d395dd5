"""The audit_event table: append-only (database triggers reject UPDATE, DELETE and, on
PostgreSQL, TRUNCATE) and hash-chained (`hash` = SHA-256 over the canonical event and
`prev_hash`; `prev_hash` is unique, so the chain cannot fork)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Column, Index, Integer, String
from sqlmodel import Field, SQLModel

from service.orm import JSONType, UTCDateTime

GENESIS_HASH = "0" * 64


class AuditAction(StrEnum):
    cable_ingested = "cable.ingested"
    cable_finalized = "cable.finalized"
    cable_rescheduled = "cable.rescheduled"
    portion_routed = "portion.routed"
    portion_claimed = "portion.claimed"
    portion_decided = "portion.decided"
    portion_approved = "portion.approved"
    portion_returned = "portion.returned"
    portion_referred = "portion.referred"
    portion_referral_answered = "portion.referral_answered"
    portion_reassigned = "portion.reassigned"
    rule_changed = "rule.changed"
    user_changed = "user.changed"
    service_account_changed = "service_account.changed"
    webhook_changed = "webhook.changed"
    import_created = "import.created"
    import_finished = "import.finished"
    auth_failed = "auth.failed"


class AuditEvent(SQLModel, table=True):
    __tablename__ = "audit_event"
    __table_args__ = (
        Index("ix_audit_event_ref_id_seq", "ref_id", "seq"),
        Index("ix_audit_event_actor_seq", "actor", "seq"),
        Index("ix_audit_event_action_seq", "action", "seq"),
    )

    seq: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    actor: str = Field(sa_column=Column(String(128), nullable=False))
    actor_sub: str | None = Field(default=None, sa_column=Column(String(128)))
    action: str = Field(sa_column=Column(String(48), nullable=False))
    entity: str = Field(sa_column=Column(String(32), nullable=False))
    entity_id: str = Field(sa_column=Column(String(128), nullable=False))
    ref_id: str | None = Field(default=None, sa_column=Column(String(64)))
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONType, nullable=False))
    request_id: str | None = Field(default=None, sa_column=Column(String(64)))
    prev_hash: str = Field(sa_column=Column(String(64), nullable=False, unique=True))
    hash: str = Field(sa_column=Column(String(64), nullable=False, unique=True))
