"""HTTP routes for tokens, users and service accounts. Routers translate, services decide."""

from __future__ import annotations

import threading
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Form, Request, Response
from sqlalchemy import Engine

from service.auth import service
from service.auth.deps import AdminDep, CurrentPrincipal
from service.auth.passwords import MAX_PASSWORD_BYTES
from service.auth.ratelimit import LoginThrottle
from service.auth.schemas import (
    Me,
    ServiceAccountCreate,
    ServiceAccountCreated,
    ServiceAccountPage,
    ServiceAccountPublic,
    ServiceAccountUpdate,
    TokenResponse,
    UserCreate,
    UserPage,
    UserPublic,
    UserUpdate,
)
from service.auth.security import issue_access_token
from service.db import unit_of_work
from service.deps import PageCursor, PageLimit, SessionDep, SettingsDep
from service.errors import BadRequest, TooManyRequests, Unauthorized
from service.pagination import next_link
from service.routes import CommittingRoute

router = APIRouter(prefix="/api/v1", route_class=CommittingRoute)
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
_throttle_lock = threading.Lock()

OAUTH_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "invalid_request, invalid_grant or unsupported_grant_type (RFC 6749)"},
    401: {"description": "invalid_client: unknown client or wrong secret"},
    429: {"description": "Too many failed logins for this username or address; see Retry-After"},
}
ADMIN_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "No valid bearer token"},
    403: {"description": "The caller is not an admin"},
}


def login_throttle(app: FastAPI) -> LoginThrottle:
    """The app's failed-login throttle (one per application instance)."""
    with _throttle_lock:
        throttle = getattr(app.state, "login_throttle", None)
        if not isinstance(throttle, LoginThrottle):
            throttle = LoginThrottle(app.state.settings)
            app.state.login_throttle = throttle
        return throttle


def _oauth_error(error: str, detail: str) -> BadRequest:
    return BadRequest(detail, extra={"error": error})


@router.post("/auth/token", response_model=TokenResponse, tags=["auth"], responses=OAUTH_ERRORS)
def issue_token(
    request: Request,
    response: Response,
    settings: SettingsDep,
    grant_type: Annotated[str | None, Form(max_length=64)] = None,
    username: Annotated[str | None, Form(max_length=128)] = None,
    password: Annotated[str | None, Form(max_length=MAX_PASSWORD_BYTES)] = None,
    client_id: Annotated[str | None, Form(max_length=128)] = None,
    client_secret: Annotated[str | None, Form(max_length=MAX_PASSWORD_BYTES)] = None,
    scope: Annotated[str | None, Form(max_length=1024)] = None,
) -> TokenResponse:
    """Exchange credentials for an access token (OAuth2 form body).

    `grant_type=password` with `username` and `password` for people;
    `grant_type=client_credentials` with `client_id` and `client_secret` for records
    systems. Failed attempts are recorded in the audit log and limited per username and per
    client address (429 with `Retry-After` once the budget is spent)."""
    del scope  # accepted for OAuth2 clients that send it; roles come from the account
    engine: Engine = request.app.state.engine
    address = request.client.host if request.client else "unknown"
    response.headers.update(NO_STORE)
    if grant_type == "password":
        if not username or password is None:
            raise _oauth_error("invalid_request", "username and password are required")
        login, secret = username, password
    elif grant_type == "client_credentials":
        if not client_id or client_secret is None:
            raise _oauth_error("invalid_request", "client_id and client_secret are required")
        login, secret = client_id, client_secret
    else:
        raise _oauth_error(
            "unsupported_grant_type", "grant_type must be password or client_credentials"
        )

    throttle = login_throttle(request.app)
    wait = throttle.retry_after(username=login, address=address)
    if wait is not None:
        raise TooManyRequests(
            "Too many failed logins; try again later",
            headers={"Retry-After": str(wait)},
            extra={"error": "slow_down"},
        )
    with unit_of_work(engine, write=False) as session:
        if grant_type == "password":
            user = service.authenticate_password(session, username=login, password=secret)
            subject = (service.user_subject(user), user.username, "user") if user else None
        else:
            account = service.authenticate_client(session, client_id=login, client_secret=secret)
            subject = (
                (service.service_subject(account), account.client_id, "service")
                if account
                else None
            )
    if subject is None:
        throttle.failed(username=login, address=address)
        service.record_failed_login(
            engine, username=login, client_address=address, grant_type=grant_type
        )
        if grant_type == "client_credentials":
            raise Unauthorized("Unknown client or wrong secret", extra={"error": "invalid_client"})
        raise _oauth_error("invalid_grant", "Wrong username or password")
    throttle.succeeded(username=login)
    sub, name, kind = subject
    token, expires_in = issue_access_token(
        settings, sub=sub, name=name, kind="user" if kind == "user" else "service"
    )
    request.state.actor = name
    return TokenResponse(access_token=token, expires_in=expires_in)


