"""API shapes of cables and portions (what clients receive)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class CableIn(BaseModel):
    """A cable posted as JSON: the text in the cablegate layout."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, description="The cable text, as in shared/seeds/")


class PortionPublic(BaseModel):
    seq: int
    number: str | None
    marking: str | None
    level: str
    status: str
    assignee: str | None
    queue: str | None
    version: int
    text: str | None = Field(description="null when the portion is above the caller's clearance")
    withheld_for_clearance: bool = False


class CableSummary(BaseModel):
    """A cable without its portions; header-derived fields are null when withheld."""

    ref_id: str
    subject: str | None
    origin: str | None
    sent_at: datetime | None
    cable_date: date | None
    classification: str
    caveats: list[str]
    eo: str | None
    decl: dict[str, Any] | None
    declassify_on: date | None
    declassify_basis: str | None
    classified_by: str | None
    reasons: list[str]
    tags: list[str]
    references: list[str]
    signer: str | None
    warnings: list[str]
    status: str
    version: int
    header_withheld_for_clearance: bool = False


class CablePublic(CableSummary):
    portions: list[PortionPublic]


class CablePage(BaseModel):
    items: list[CableSummary]
    next_cursor: str | None = None
