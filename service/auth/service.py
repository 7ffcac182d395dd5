"""Users, service accounts and authentication. Services never commit: the caller's unit of
work does (the one exception, `record_failed_login`, is documented there).

Guarantees:
- users and service accounts are deactivated, never deleted; there is no delete function;
- every change writes one audit event in the same transaction, whose detail carries the old
  and new values of the changed fields and never a password, secret or hash;
- a service account's client secret is returned once, by `create_service_account`; only its
  argon2id hash is stored;
- `authenticate_password` / `authenticate_client` take the same time whether or not the
  account exists or is active, and say only "yes" or "no";
- `principal_for` reloads the account named by a token on every request, so a deactivated
  account or a changed role or clearance takes effect at once.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypeVar, cast

from sqlalchemy import Engine, Table, bindparam, literal, select
from sqlmodel import Session, SQLModel, col

from service.audit.models import AuditAction
from service.audit.service import record
from service.auth.models import Role, ServiceAccount, User
from service.auth.passwords import dummy_verify, hash_password, verify_password
from service.auth.principal import Principal, PrincipalKind
from service.auth.security import Claims
from service.db import unit_of_work
from service.errors import Conflict, NotFound, Unauthorized
from service.markings import Level
from service.orm import utcnow
from service.pagination import decode_cursor, encode_cursor
from service.routing.service import assign_waiting_for_user

Row = TypeVar("Row", User, ServiceAccount)

ANONYMOUS = Principal(
    name="anonymous",
    sub="anonymous",
    kind=PrincipalKind.system,
    roles=frozenset(),
    clearance=Level.UNCLASSIFIED,
)


def _roles(roles: Iterable[Role | str]) -> list[str]:
    """Known roles only, deduplicated, in a stable order (unknown values raise ValueError)."""
    wanted = {Role(role) for role in roles}
    return [role.value for role in Role if role in wanted]


def _page(
    session: Session, model: type[Row], *, limit: int, cursor: str | None
) -> tuple[list[Row], str | None]:
    statement = select(model).order_by(col(model.id))
    key = decode_cursor(cursor, fields=("id",))
    if key is not None:
        statement = statement.where(col(model.id) > int(key["id"]))
    rows = list(session.execute(statement.limit(limit + 1)).scalars())
    next_cursor = encode_cursor({"id": rows[limit - 1].id}) if len(rows) > limit else None
    return rows[:limit], next_cursor


def _apply(row: SQLModel, changes: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Set the changed fields; return {field: {"old", "new"}} for those that differ."""
    diff: dict[str, dict[str, Any]] = {}
    for field, new in changes.items():
        old = getattr(row, field)
        if new is not None and new != old:
            setattr(row, field, new)
            diff[field] = {"old": old, "new": new}
    return diff


# Users ---------------------------------------------------------------------------------


def find_user(session: Session, username: str) -> User | None:
    statement = select(User).where(col(User.username) == username)
    return session.execute(statement).scalars().first()


def get_user(session: Session, username: str) -> User:
    """The user named `username`, or NotFound."""
    user = find_user(session, username)
    if user is None:
        raise NotFound(f"No user {username}")
    return user


def list_users(
    session: Session, *, limit: int, cursor: str | None = None
) -> tuple[list[User], str | None]:
    """A page of users in creation order, and the cursor of the next page."""
    return _page(session, User, limit=limit, cursor=cursor)


def create_user(
    session: Session,
    *,
    actor: Principal,
    username: str,
    password: str,
    roles: Sequence[Role],
    clearance: Level,
    queues: Sequence[str] = (),
) -> User:
    """Create an active user. Raises Conflict when the username is taken."""
    if find_user(session, username) is not None:
        raise Conflict(f"The username {username} is taken")
    user = User.model_validate(
        {
            "username": username,
            "password_hash": hash_password(password),
            "roles": _roles(roles),
            "clearance": Level(clearance).value,
            "queues": list(dict.fromkeys(queues)),
            "is_active": True,
        }
    )
    session.add(user)
    session.flush()
    record(
        session,
        actor=actor,
        action=AuditAction.user_changed,
        entity="user",
        entity_id=username,
        detail={
            "change": "created",
            "roles": user.roles,
            "clearance": user.clearance,
            "queues": user.queues,
        },
    )
    assign_waiting_for_user(session, user=user)
    return user


