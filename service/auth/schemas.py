"""API shapes of users, service accounts and tokens. No response ever carries a hash."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from service.auth.models import Role, ServiceAccount, User
from service.auth.passwords import MAX_PASSWORD_BYTES, MIN_PASSWORD_CHARS
from service.markings import Level

USERNAME_PATTERN = r"^[a-z0-9][a-z0-9._-]{1,63}$"
QUEUE_PATTERN = r"^[a-z0-9][a-z0-9._-]{0,63}$"

Username = Annotated[str, StringConstraints(pattern=USERNAME_PATTERN)]
QueueName = Annotated[str, StringConstraints(pattern=QUEUE_PATTERN)]
Password = Annotated[
    str,
    # bytes are capped again when hashing; this bounds the characters for validation
    StringConstraints(min_length=MIN_PASSWORD_CHARS, max_length=MAX_PASSWORD_BYTES),
]


class UserCreate(BaseModel):
    """A new user. `roles` and `clearance` must be known values (else 422)."""

    model_config = ConfigDict(extra="forbid")

    username: Username = Field(description="lower-case letters, digits, '.', '_', '-'")
    password: Password
    roles: list[Role] = Field(min_length=1, max_length=len(Role))
    clearance: Level
    queues: list[QueueName] = Field(default_factory=list, max_length=100)


class UserUpdate(BaseModel):
    """A partial change; absent fields are left as they are."""

    model_config = ConfigDict(extra="forbid")

    roles: list[Role] | None = Field(default=None, min_length=1, max_length=len(Role))
    clearance: Level | None = None
    queues: list[QueueName] | None = Field(default=None, max_length=100)
    active: bool | None = None
    password: Password | None = None


class UserPublic(BaseModel):
    username: str
    roles: list[str]
    clearance: str
    queues: list[str]
    active: bool
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, user: User) -> UserPublic:
        return cls(
            username=user.username,
            roles=list(user.roles),
            clearance=user.clearance,
            queues=list(user.queues),
            active=user.is_active,
            created_at=user.created_at,
            updated_at=user.updated_at,
        )


class UserPage(BaseModel):
    items: list[UserPublic]
    next_cursor: str | None = None


class Me(BaseModel):
    """The caller: a user, or a service account (whose `username` is its client id)."""

    username: str
    kind: Literal["user", "service", "system"]
    roles: list[str]
    clearance: str
    queues: list[str]


class ServiceAccountCreate(BaseModel):
    """A records system's account. Without a clearance it sees no classified text."""

    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True)]
    clearance: Level = Level.UNCLASSIFIED
    roles: list[Role] = Field(default_factory=lambda: [Role.integration], min_length=1)


class ServiceAccountUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = None
    clearance: Level | None = None
    roles: list[Role] | None = Field(default=None, min_length=1)
    active: bool | None = None


class ServiceAccountPublic(BaseModel):
    client_id: str
    name: str
    roles: list[str]
    clearance: str
    active: bool
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, account: ServiceAccount) -> ServiceAccountPublic:
        return cls(
            client_id=account.client_id,
            name=account.name,
            roles=list(account.roles),
            clearance=account.clearance,
            active=account.is_active,
            created_at=account.created_at,
            updated_at=account.updated_at,
        )


class ServiceAccountCreated(ServiceAccountPublic):
    client_secret: str = Field(description="Shown once; only its hash is stored")


class ServiceAccountPage(BaseModel):
    items: list[ServiceAccountPublic]
    next_cursor: str | None = None


class TokenResponse(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - a token type
    expires_in: int
