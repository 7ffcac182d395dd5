"""The routing_rule table: routing rules are data, created by migration 0003 (the defaults of
DOMAIN.md section 6) and changed by supervisors through the API like any other row.

A rule is never deleted: DELETE deactivates it, so the audit events that name it stay
readable and its name stays reserved. Every list in the match is "any of" (empty = any), and
the fields are combined with "and" (see `service.routing.matcher`).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Column, Integer, String
from sqlmodel import Field, SQLModel

from service.orm import JSONType, UTCDateTime, utcnow
from service.routing.matcher import GENERAL_QUEUE

__all__ = ["GENERAL_QUEUE", "MATCH_FIELDS", "RoutingRule"]

MATCH_FIELDS: tuple[str, ...] = (
    "levels",
    "markings",
    "reasons",
    "tags",
    "origins",
    "decl_kinds",
    "caveats",
)


class RoutingRule(SQLModel, table=True):
    __tablename__ = "routing_rule"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(sa_column=Column(String(100), nullable=False, unique=True))
    priority: int = Field(sa_column=Column(Integer, nullable=False))
    levels: list[str] = Field(default_factory=list, sa_column=Column(JSONType, nullable=False))
    markings: list[str] = Field(default_factory=list, sa_column=Column(JSONType, nullable=False))
    reasons: list[str] = Field(default_factory=list, sa_column=Column(JSONType, nullable=False))
    tags: list[str] = Field(default_factory=list, sa_column=Column(JSONType, nullable=False))
    origins: list[str] = Field(default_factory=list, sa_column=Column(JSONType, nullable=False))
    decl_kinds: list[str] = Field(default_factory=list, sa_column=Column(JSONType, nullable=False))
    caveats: list[str] = Field(default_factory=list, sa_column=Column(JSONType, nullable=False))
    queue: str = Field(sa_column=Column(String(64), nullable=False))
    min_clearance: str | None = Field(default=None, sa_column=Column(String(16)))
    is_active: bool = Field(default=True, sa_column=Column(Boolean, nullable=False))
    version: int = Field(default=1, sa_column=Column(Integer, nullable=False))
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