def update_user(
    session: Session,
    *,
    actor: Principal,
    username: str,
    roles: Sequence[Role] | None = None,
    clearance: Level | None = None,
    queues: Sequence[str] | None = None,
    is_active: bool | None = None,
    password: str | None = None,
) -> User:
    """Change a user's roles, clearance, queues, active flag or password.

    Raises NotFound for an unknown user, and Conflict when an admin would deactivate
    themselves or drop their own admin role (which could leave nobody able to manage users).
    """
    user = get_user(session, username)
    demoting_self = is_active is False or (roles is not None and Role.admin not in roles)
    if actor.kind is PrincipalKind.user and actor.name == username and demoting_self:
        raise Conflict("You cannot deactivate yourself or remove your own admin role")
    diff = _apply(
        user,
        {
            "roles": _roles(roles) if roles is not None else None,
            "clearance": Level(clearance).value if clearance is not None else None,
            "queues": list(dict.fromkeys(queues)) if queues is not None else None,
            "is_active": is_active,
        },
    )
    detail: dict[str, Any] = {"change": "updated", **diff}
    if password is not None:
        user.password_hash = hash_password(password)
        detail["password_changed"] = True
    if len(detail) == 1:
        return user
    user.updated_at = utcnow()
    session.add(user)
    session.flush()
    record(
        session,
        actor=actor,
        action=AuditAction.user_changed,
        entity="user",
        entity_id=username,
        detail=detail,
    )
    assign_waiting_for_user(session, user=user)
    return user


# Service accounts ----------------------------------------------------------------------


def new_client_secret() -> str:
    return secrets.token_urlsafe(32)


def find_service_account(session: Session, client_id: str) -> ServiceAccount | None:
    statement = select(ServiceAccount).where(col(ServiceAccount.client_id) == client_id)
    return session.execute(statement).scalars().first()


def get_service_account(session: Session, client_id: str) -> ServiceAccount:
    account = find_service_account(session, client_id)
    if account is None:
        raise NotFound(f"No service account {client_id}")
    return account


def list_service_accounts(
    session: Session, *, limit: int, cursor: str | None = None
) -> tuple[list[ServiceAccount], str | None]:
    return _page(session, ServiceAccount, limit=limit, cursor=cursor)


def create_service_account(
    session: Session,
    *,
    actor: Principal,
    name: str,
    clearance: Level = Level.UNCLASSIFIED,
    roles: Sequence[Role] = (Role.integration,),
) -> tuple[ServiceAccount, str]:
    """Create an account for a records system; returns it and its client secret, which is
    never available again (only its hash is stored)."""
    client_secret = new_client_secret()
    account = ServiceAccount.model_validate(
        {
            "client_id": "svc-" + secrets.token_hex(8),
            "secret_hash": hash_password(client_secret),
            "name": name,
            "roles": _roles(roles),
            "clearance": Level(clearance).value,
            "is_active": True,
        }
    )
    session.add(account)
    session.flush()
    record(
        session,
        actor=actor,
        action=AuditAction.service_account_changed,
        entity="service_account",
        entity_id=account.client_id,
        detail={
            "change": "created",
            "name": name,
            "roles": account.roles,
            "clearance": account.clearance,
        },
    )
    return account, client_secret


