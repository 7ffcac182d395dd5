"""Authorization in one place: who the caller is (`CurrentPrincipal`) and which roles a route
needs (`require_roles` and the `...Dep` aliases). Clearance decisions (which text a caller
may read) live in `service.auth.clearance`.

A request with no valid bearer token never reaches a protected route: `AuthGateMiddleware`
refuses it first (every path but `TOKEN_PATH` and `settings.public_paths`), and
`current_principal` loads the account it names, so a route that forgot its dependency still
cannot be used anonymously.

The two busiest routes (reading a portion, deciding it) take a `Caller` instead
(`AnyCaller`, `ReviewerCaller`) and load the account in their own thread and transaction,
with the same checks: one hop to a worker thread a request instead of two.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel import Session
from starlette.types import ASGIApp, Receive, Scope, Send

from service.auth import service
from service.auth.models import Role
from service.auth.principal import Principal
from service.auth.security import MAX_TOKEN_BYTES, Claims, TokenError, verify_access_token
from service.db import unit_of_work
from service.deps import READ_METHODS, SessionDep, SettingsDep
from service.errors import Forbidden, Unauthorized, problem
from service.settings import Settings

INVALID_TOKEN = 'Bearer realm="declass", error="invalid_token"'  # noqa: S105 - a header
TOKEN_PATH = "/api/v1/auth/token"  # noqa: S105 - a path

# Declares the bearer scheme in OpenAPI; the header itself is read and checked below.
bearer_scheme = HTTPBearer(auto_error=False, description="An access token from /api/v1/auth/token")


def bearer_token(authorization: str | None) -> str:
    """The token of an `Authorization: Bearer <token>` header, or Unauthorized.

    The header's size is checked before anything is decoded."""
    if not authorization:
        raise Unauthorized("A bearer token is required")
    if len(authorization) > MAX_TOKEN_BYTES + len("Bearer "):
        raise Unauthorized(
            "The Authorization header is too large", headers={"WWW-Authenticate": INVALID_TOKEN}
        )
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("A bearer token is required")
    return token.strip()


def verified_claims(settings: Settings, authorization: str | None) -> Claims:
    """The verified claims of the request's bearer token, or Unauthorized."""
    token = bearer_token(authorization)
    try:
        return verify_access_token(settings, token)
    except TokenError:
        raise Unauthorized(
            "The bearer token is invalid or expired", headers={"WWW-Authenticate": INVALID_TOKEN}
        ) from None


def is_public(path: str, public_paths: list[str]) -> bool:
    """True for the token endpoint and the configured public paths (and paths below them)."""
    for public in (TOKEN_PATH, *public_paths):
        base = public.rstrip("/")
        if path in (public, base) or path.startswith(base + "/"):
            return True
    return False


class VerifiedTokens:
    """Tokens this process has verified, with their claims, so a client sending the same
    token on every request costs one signature check per token, not one per request.

    Verification is a pure function of the token and the app's (fixed) settings, except
    for time: a hit is only used while the token has not expired (`exp` plus the leeway,
    as the verifier counts it); `nbf` and `iat`, once passed, stay passed. Only successes
    are kept; at most `size` tokens, the oldest dropped first."""

    def __init__(self, size: int = 4096) -> None:
        self.size = size
        self._claims: dict[str, Claims] = {}
        self._guard = threading.Lock()

    def verify(self, settings: Settings, authorization: str | None) -> Claims:
        token = bearer_token(authorization)
        claims = self._claims.get(token)
        if claims is not None and int(time.time()) <= claims.exp + settings.jwt_leeway_seconds:
            return claims
        claims = verified_claims(settings, authorization)
        with self._guard:
            while len(self._claims) >= self.size:
                del self._claims[next(iter(self._claims))]
            self._claims[token] = claims
        return claims


