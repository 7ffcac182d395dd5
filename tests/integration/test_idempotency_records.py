"""service/idempotency/service.py on a real database (SQLite and PostgreSQL): a claim whose
lock lapsed is taken over and the late original can no longer complete (so its effect rolls
back); release frees a key; expired records are ignored and pruned; the fingerprint covers
method, route, path parameters, query, body and If-Match."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, func, select
from sqlmodel import Session

from service.db import unit_of_work
from service.errors import Conflict, Unprocessable
from service.idempotency import service
from service.idempotency.models import IdempotencyRecord
from service.idempotency.service import Begun, StoredResponse

T0 = datetime(2026, 11, 29, 12, tzinfo=UTC)
DAY = 86_400
FP = "a" * 64
OK = StoredResponse(201, {"location": "/x/1", "content-type": "application/json"}, b'{"id":1}')


def _begin(
    engine: Engine, *, at: datetime, key: str = "k", fp: str = FP, sub: str = "user:1"
) -> Begun:
    with unit_of_work(engine) as session:
        return service.begin(
            session,
            principal_sub=sub,
            key=key,
            fingerprint=fp,
            route="POST /x",
            ttl_seconds=DAY,
            lock_seconds=60,
            write=True,
            now=at,
        )


def _count(engine: Engine) -> int:
    with Session(engine) as session:
        return int(session.execute(select(func.count()).select_from(IdempotencyRecord)).one()[0])


def test_a_lapsed_claim_is_taken_over_and_the_original_cannot_complete(engine: Engine) -> None:
    first = _begin(engine, at=T0)
    assert first.claim is not None
    with pytest.raises(Conflict):
        _begin(engine, at=T0 + timedelta(seconds=59))
    second = _begin(engine, at=T0 + timedelta(seconds=61))
    assert second.claim is not None
    assert second.claim.record_id == first.claim.record_id
    assert second.claim.token != first.claim.token
    with pytest.raises(Conflict), unit_of_work(engine) as session:
        service.complete(session, claim=first.claim, response=OK, ttl_seconds=DAY)
    with unit_of_work(engine) as session:
        service.complete(session, claim=second.claim, response=OK, ttl_seconds=DAY)
    replay = _begin(engine, at=T0 + timedelta(seconds=62))
    assert replay == Begun(replay=OK)


def test_other_requests_other_principals_and_released_keys(engine: Engine) -> None:
    begun = _begin(engine, at=T0)
    assert begun.claim is not None
    with pytest.raises(Unprocessable):  # another fingerprint, even while in flight
        _begin(engine, at=T0, fp="b" * 64)
    assert _begin(engine, at=T0, sub="user:2").claim is not None  # another principal
    assert _count(engine) == 2
    with unit_of_work(engine) as session:
        service.release(session, claim=begun.claim)
    assert _count(engine) == 1
    assert _begin(engine, at=T0, fp="b" * 64).claim is not None  # the key is free again


def test_expired_records_are_ignored_and_pruned(engine: Engine) -> None:
    old = _begin(engine, at=T0, key="old")
    assert old.claim is not None
    with unit_of_work(engine) as session:
        service.complete(session, claim=old.claim, response=OK, ttl_seconds=DAY)
    with unit_of_work(engine) as session:
        (expires_at,) = session.execute(select(IdempotencyRecord.expires_at)).one()
    assert expires_at >= datetime.now(UTC) + timedelta(seconds=DAY - 60)
    later = expires_at + timedelta(seconds=1)
    with unit_of_work(engine) as session:
        assert service.prune(session, now=later - timedelta(seconds=2)) == 0
    assert _begin(engine, at=later, key="new").claim is not None  # a claim prunes
    assert _count(engine) == 1
    again = _begin(engine, at=later, key="old", fp="b" * 64)  # no 422: expired
    assert again.claim is not None
    with unit_of_work(engine) as session:
        assert service.prune(session, now=later + timedelta(seconds=2 * DAY)) == 2


def test_the_fingerprint_covers_every_part_of_the_request() -> None:
    base = {
        "method": "PUT",
        "route": "/api/v1/cables/{ref_id}/portions/{seq}/decision",
        "path_params": {"ref_id": "07TOKYO5624", "seq": "5"},
        "query": [],
        "body_sha256": "0" * 64,
        "if_match": '"3"',
    }
    reference = service.fingerprint(**base)  # type: ignore[arg-type]
    assert reference == service.fingerprint(**{**base, "method": "put"})  # type: ignore[arg-type]
    changes = [
        {"method": "POST"},
        {"route": "/api/v1/webhooks"},
        {"path_params": {"ref_id": "07TOKYO5624", "seq": "6"}},
        {"query": [("format", "csv")]},
        {"body_sha256": "1" * 64},
        {"if_match": '"4"'},
        {"if_match": None},
    ]
    for change in changes:
        assert service.fingerprint(**{**base, **change}) != reference, change  # type: ignore[arg-type]