def update_service_account(
    session: Session,
    *,
    actor: Principal,
    client_id: str,
    name: str | None = None,
    clearance: Level | None = None,
    roles: Sequence[Role] | None = None,
    is_active: bool | None = None,
) -> ServiceAccount:
    """Change a service account; NotFound for an unknown client id."""
    account = get_service_account(session, client_id)
    diff = _apply(
        account,
        {
            "name": name,
            "clearance": Level(clearance).value if clearance is not None else None,
            "roles": _roles(roles) if roles is not None else None,
            "is_active": is_active,
        },
    )
    if not diff:
        return account
    account.updated_at = utcnow()
    session.add(account)
    session.flush()
    record(
        session,
        actor=actor,
        action=AuditAction.service_account_changed,
        entity="service_account",
        entity_id=client_id,
        detail={"change": "updated", **diff},
    )
    return account


# Authentication ------------------------------------------------------------------------


def authenticate_password(session: Session, *, username: str, password: str) -> User | None:
    """The active user whose password this is, or None. Takes one hash verification either
    way. When the stored hash uses outdated parameters it is replaced (needs-rehash); that
    change is flushed in `session` and is not audited (it changes no permission)."""
    user = find_user(session, username)
    if user is None or not user.is_active:
        dummy_verify(password)
        return None
    outcome = verify_password(password, user.password_hash)
    if not outcome.ok:
        return None
    if outcome.new_hash is not None:
        user.password_hash = outcome.new_hash
        session.add(user)
        session.flush()
    return user


def authenticate_client(
    session: Session, *, client_id: str, client_secret: str
) -> ServiceAccount | None:
    """The active service account with this client id and secret, or None."""
    account = find_service_account(session, client_id)
    if account is None or not account.is_active:
        dummy_verify(client_secret)
        return None
    return account if verify_password(client_secret, account.secret_hash).ok else None


def record_failed_login(
    engine: Engine, *, username: str, client_address: str, grant_type: str
) -> None:
    """Append an `auth.failed` event in its OWN transaction (the request itself fails and
    rolls back, but the failure must stay on record). No password or secret is recorded."""
    with unit_of_work(engine) as session:
        record(
            session,
            actor=ANONYMOUS,
            action=AuditAction.auth_failed,
            entity="login",
            entity_id=username[:128],
            detail={"username": username[:128], "client": client_address, "grant_type": grant_type},
        )


def user_subject(user: User) -> str:
    return f"user:{user.id}"


def service_subject(account: ServiceAccount) -> str:
    return f"service:{account.id}"


def _principal_roles(roles: Iterable[str]) -> frozenset[Role]:
    return frozenset(Role(role) for role in roles if role in Role.__members__.values())


USERS = cast(Table, User.__table__)  # type: ignore[attr-defined]
SERVICE_ACCOUNTS = cast(Table, ServiceAccount.__table__)  # type: ignore[attr-defined]
# Every request reads its caller: plain column reads (no ORM entity) of what a principal holds.
_ACCOUNT_ROWS = {
    "user": select(
        USERS.c.username, USERS.c.roles, USERS.c.clearance, USERS.c.queues, USERS.c.is_active
    ).where(USERS.c.id == bindparam("id")),
    "service": select(
        SERVICE_ACCOUNTS.c.client_id,
        SERVICE_ACCOUNTS.c.roles,
        SERVICE_ACCOUNTS.c.clearance,
        literal(None).label("queues"),
        SERVICE_ACCOUNTS.c.is_active,
    ).where(SERVICE_ACCOUNTS.c.id == bindparam("id")),
}


def principal_for(session: Session, claims: Claims) -> Principal:
    """The caller named by verified `claims`, loaded fresh from the database.

    Raises Unauthorized when the account no longer exists or is inactive."""
    kind, _, raw_id = claims.sub.partition(":")
    statement = _ACCOUNT_ROWS.get(kind) if kind == claims.kind and raw_id.isdigit() else None
    row = None if statement is None else session.execute(statement, {"id": int(raw_id)}).first()
    if row is None or not row.is_active:
        raise Unauthorized("The token's account does not exist or is not active")
    name, roles, clearance, queues, _active = row
    return Principal(
        name=name,
        sub=claims.sub,
        kind=PrincipalKind.user if kind == "user" else PrincipalKind.service,
        roles=_principal_roles(roles),
        clearance=Level(clearance),
        queues=tuple(queues or ()),
    )
