"""Every route's transaction ends in the route's own worker thread (service/routes.py), so a
SQLite writer never holds the writer lock while it waits for a free worker thread; and the
worker-thread pool is sized by `DECLASS_WORKER_THREADS`."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import anyio
import pytest
from audit_helpers import synthetic_cable
from factories import make_principal_headers
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy import Engine, inspect, text
from sqlmodel import Session

from service.auth.models import Role
from service.db import SessionFinished, open_session, unit_of_work
from service.main import create_app
from service.routes import CommittingRoute, committing
from service.settings import Settings


@pytest.fixture
def small_pool_client(settings: Settings) -> Iterator[TestClient]:
    # Two worker threads, and a writer gives up after 1.5 s: a stall shows as 503s.
    small = settings.model_copy(update={"worker_threads": 2, "sqlite_busy_timeout_ms": 1500})
    with TestClient(create_app(small)) as client:
        yield client


def test_every_route_of_the_app_commits_in_its_own_thread(app: FastAPI) -> None:
    routes = [c.route for c in iter_route_contexts(app.routes) if isinstance(c.route, APIRoute)]
    assert len(routes) > 50  # FastAPI's own /docs and /openapi.json are not APIRoutes
    assert [route.path for route in routes if not isinstance(route, CommittingRoute)] == []
    assert all(getattr(route.endpoint, "commits_in_thread", False) for route in routes)


def test_the_pool_size_setting_is_the_serving_loops_thread_limit(
    small_pool_client: TestClient,
) -> None:
    def tokens() -> float:
        return anyio.to_thread.current_default_thread_limiter().total_tokens

    assert small_pool_client.portal is not None
    assert small_pool_client.portal.call(tokens) == 2


def test_concurrent_writers_on_a_two_thread_pool_all_succeed(
    small_pool_client: TestClient, engine: Engine
) -> None:
    # Before routes committed in their own thread, a SQLite writer held the writer lock
    # while FastAPI validated its response on the pool; with both threads taken by requests
    # waiting for the lock, those requests failed with 503 after the 1.5 s wait.
    headers = {
        **make_principal_headers(small_pool_client, engine, Role.integration),
        "Content-Type": "text/plain",
    }
    clients, per_client = 8, 12
    statuses: list[int] = []
    lock = threading.Lock()
    start = threading.Barrier(clients)

    def worker(first: int) -> None:
        start.wait()
        for serial in range(first, first + per_client):
            _ref_id, cable = synthetic_cable(7000 + serial)
            status = small_pool_client.post(
                "/api/v1/cables", content=cable.encode(), headers=headers
            ).status_code
            with lock:
                statuses.append(status)

    threads = [threading.Thread(target=worker, args=(n * per_client,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert statuses == [201] * clients * per_client
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT count(*) FROM cable")).scalar_one()
    assert stored == clients * per_client


def _ended(session: Session) -> bool:
    return not session.in_transaction()


@pytest.mark.parametrize("write", [True, False])
def test_nothing_runs_on_a_session_after_its_route_returned(engine: Engine, write: bool) -> None:
    session = open_session(engine, write=write, lazy=True)

    def route(session: Session) -> Session:
        session.execute(text("SELECT 1"))
        return session

    try:
        committing(route)(session=session)
        assert _ended(session)
        with pytest.raises(SessionFinished):
            session.execute(text("SELECT 2"))
    finally:
        session.close()
    # The refused statement took no lock and held no connection: a writer begins at once.
    with unit_of_work(engine) as other:
        assert other.execute(text("SELECT 3")).scalar_one() == 3


def test_a_route_that_returns_has_committed_before_its_response_is_built(engine: Engine) -> None:
    session = open_session(engine, write=True, lazy=True)
    seen: dict[str, Any] = {}

    def route(session: Session, n: int) -> int:
        session.execute(text("CREATE TABLE IF NOT EXISTS probe (n INTEGER)"))
        session.execute(text("INSERT INTO probe (n) VALUES (:n)"), {"n": n})
        seen["open_in_route"] = session.in_transaction()
        return n

    try:
        assert committing(route)(session=session, n=7) == 7
        assert seen == {"open_in_route": True}
        assert _ended(session)
    finally:
        session.close()
    with engine.connect() as conn:
        assert conn.execute(text("SELECT n FROM probe")).scalars().all() == [7]


def test_a_route_that_raises_commits_nothing(engine: Engine) -> None:
    session = open_session(engine, write=True, lazy=True)

    def route(session: Session) -> None:
        session.execute(text("CREATE TABLE IF NOT EXISTS probe (n INTEGER)"))
        session.execute(text("INSERT INTO probe (n) VALUES (1)"))
        raise LookupError("refused")

    try:
        with pytest.raises(LookupError):
            committing(route)(session=session)
        assert session.in_transaction()
        session.rollback()
    finally:
        session.close()
    # The table was created in the rolled-back transaction too (DDL is transactional on
    # both databases), so nothing of the route is left.
    assert not inspect(engine).has_table("probe")


async def _async_route() -> int:
    return 1


def test_async_routes_and_wrapped_routes_are_left_as_they_are() -> None:
    def route() -> int:
        return 1

    wrapped = committing(route)
    assert committing(_async_route) is _async_route
    assert committing(wrapped) is wrapped
    assert wrapped.__wrapped__ is route  # type: ignore[attr-defined]
    assert wrapped.__name__ == "route"
