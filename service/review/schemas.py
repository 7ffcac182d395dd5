"""API shapes for review: decision requests, portions with their history, the queue."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from service.cables.schemas import PortionPublic
from service.review.validation import MAX_SPANS

NOTE_MAX = 4000
Code = Annotated[str, StringConstraints(min_length=1, max_length=32)]
Codes = list[Code]


class RedactionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    start: int = Field(description="First character removed (0-based, inclusive)")
    end: int = Field(description="First character kept after the span (exclusive)")
    exemption: Codes = Field(
        default_factory=list,
        max_length=10,
        description='The span\'s codes: "1.4(b)" or ["(b)(1)", "1.4(d)"]; when empty, the '
        "decision's `exemptions` apply",
    )

    @field_validator("exemption", mode="before")
    @classmethod
    def _one_or_many(cls, value: object) -> object:
        return [value] if isinstance(value, str) else value


class DecisionIn(BaseModel):
    """A reviewer's decision on one portion."""

    model_config = ConfigDict(extra="forbid")

    action: Literal["release", "redact", "withhold", "refer"]
    redactions: list[RedactionIn] = Field(default_factory=list, max_length=MAX_SPANS)
    exemptions: Codes = Field(default_factory=list, max_length=20)
    refer_to: str | None = Field(default=None, max_length=200)
    note: str | None = Field(default=None, max_length=NOTE_MAX)


class ReturnIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str = Field(
        min_length=1, max_length=NOTE_MAX, description="What the decider should change"
    )


class ReferralAnswerIn(BaseModel):
    """The other agency's answer to a referral."""

    model_config = ConfigDict(extra="forbid")

    answer: Literal["release", "redact", "withhold"] = Field(
        description="The agency's recommendation for the portion"
    )
    exemptions: Codes = Field(default_factory=list, max_length=20)
    note: str | None = Field(default=None, max_length=NOTE_MAX)


class AssigneeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1, max_length=64)


class RedactionOut(BaseModel):
    start: int
    end: int
    exemption: Codes


class ReviewOut(BaseModel):
    outcome: Literal["approved", "returned", "auto_approved"]
    reviewer: str
    note: str | None
    reviewed_at: datetime


class DecisionOut(BaseModel):
    id: int
    action: Literal["release", "redact", "withhold", "refer", "referral_answer"]
    redactions: list[RedactionOut]
    exemptions: Codes
    refer_to: str | None
    answer: str | None = Field(description="A referral answer's recommendation")
    note: str | None = Field(description="null when the portion is above the caller's clearance")
    decided_by: str
    decided_at: datetime
    portion_version: int = Field(description="The portion version the decision was made on")
    text_sha256: str = Field(description="SHA-256 of the portion text the decision was made on")
    review: ReviewOut | None = Field(description="The second review of this decision, if any")


class PortionDetailOut(PortionPublic):
    ref_id: str
    decisions: list[DecisionOut] = Field(description="Every decision, oldest first")


class DecisionResultOut(PortionDetailOut):
    auto_approved: bool = Field(
        default=False, description="True when second-review sampling approved it at once"
    )


class QueueItemOut(BaseModel):
    kind: Literal["review", "approval"]
    ref_id: str
    seq: int
    number: str | None
    marking: str | None
    level: str
    status: str
    version: int
    queue: str | None
    assignee: str | None
    decided_by: str | None
    declassify_on: date | None
    subject: str | None = Field(description="null when the cable header is above your clearance")


class QueuePage(BaseModel):
    items: list[QueueItemOut]
    next_cursor: str | None = None


class PolicyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sampling_enabled: bool = Field(
        description="Off: every decision needs an approver (the default)"
    )
    sample_rate: float = Field(
        ge=0.0,
        le=1.0,
        description="With sampling on, the share of eligible decisions still drawn for "
        "second review (0.1 = 10%); the others are approved automatically",
    )


class PolicyOut(PolicyIn):
    updated_by: str | None
    updated_at: datetime
