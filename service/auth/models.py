"""Users (people) and service accounts (records systems). Neither is ever deleted: they are
deactivated. Passwords and client secrets are stored as argon2id hashes only."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, Column, String
from sqlmodel import Field, SQLModel

from service.orm import JSONType, UTCDateTime, utcnow


class Role(StrEnum):
    reviewer = "reviewer"
    approver = "approver"
    supervisor = "supervisor"
    admin = "admin"
    integration = "integration"


class User(SQLModel, table=True):
    __tablename__ = "user"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(sa_column=Column(String(64), nullable=False, unique=True))
    password_hash: str = Field(sa_column=Column(String(256), nullable=False))
    roles: list[str] = Field(default_factory=list, sa_column=Column(JSONType, nullable=False))
    clearance: str = Field(sa_column=Column(String(16), nullable=False))
    queues: list[str] = Field(default_factory=list, sa_column=Column(JSONType, nullable=False))
    is_active: bool = Field(default=True, sa_column=Column(Boolean, nullable=False))
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )


class ServiceAccount(SQLModel, table=True):
    __tablename__ = "service_account"

    id: int | None = Field(default=None, primary_key=True)
    client_id: str = Field(sa_column=Column(String(64), nullable=False, unique=True))
    secret_hash: str = Field(sa_column=Column(String(256), nullable=False))
    name: str = Field(sa_column=Column(String(200), nullable=False))
    roles: list[str] = Field(default_factory=list, sa_column=Column(JSONType, nullable=False))
    clearance: str = Field(sa_column=Column(String(16), nullable=False))
    is_active: bool = Field(default=True, sa_column=Column(Boolean, nullable=False))
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
