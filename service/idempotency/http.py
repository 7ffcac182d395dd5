"""The `Idempotency-Key` header on unsafe routes: a FastAPI dependency and `respond()`.

Use: declare `idempotency: IdempotencyDep` as the route's FIRST parameter (before the
session and the principal, so on SQLite the key is claimed, or refused with 409, before
the request takes the writer lock), then return
`idempotency.respond(session, produce, response, status_code=...)` where `produce()` runs
the route's work and returns its response model.

* No header: `produce()` runs as if nothing were here.
* A bad key (not 1-255 visible ASCII characters): 400, nothing claimed.
* A completed key with the same request: the stored status, headers (ETag, Location, ...)
  and body, byte for byte, with `Idempotent-Replayed: true`; `produce()` does not run.
* A key used for another request: 422; a key whose request is in flight: 409.
* Otherwise the key is claimed (committed `in_progress`) and `produce()` runs inside a
  savepoint. Its response, or the problem+json of the domain error it raised (after the
  savepoint rolled back; a 428 for a missing If-Match excepted), is stored in the
  request's transaction, the one holding the effect. If the request ends without
  committing a stored outcome (validation error, 403, 428, unexpected error, failed
  commit) the claim is released so the key can be retried.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from functools import partial
from typing import Annotated, Any, TypeVar

import anyio
from fastapi import Depends, Header, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import Engine
from sqlmodel import Session

from service.auth.deps import verified_claims
from service.auth.security import Claims
from service.db import open_session, unit_of_work
from service.errors import BadRequest, DomainError, PreconditionRequired, problem
from service.idempotency import service
from service.idempotency.service import Begun, Claim, StoredResponse
from service.settings import Settings

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
KEY_PATTERN = re.compile(r"^[\x21-\x7e]{1,255}$")
UNSTORED_HEADERS = frozenset({"content-length"})
RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"description": "Idempotency-Key is not 1-255 visible ASCII characters"},
    409: {"description": "A request with this Idempotency-Key is still in progress"},
    422: {"description": "This Idempotency-Key was already used for a different request"},
}


def with_idempotency_responses(
    responses: dict[int | str, dict[str, Any]] | None = None,
) -> dict[int | str, dict[str, Any]]:
    """A route's `responses` with the Idempotency-Key outcomes added (descriptions joined)."""
    merged = {status: dict(spec) for status, spec in (responses or {}).items()}
    for status, spec in RESPONSES.items():
        if status in merged:
            merged[status]["description"] += "; or: " + spec["description"]
        else:
            merged[status] = dict(spec)
    return merged


KeyHeader = Annotated[
    str | None,
    Header(
        alias=HEADER,
        description=(
            "Optional, 1-255 visible ASCII characters (a UUID is best), scoped to the caller "
            "and kept at least 24 h: a retry with the same key and request replays the first "
            "response (`Idempotent-Replayed: true`) without doing anything twice"
        ),
    ),
]
Model = TypeVar("Model", bound=BaseModel)


def check_key(key: str) -> None:
    if not KEY_PATTERN.match(key):
        raise BadRequest("Idempotency-Key must be 1-255 visible ASCII characters")


@dataclass(slots=True)
class Idempotency:
    """One request's key: nothing (no header), a replay, or a claim to complete."""

    claim: Claim | None = None
    replay: StoredResponse | None = None
    ttl_seconds: int = 86_400
    stored: bool = field(default=False)

    @property
    def keyed(self) -> bool:
        """The request has a key: `respond()` replays it or runs `produce()` in a savepoint."""
        return self.claim is not None or self.replay is not None

    def respond(
        self,
        session: Session,
        produce: Callable[[], Model],
        response: Response,
        *,
        status_code: int = 200,
    ) -> Model | Response:
        """Replay, or run `produce()` and store its outcome (see the module docstring)."""
        if self.replay is not None:
            return replay_response(self.replay)
        if self.claim is None:
            return produce()
        savepoint = session.begin_nested()
        try:
            model = produce()
        except DomainError as exc:
            savepoint.rollback()
            if isinstance(exc, PreconditionRequired) or exc.status >= 500:
                # A missing If-Match is a malformed request, not an outcome (storing it
                # would make the corrected request, another fingerprint, a 422); a 5xx is
                # the server's trouble. Neither is stored: the key is released.
                raise
            rendered: Response = problem(
                exc.status,
                exc.detail,
                slug=exc.slug,
                errors=exc.errors,
                headers=exc.headers,
                extra=exc.extra,
            )
        else:
            savepoint.commit()
            rendered = JSONResponse(
                model.model_dump(mode="json"),
                status_code=status_code,
                headers={
                    k: v for k, v in response.headers.items() if k.lower() not in UNSTORED_HEADERS
                },
            )
        stored = StoredResponse(
            rendered.status_code,
            {k: v for k, v in rendered.headers.items() if k.lower() not in UNSTORED_HEADERS},
            bytes(rendered.body),
        )
        service.complete(session, claim=self.claim, response=stored, ttl_seconds=self.ttl_seconds)
        self.stored = True
        return rendered


