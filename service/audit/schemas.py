"""API shapes of audit events and of the verification result (what clients receive)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class AuditEventPublic(BaseModel):
    seq: int = Field(description="Position in the chain: 1, 2, 3, ... without gaps")
    at: datetime = Field(description="When the change was committed to the log (UTC)")
    actor: str = Field(description="Username or client id of whoever made the change")
    actor_sub: str | None = Field(description="The token subject of the actor")
    action: str = Field(description="What happened, e.g. cable.ingested")
    entity: str = Field(description="The kind of thing changed, e.g. cable, portion, user")
    entity_id: str
    ref_id: str | None = Field(description="The cable the change concerns, if any")
    detail: dict[str, Any] = Field(
        description="What changed (ids, hashes, counts, old/new values); never portion text"
    )
    detail_withheld: bool = Field(
        default=False,
        description="True when parts of `detail` above the caller's clearance were withheld "
        "(the event's hash then cannot be recomputed from this response)",
    )
    request_id: str | None
    prev_hash: str
    hash: str


class AuditPage(BaseModel):
    items: list[AuditEventPublic]
    next_cursor: str | None = None


class AuditVerification(BaseModel):
    valid: bool
    count: int = Field(description="Number of events in the log")
    head: str = Field(description="Hash of the last event (64 zeros for an empty log)")
    first_bad_seq: int | None = Field(
        default=None, description="Present when the chain is broken: the first bad event"
    )
    reason: str | None = Field(default=None, description="Present when the chain is broken")
