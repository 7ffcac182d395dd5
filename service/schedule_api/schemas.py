"""Request and response bodies of the schedule endpoints."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from service.pagination import Page


class DueItemPublic(BaseModel):
    """One scheduled cable. `subject` and `declassify_basis` are null when the caller's
    clearance does not cover the cable's classification (they come from its header)."""

    ref_id: str
    subject: str | None
    origin: str | None
    classification: str
    status: str
    declassify_on: date
    declassify_basis: str | None
    days_remaining: int = Field(description="declassify_on - today; negative when overdue")


class DuePage(Page[DueItemPublic]):
    pass


class SummaryRowPublic(BaseModel):
    key: str | None = Field(description="YYYY, YYYY-MM, the origin or the classification")
    count: int


class CalendarTokenIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ttl_days: int = Field(default=365, ge=1, le=366, description="lifetime of the feed token")


class CalendarTokenOut(BaseModel):
    token: str = Field(description="good for GET /api/v1/schedule/calendar.ics?token= only")
    token_type: str = "calendar-feed"  # noqa: S105 (a type name, not a secret)
    expires_at: datetime
    feed_url: str = Field(description="the URL to subscribe to (it carries the token)")