@router.get("/users/me", response_model=Me, tags=["users"], responses={401: ADMIN_ERRORS[401]})
def read_me(principal: CurrentPrincipal) -> Me:
    """The caller's username, roles, clearance and queues."""
    return Me(
        username=principal.name,
        kind=principal.kind.value,
        roles=sorted(role.value for role in principal.roles),
        clearance=principal.clearance.value,
        queues=list(principal.queues),
    )


@router.post(
    "/users", status_code=201, response_model=UserPublic, tags=["users"], responses=ADMIN_ERRORS
)
def create_user(
    session: SessionDep, principal: AdminDep, body: UserCreate, response: Response
) -> UserPublic:
    """Create a user (admin). 409 when the username is taken; 422 for unknown roles or
    clearance levels or a password shorter than 12 characters."""
    user = service.create_user(
        session,
        actor=principal,
        username=body.username,
        password=body.password,
        roles=body.roles,
        clearance=body.clearance,
        queues=body.queues,
    )
    response.headers["Location"] = f"/api/v1/users/{user.username}"
    return UserPublic.of(user)


@router.get("/users", response_model=UserPage, tags=["users"], responses=ADMIN_ERRORS)
def list_users(
    session: SessionDep,
    _admin: AdminDep,
    request: Request,
    response: Response,
    limit: PageLimit = 50,
    cursor: PageCursor = None,
) -> UserPage:
    """Users in creation order (admin), cursor-paginated with a `Link` header."""
    users, next_cursor = service.list_users(session, limit=limit, cursor=cursor)
    response.headers.update(next_link(request.url, next_cursor))
    return UserPage(items=[UserPublic.of(user) for user in users], next_cursor=next_cursor)


@router.get("/users/{username}", response_model=UserPublic, tags=["users"], responses=ADMIN_ERRORS)
def read_user(session: SessionDep, _admin: AdminDep, username: str) -> UserPublic:
    """One user (admin)."""
    return UserPublic.of(service.get_user(session, username))


@router.patch(
    "/users/{username}", response_model=UserPublic, tags=["users"], responses=ADMIN_ERRORS
)
def update_user(
    session: SessionDep, principal: AdminDep, username: str, body: UserUpdate
) -> UserPublic:
    """Change a user's roles, clearance, queues, `active` flag or password (admin). Users
    are deactivated (`"active": false`), never deleted."""
    user = service.update_user(
        session,
        actor=principal,
        username=username,
        roles=body.roles,
        clearance=body.clearance,
        queues=body.queues,
        is_active=body.active,
        password=body.password,
    )
    return UserPublic.of(user)


@router.post(
    "/service-accounts",
    status_code=201,
    response_model=ServiceAccountCreated,
    tags=["service accounts"],
    responses=ADMIN_ERRORS,
)
def create_service_account(
    session: SessionDep, principal: AdminDep, body: ServiceAccountCreate, response: Response
) -> ServiceAccountCreated:
    """Create a records-system account (admin). The `client_secret` is in this response
    only; the service stores its hash."""
    account, secret = service.create_service_account(
        session, actor=principal, name=body.name, clearance=body.clearance, roles=body.roles
    )
    response.headers.update(NO_STORE)
    response.headers["Location"] = f"/api/v1/service-accounts/{account.client_id}"
    return ServiceAccountCreated(
        **ServiceAccountPublic.of(account).model_dump(), client_secret=secret
    )


@router.get(
    "/service-accounts",
    response_model=ServiceAccountPage,
    tags=["service accounts"],
    responses=ADMIN_ERRORS,
)
def list_service_accounts(
    session: SessionDep,
    _admin: AdminDep,
    request: Request,
    response: Response,
    limit: PageLimit = 50,
    cursor: PageCursor = None,
) -> ServiceAccountPage:
    """Service accounts in creation order (admin); secrets are never shown again."""
    accounts, next_cursor = service.list_service_accounts(session, limit=limit, cursor=cursor)
    response.headers.update(next_link(request.url, next_cursor))
    return ServiceAccountPage(
        items=[ServiceAccountPublic.of(account) for account in accounts], next_cursor=next_cursor
    )


@router.get(
    "/service-accounts/{client_id}",
    response_model=ServiceAccountPublic,
    tags=["service accounts"],
    responses=ADMIN_ERRORS,
)
def read_service_account(
    session: SessionDep, _admin: AdminDep, client_id: str
) -> ServiceAccountPublic:
    """One service account (admin)."""
    return ServiceAccountPublic.of(service.get_service_account(session, client_id))


@router.patch(
    "/service-accounts/{client_id}",
    response_model=ServiceAccountPublic,
    tags=["service accounts"],
    responses=ADMIN_ERRORS,
)
def update_service_account(
    session: SessionDep, principal: AdminDep, client_id: str, body: ServiceAccountUpdate
) -> ServiceAccountPublic:
    """Change a service account's name, roles, clearance or `active` flag (admin)."""
    account = service.update_service_account(
        session,
        actor=principal,
        client_id=client_id,
        name=body.name,
        clearance=body.clearance,
        roles=body.roles,
        is_active=body.active,
    )
    return ServiceAccountPublic.of(account)
