"""Review tables. Decisions, their second reviews and releases are history: rows are only
ever inserted (database triggers reject UPDATE and DELETE, migration 0003), so a new
decision supersedes an old one and never overwrites it, and a release never changes once
it is stored.

- `decision`: one row per decision on a portion (release, redact, withhold, refer) and per
  recorded referral answer; the portion's current decision is its latest row.
- `approval`: the second review of one decision (approved, returned or auto-approved by
  sampling); at most one per decision.
- `release`: the rendered release of a finalized cable (text, JSON and PDF), stored once.
- `review_policy`: the second-review sampling policy (a single row, id 1).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
)
from sqlmodel import Field, SQLModel

from service.orm import JSONType, UTCDateTime, utcnow


class DecisionAction(StrEnum):
    release = "release"
    redact = "redact"
    withhold = "withhold"
    refer = "refer"
    referral_answer = "referral_answer"


class ApprovalOutcome(StrEnum):
    approved = "approved"
    returned = "returned"
    auto_approved = "auto_approved"


class Decision(SQLModel, table=True):
    __tablename__ = "decision"
    __table_args__ = (Index("ix_decision_portion_id_id", "portion_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    portion_id: int = Field(sa_column=Column(Integer, ForeignKey("portion.id"), nullable=False))
    action: str = Field(sa_column=Column(String(16), nullable=False))
    # [{"start": int, "end": int, "codes": [str, ...]}], half-open, sorted, non-overlapping.
    spans: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSONType, nullable=False)
    )
    codes: list[str] = Field(default_factory=list, sa_column=Column(JSONType, nullable=False))
    refer_to: str | None = Field(default=None, sa_column=Column(String(200)))
    # A referral answer's recommendation (release, redact or withhold).
    answer: str | None = Field(default=None, sa_column=Column(String(16)))
    note: str | None = Field(default=None, sa_column=Column(Text))
    decided_by: str = Field(sa_column=Column(String(64), nullable=False))
    decided_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    # The portion version the decision was made on, and the SHA-256 of the text it saw.
    portion_version: int = Field(sa_column=Column(Integer, nullable=False))
    text_sha256: str = Field(sa_column=Column(String(64), nullable=False))


class Approval(SQLModel, table=True):
    __tablename__ = "approval"

    id: int | None = Field(default=None, primary_key=True)
    decision_id: int = Field(
        sa_column=Column(Integer, ForeignKey("decision.id"), nullable=False, unique=True)
    )
    portion_id: int = Field(
        sa_column=Column(Integer, ForeignKey("portion.id"), nullable=False, index=True)
    )
    outcome: str = Field(sa_column=Column(String(16), nullable=False))
    reviewer: str = Field(sa_column=Column(String(64), nullable=False))
    note: str | None = Field(default=None, sa_column=Column(Text))
    reviewed_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )


class Release(SQLModel, table=True):
    __tablename__ = "release"

    id: int | None = Field(default=None, primary_key=True)
    cable_id: int = Field(
        sa_column=Column(Integer, ForeignKey("cable.id"), nullable=False, unique=True)
    )
    status: str = Field(sa_column=Column(String(16), nullable=False))
    finalized_by: str = Field(sa_column=Column(String(64), nullable=False))
    finalized_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    text: str = Field(sa_column=Column(Text, nullable=False))
    json_text: str = Field(sa_column=Column(Text, nullable=False))
    pdf: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    text_sha256: str = Field(sa_column=Column(String(64), nullable=False))
    json_sha256: str = Field(sa_column=Column(String(64), nullable=False))
    pdf_sha256: str = Field(sa_column=Column(String(64), nullable=False))


class ReviewPolicy(SQLModel, table=True):
    """Second-review sampling (DOMAIN.md section 7). Off by default: every decision needs
    an approver. When on, a decision eligible for sampling is drawn for second review with
    probability `sample_rate`; the others are approved automatically."""

    __tablename__ = "review_policy"

    id: int | None = Field(default=None, primary_key=True)
    sampling_enabled: bool = Field(default=False, sa_column=Column(Boolean, nullable=False))
    sample_rate: float = Field(default=0.1, sa_column=Column(Float, nullable=False))
    updated_by: str | None = Field(default=None, sa_column=Column(String(64)))
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
