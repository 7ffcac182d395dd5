"""Idempotency records: claim a key, complete it with the response, release it, prune.

Guarantees (draft-ietf-httpapi-idempotency-key-header; docs/reliability.md):

* a key belongs to one principal (`principal_sub`): another principal's identical key is
  another record;
* `begin` on a key whose record has a different fingerprint raises Unprocessable (422);
  on a key whose request is still in flight (claimed, lock not yet lapsed) raises Conflict
  (409); on a completed key returns the stored response to replay;
* otherwise it claims the key: a row in state `in_progress`, committed by the caller before
  the handler runs, so other requests (any process) see it;
* `complete` turns the claim into a completed record in the caller's transaction, the one
  holding the request's effect, and only while the claim is still the caller's
  (compare-and-set on `claim_token`), so a record exists exactly when its effect does;
* a claim whose request died (the lock lapsed) may be taken over by the next request; rows
  past `expires_at` are deleted by `prune` and ignored by `begin`.

Nothing here logs a stored response: it can hold a webhook signing secret.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from service.errors import Conflict, Unprocessable
from service.idempotency.models import IdempotencyRecord, RecordState
from service.orm import utcnow


@dataclass(frozen=True, slots=True)
class StoredResponse:
    status_code: int
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True, slots=True)
class Claim:
    record_id: int
    token: str


@dataclass(frozen=True, slots=True)
class Begun:
    """What `begin` decided: replay `replay`, or run the handler under `claim`. Both None
    means a read-only `begin` found that a claim must be written."""

    claim: Claim | None = None
    replay: StoredResponse | None = None


def fingerprint(
    *,
    method: str,
    route: str,
    path_params: Mapping[str, str],
    query: Sequence[tuple[str, str]],
    body_sha256: str,
    if_match: str | None,
) -> str:
    """The SHA-256 of what makes two requests "the same request"."""
    parts = [
        method.upper(),
        route,
        sorted(path_params.items()),
        sorted(query),
        body_sha256,
        if_match or "",
    ]
    return hashlib.sha256(json.dumps(parts, separators=(",", ":")).encode()).hexdigest()


def begin(
    session: Session,
    *,
    principal_sub: str,
    key: str,
    fingerprint: str,
    route: str,
    ttl_seconds: int,
    lock_seconds: float,
    write: bool,
    now: datetime | None = None,
) -> Begun:
    """Decide what a request carrying `key` does (see the module docstring).

    With `write=False` nothing is written: a key that needs claiming gives `Begun()`.
    Raises Conflict (409, in flight) or Unprocessable (422, another request's key)."""
    now = now or utcnow()
    statement = select(IdempotencyRecord).where(
        col(IdempotencyRecord.principal_sub) == principal_sub, col(IdempotencyRecord.key) == key
    )
    row = session.execute(statement.with_for_update() if write else statement).scalar_one_or_none()
    if row is not None and row.expires_at <= now:
        if not write:
            return Begun()
        session.delete(row)
        session.flush()
        row = None
    if row is not None:
        if row.fingerprint != fingerprint:
            raise Unprocessable(
                "This Idempotency-Key was already used for a different request",
                extra={"idempotency_key": key},
            )
        if row.state == RecordState.completed:
            assert row.status_code is not None
            assert row.response_body is not None
            return Begun(
                replay=StoredResponse(
                    row.status_code, dict(row.response_headers or {}), bytes(row.response_body)
                )
            )
        if row.locked_until > now:
            raise Conflict(
                "A request with this Idempotency-Key is still in progress; retry later",
                headers={"Retry-After": str(max(1, int((row.locked_until - now).total_seconds())))},
            )
    if not write:
        return Begun()
    token = secrets.token_hex(16)
    locked_until = now + timedelta(seconds=lock_seconds)
    if row is not None:  # the claim's request died: take it over
        row.claim_token = token
        row.locked_until = locked_until
        session.add(row)
        session.flush()
        assert row.id is not None
        return Begun(claim=Claim(row.id, token))
    prune(session, now=now)
    record = IdempotencyRecord.model_validate(
        {
            "principal_sub": principal_sub,
            "key": key,
            "fingerprint": fingerprint,
            "route": route[:255],
            "state": RecordState.in_progress,
            "claim_token": token,
            "locked_until": locked_until,
            "created_at": now,
            "expires_at": now + timedelta(seconds=ttl_seconds),
        }
    )
    try:
        with session.begin_nested():
            session.add(record)
            session.flush()
    except IntegrityError:
        # Another request inserted this key and committed since our read: it is in flight.
        raise Conflict(
            "A request with this Idempotency-Key is still in progress; retry later",
            headers={"Retry-After": "1"},
        ) from None
    assert record.id is not None
    return Begun(claim=Claim(record.id, token))


def complete(session: Session, *, claim: Claim, response: StoredResponse, ttl_seconds: int) -> None:
    """Store `response` as the key's outcome in the caller's transaction (the effect's).

    Raises Conflict when the claim is no longer the caller's (its lock lapsed and another
    request took it over): the caller's transaction must then roll back."""
    now = utcnow()
    result = session.execute(
        update(IdempotencyRecord)
        .where(
            col(IdempotencyRecord.id) == claim.record_id,
            col(IdempotencyRecord.claim_token) == claim.token,
            col(IdempotencyRecord.state) == RecordState.in_progress,
        )
        .values(
            state=RecordState.completed,
            status_code=response.status_code,
            response_headers=response.headers,
            response_body=response.body,
            completed_at=now,
            expires_at=now + timedelta(seconds=ttl_seconds),
        )
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict("This request's Idempotency-Key was taken over by a retry; nothing was done")


def release(session: Session, *, claim: Claim) -> None:
    """Forget a claim whose request ended without a stored outcome (nothing was done)."""
    session.execute(
        delete(IdempotencyRecord)
        .where(
            col(IdempotencyRecord.id) == claim.record_id,
            col(IdempotencyRecord.claim_token) == claim.token,
            col(IdempotencyRecord.state) == RecordState.in_progress,
        )
        .execution_options(synchronize_session=False)
    )


def prune(session: Session, *, now: datetime | None = None) -> int:
    """Delete every record past its `expires_at`; returns how many."""
    result = session.execute(
        delete(IdempotencyRecord)
        .where(col(IdempotencyRecord.expires_at) <= (now or utcnow()))
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
