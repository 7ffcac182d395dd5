"""Request and response bodies of the integration endpoints (imports, releases, webhooks)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class ImportAccepted(BaseModel):
    """The 202 answer: the same bytes whenever the same upload is replayed."""

    id: str
    href: str


class ImportRejectedRow(BaseModel):
    row: int
    ref_id: str | None
    error: str


class ImportProgress(BaseModel):
    bytes_done: int
    bytes_total: int
    percent: float
    batches: int


class ImportPublic(BaseModel):
    """An import's state. `total` is the rows read so far (all of them once `completed`);
    `imported + duplicates + rejected_count == total` at every moment."""

    id: str
    status: str
    format: str
    source_name: str | None
    total: int
    imported: int
    duplicates: int
    rejected_count: int
    rejected: list[ImportRejectedRow]
    rejected_truncated: bool
    progress: ImportProgress
    error: str | None
    created_by: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class ReleaseLinks(BaseModel):
    """`release` serves text/plain, application/json or application/pdf by `Accept`."""

    cable: str
    release: str


class ReleaseItem(BaseModel):
    """One finalized cable in the feed; `sequence` is its position in release order."""

    sequence: int
    ref_id: str
    status: str
    released_at: datetime
    links: ReleaseLinks


class ReleasePage(BaseModel):
    """`next_cursor` is null on the last page (the list conventions); `resume_cursor` is
    never null: store it and pass it as `cursor` later to get only newer releases."""

    items: list[ReleaseItem]
    next_cursor: str | None = None
    resume_cursor: str


class WebhookIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(max_length=2000, examples=["https://records.example.org/hooks/declass"])
    events: list[str] = Field(min_length=1, max_length=20, examples=[["cable.released"]])
    description: str | None = Field(default=None, max_length=200)


class WebhookPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str | None = Field(default=None, max_length=2000)
    events: list[str] | None = Field(default=None, min_length=1, max_length=20)
    active: bool | None = None


class WebhookPublic(BaseModel):
    id: int
    url: str
    events: list[str]
    description: str | None
    active: bool
    failing_since: datetime | None
    disabled_at: datetime | None
    disabled_reason: str | None
    created_by: str
    created_at: datetime


class WebhookCreated(WebhookPublic):
    """Returned once, on creation: the only response that carries the secret."""

    secret: str


class WebhookPage(BaseModel):
    items: list[WebhookPublic]
    next_cursor: str | None = None


class AttemptPublic(BaseModel):
    number: int
    attempted_at: datetime
    duration_ms: int
    outcome: str
    status_code: int | None
    error: str | None


class DeliveryPublic(BaseModel):
    id: int
    webhook_id: str
    event_type: str
    status: str
    attempts: list[AttemptPublic]
    next_attempt_at: datetime | None
    created_at: datetime
    finished_at: datetime | None


class DeliveryPage(BaseModel):
    items: list[DeliveryPublic]
    next_cursor: str | None = None