class AuthGateMiddleware:
    """Pure ASGI: refuses any request to a non-public path without a valid bearer token
    (401 problem+json with `WWW-Authenticate`), before routing, body parsing or database
    access. Verified claims and the caller's name are left in the request state."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.tokens = VerifiedTokens()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        settings: Settings = scope["app"].state.settings
        if is_public(scope.get("path", ""), settings.public_paths):
            await self.app(scope, receive, send)
            return
        headers = [value for name, value in scope["headers"] if name == b"authorization"]
        authorization = headers[0].decode("latin-1") if len(headers) == 1 else None
        try:
            claims = self.tokens.verify(settings, authorization)
        except Unauthorized as refusal:
            response = problem(401, refusal.detail, slug=refusal.slug, headers=refusal.headers)
            await response(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        state["claims"] = claims
        state["actor"] = claims.name
        await self.app(scope, receive, send)


def current_principal(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    _credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> Principal:
    """The authenticated caller: bearer token verified (once: `AuthGateMiddleware` leaves
    the claims in the request state), account loaded fresh and active.

    A read request loads the account in its own session; any other request in a separate
    short read transaction, so its writer transaction (and on SQLite the write lock) does
    not begin until the route's first statement.

    Raises Unauthorized (401 with `WWW-Authenticate: Bearer`) otherwise. The caller's name
    is kept on `request.state.actor` for the access log."""
    cached = getattr(request.state, "principal", None)
    if isinstance(cached, Principal):
        return cached
    claims = getattr(request.state, "claims", None)
    if not isinstance(claims, Claims):
        claims = verified_claims(settings, request.headers.get("authorization"))
    if request.method in READ_METHODS:
        principal = service.principal_for(session, claims)
    else:
        with unit_of_work(request.app.state.engine, write=False) as reader:
            principal = service.principal_for(reader, claims)
    request.state.principal = principal
    request.state.actor = principal.name
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


class KnownRoles:
    """The roles each caller (token subject) held when this app last loaded its account
    (one per app, `app.state.known_roles`).

    Only a hint of *when* to check, never a grant: `require_caller` uses it to refuse a
    caller without the route's role before the request body is judged (403 before 422, as
    on every other route), and the route still checks the account it loads fresh."""

    def __init__(self, size: int = 4096) -> None:
        self.size = size
        self._roles: dict[str, frozenset[Role]] = {}
        self._guard = threading.Lock()

    def get(self, sub: str) -> frozenset[Role] | None:
        return self._roles.get(sub)

    def forget_all(self) -> None:
        with self._guard:
            self._roles.clear()

    def remember(self, principal: Principal) -> None:
        with self._guard:
            self._roles.pop(principal.sub, None)
            while len(self._roles) >= self.size:
                del self._roles[next(iter(self._roles))]
            self._roles[principal.sub] = principal.roles


def known_roles(request: Request) -> KnownRoles:
    """The app's `KnownRoles` (`create_app` makes it)."""
    known: KnownRoles = request.app.state.known_roles
    return known


@dataclass(frozen=True, slots=True)
class Caller:
    """A verified caller whose account the route loads itself, in its own thread and
    transaction: `caller.principal(session)`. For the busiest routes (reading a portion,
    deciding it), where loading the account in a dependency would cost a second hop to a
    worker thread and, for a write, a transaction of its own.

    The checks are those of `current_principal` and `require_roles`: the account exists
    and is active (else 401) and holds one of `roles` (else 403)."""

    request: Request
    claims: Claims
    roles: frozenset[Role]

    def principal(self, session: Session) -> Principal:
        principal = service.principal_for(session, self.claims)
        known_roles(self.request).remember(principal)
        self.request.state.principal = principal
        self.request.state.actor = principal.name
        if self.roles and not principal.has_role(*self.roles):
            names = ", ".join(sorted(role.value for role in self.roles))
            raise Forbidden(f"This needs one of the roles: {names}")
        return principal


def _load_caller(caller: Caller) -> None:
    with unit_of_work(caller.request.app.state.engine, write=False) as session:
        caller.principal(session)


def require_caller(*roles: Role) -> Callable[..., Awaitable[Caller]]:
    """A dependency giving the route a `Caller` to load in its own thread.

    A caller not known (from an earlier request) to hold one of `roles` is checked here,
    against its account read fresh in a worker thread, so that one without the role is
    refused before its request body is validated, like on every route. A caller known to
    hold it costs no I/O here; the route's own check decides."""
    allowed = frozenset(roles)

    async def dependency(
        request: Request,
        settings: SettingsDep,
        _credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
    ) -> Caller:
        claims = getattr(request.state, "claims", None)
        if not isinstance(claims, Claims):
            claims = verified_claims(settings, request.headers.get("authorization"))
        caller = Caller(request, claims, allowed)
        known = known_roles(request).get(claims.sub)
        if allowed and (known is None or not known & allowed):
            await run_in_threadpool(_load_caller, caller)
        return caller

    dependency.__name__ = "caller_" + "_or_".join(sorted(r.value for r in allowed) or ["any"])
    return dependency


AnyCaller = Annotated[Caller, Depends(require_caller())]
ReviewerCaller = Annotated[Caller, Depends(require_caller(Role.reviewer))]


def require_roles(*roles: Role) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency giving the caller when it holds one of `roles`, else Forbidden (403)."""
    allowed = frozenset(roles)
    names = ", ".join(sorted(role.value for role in allowed))

    # async: no I/O here, so no hop to a worker thread.
    async def dependency(principal: CurrentPrincipal) -> Principal:
        if not principal.has_role(*allowed):
            raise Forbidden(f"This needs one of the roles: {names}")
        return principal

    dependency.__name__ = "require_" + "_or_".join(sorted(role.value for role in allowed))
    return dependency


ReviewerDep = Annotated[Principal, Depends(require_roles(Role.reviewer))]
ApproverDep = Annotated[Principal, Depends(require_roles(Role.approver))]
ReviewerOrApproverDep = Annotated[Principal, Depends(require_roles(Role.reviewer, Role.approver))]
SupervisorDep = Annotated[Principal, Depends(require_roles(Role.supervisor))]
SupervisorOrAdminDep = Annotated[Principal, Depends(require_roles(Role.supervisor, Role.admin))]
SupervisorOrIntegrationDep = Annotated[
    Principal, Depends(require_roles(Role.supervisor, Role.integration))
]
AdminDep = Annotated[Principal, Depends(require_roles(Role.admin))]
AdminOrIntegrationDep = Annotated[Principal, Depends(require_roles(Role.admin, Role.integration))]
IntegrationDep = Annotated[Principal, Depends(require_roles(Role.integration))]