def replay_response(stored: StoredResponse) -> Response:
    headers = {**stored.headers, REPLAYED_HEADER: "true"}
    return Response(content=stored.body, status_code=stored.status_code, headers=headers)


def _principal_sub(request: Request) -> str:
    claims = getattr(request.state, "claims", None)
    if not isinstance(claims, Claims):
        claims = verified_claims(request.app.state.settings, request.headers.get("authorization"))
    return claims.sub


def _route_template(request: Request) -> str:
    route = request.scope.get("route")
    return str(getattr(route, "path", request.url.path))


def _begin(engine: Engine, settings: Settings, **kw: Any) -> Begun:
    # Read first: a replay, a 409 or a 422 needs no write (no SQLite writer lock).
    session = open_session(engine, write=False)
    try:
        decided = service.begin(
            session,
            ttl_seconds=settings.idempotency_ttl_seconds,
            lock_seconds=settings.idempotency_lock_seconds,
            write=False,
            **kw,
        )
    finally:
        session.close()
    if decided.claim is not None or decided.replay is not None:
        return decided
    with unit_of_work(engine) as session:
        return service.begin(
            session,
            ttl_seconds=settings.idempotency_ttl_seconds,
            lock_seconds=settings.idempotency_lock_seconds,
            write=True,
            **kw,
        )


def _release(engine: Engine, claim: Claim) -> None:
    with unit_of_work(engine) as session:
        service.release(session, claim=claim)


async def begin_key(request: Request, *, key: str | None, body_sha256: str) -> Idempotency:
    """Check and begin this request's key: a replay, a claim, or nothing (no key).

    Raises BadRequest (400), Conflict (409, in flight) or Unprocessable (422)."""
    settings: Settings = request.app.state.settings
    if key is None:
        return Idempotency(ttl_seconds=settings.idempotency_ttl_seconds)
    check_key(key)
    route = _route_template(request)
    fingerprint = service.fingerprint(
        method=request.method,
        route=route,
        path_params={k: str(v) for k, v in request.path_params.items()},
        query=list(request.query_params.multi_items()),
        body_sha256=body_sha256,
        if_match=request.headers.get("if-match"),
    )
    begun = await anyio.to_thread.run_sync(
        partial(
            _begin,
            request.app.state.engine,
            settings,
            principal_sub=_principal_sub(request),
            key=key,
            fingerprint=fingerprint,
            route=f"{request.method} {route}",
        )
    )
    return Idempotency(
        claim=begun.claim, replay=begun.replay, ttl_seconds=settings.idempotency_ttl_seconds
    )


@asynccontextmanager
async def held(request: Request, idem: Idempotency) -> AsyncIterator[Idempotency]:
    """Around the rest of the request: release the claim unless its outcome was committed."""
    claim = idem.claim
    engine: Engine = request.app.state.engine
    try:
        yield idem
    except BaseException:
        if claim is not None:
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(_release, engine, claim)
        raise
    if claim is not None and not idem.stored:
        await anyio.to_thread.run_sync(_release, engine, claim)


async def idempotency_key(request: Request, key: KeyHeader = None) -> AsyncIterator[Idempotency]:
    """The route's `Idempotency-Key` (the body is hashed for the request's fingerprint)."""
    body_sha256 = hashlib.sha256(await request.body()).hexdigest() if key is not None else ""
    idem = await begin_key(request, key=key, body_sha256=body_sha256)
    async with held(request, idem):
        yield idem


# scope="function": released (or kept) right after the session dependency has committed or
# rolled back, before the response is sent.
IdempotencyDep = Annotated[Idempotency, Depends(idempotency_key, scope="function")]
