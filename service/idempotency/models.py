"""The `idempotency_record` table: one row per (principal, Idempotency-Key).

A row is inserted and committed in state `in_progress` before the handler runs (so a second
request with the same key, in any process, sees it and gets a 409), then turned into
`completed` with the stored response in the same transaction as the request's effect, so an
effect never exists without its record nor a completed record without its effect. A claim
whose process died is taken over after `locked_until`; rows are deleted after `expires_at`.

`response_body` can hold a secret (the webhook signing secret of a subscription's creation
response): it is read only by the replay of the same principal with the same key and
fingerprint, never by another route, and never logged.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Column, Index, Integer, LargeBinary, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from service.orm import JSONType, UTCDateTime, utcnow


class RecordState(StrEnum):
    in_progress = "in_progress"
    completed = "completed"


class IdempotencyRecord(SQLModel, table=True):
    __tablename__ = "idempotency_record"
    __table_args__ = (
        UniqueConstraint("principal_sub", "key"),
        Index("ix_idempotency_record_expires_at", "expires_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    principal_sub: str = Field(sa_column=Column(String(128), nullable=False))
    key: str = Field(sa_column=Column(String(255), nullable=False))
    fingerprint: str = Field(sa_column=Column(String(64), nullable=False))
    route: str = Field(sa_column=Column(String(255), nullable=False))
    state: str = Field(
        default=RecordState.in_progress, sa_column=Column(String(16), nullable=False)
    )
    claim_token: str = Field(sa_column=Column(String(64), nullable=False))
    locked_until: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    status_code: int | None = Field(default=None, sa_column=Column(Integer))
    response_headers: dict[str, Any] | None = Field(default=None, sa_column=Column(JSONType))
    response_body: bytes | None = Field(default=None, sa_column=Column(LargeBinary))
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    completed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    expires_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
