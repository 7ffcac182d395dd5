"""Cable and Portion tables: a cable is stored whole (raw text byte-for-byte with its
SHA-256) and split into portions whose texts join back to the raw text exactly."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Column, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from service.orm import JSONType, UTCDateTime, utcnow


class CableStatus(StrEnum):
    received = "received"
    in_review = "in_review"
    ready = "ready"
    released = "released"
    withheld = "withheld"


class PortionStatus(StrEnum):
    pending = "pending"
    assigned = "assigned"
    in_review = "in_review"
    decided = "decided"
    returned = "returned"
    referred = "referred"
    approved = "approved"


class Cable(SQLModel, table=True):
    __tablename__ = "cable"
    __table_args__ = (
        Index("ix_cable_declassify_on_ref_id", "declassify_on", "ref_id"),
        Index("ix_cable_status_declassify_on", "status", "declassify_on"),
        Index("ix_cable_origin_declassify_on", "origin", "declassify_on"),
        Index("ix_cable_classification_declassify_on", "classification", "declassify_on"),
    )

    id: int | None = Field(default=None, primary_key=True)
    ref_id: str = Field(sa_column=Column(String(64), nullable=False, unique=True))
    subject: str | None = Field(default=None, sa_column=Column(Text))
    origin: str | None = Field(default=None, sa_column=Column(String(200)))
    sent_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    cable_date: date | None = None
    classification: str = Field(sa_column=Column(String(16), nullable=False))
    caveats: list[str] = Field(default_factory=list, sa_column=Column(JSONType, nullable=False))
    eo: str | None = Field(default=None, sa_column=Column(String(32)))
    decl: dict[str, Any] | None = Field(default=None, sa_column=Column(JSONType))
    decl_kind: str | None = Field(default=None, sa_column=Column(String(16)))
    declassify_on: date | None = None
    declassify_basis: str | None = Field(default=None, sa_column=Column(Text))
    classified_by: str | None = Field(default=None, sa_column=Column(Text))
    reasons: list[str] = Field(default_factory=list, sa_column=Column(JSONType, nullable=False))
    tags: list[str] = Field(default_factory=list, sa_column=Column(JSONType, nullable=False))
    references: list[str] = Field(default_factory=list, sa_column=Column(JSONType, nullable=False))
    signer: str | None = Field(default=None, sa_column=Column(String(200)))
    warnings: list[str] = Field(default_factory=list, sa_column=Column(JSONType, nullable=False))
    status: str = Field(default=CableStatus.received, sa_column=Column(String(16), nullable=False))
    version: int = Field(default=1, sa_column=Column(Integer, nullable=False))
    raw_text: str = Field(sa_column=Column(Text, nullable=False))
    raw_sha256: str = Field(sa_column=Column(String(64), nullable=False))
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )


class CableTag(SQLModel, table=True):
    """One row per (cable, tag): the `tag` filter is an indexed lookup, not a JSON scan."""

    __tablename__ = "cable_tag"

    cable_id: int = Field(
        sa_column=Column(Integer, ForeignKey("cable.id", ondelete="CASCADE"), primary_key=True)
    )
    tag: str = Field(sa_column=Column(String(64), primary_key=True, index=True))


class Portion(SQLModel, table=True):
    __tablename__ = "portion"
    __table_args__ = (
        UniqueConstraint("cable_id", "seq"),
        Index("ix_portion_assignee_status", "assignee", "status"),
        Index("ix_portion_queue_status", "queue", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    cable_id: int = Field(sa_column=Column(Integer, ForeignKey("cable.id"), nullable=False))
    seq: int = Field(sa_column=Column(Integer, nullable=False))
    number: str | None = Field(default=None, sa_column=Column(String(16)))
    marking: str | None = Field(default=None, sa_column=Column(String(64)))
    level: str = Field(sa_column=Column(String(16), nullable=False))
    text: str = Field(sa_column=Column(Text, nullable=False))
    status: str = Field(default=PortionStatus.pending, sa_column=Column(String(16), nullable=False))
    queue: str | None = Field(default=None, sa_column=Column(String(64)))
    assignee: str | None = Field(default=None, sa_column=Column(String(64)))
    version: int = Field(default=1, sa_column=Column(Integer, nullable=False))
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
