"""Request-scoped dependencies shared by every router: the database session (one
transaction per request, committed before the response is sent) and the settings."""

from __future__ import annotations

from collections.abc import AsyncIterator
from functools import partial
from typing import Annotated

import anyio
from anyio import CancelScope, CapacityLimiter
from fastapi import Depends, Path, Query, Request
from sqlmodel import Session

from service.db import open_session
from service.settings import Settings

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _end(session: Session, *, commit: bool) -> None:
    try:
        if commit:
            session.commit()
        else:
            session.rollback()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


async def get_session(request: Request) -> AsyncIterator[Session]:
    """A session for this request; commits after the route returns, before the response.

    Reads open a plain transaction; anything else is a writer (`BEGIN IMMEDIATE` on
    SQLite) so concurrent writers queue instead of failing mid-transaction. The writer's
    transaction (and on SQLite the write lock) begins at the route's first statement, not
    here: authentication (`current_principal` reads the account in its own short read
    transaction; a `Caller` route reads it in its read phase) and body validation happen
    before it, outside the lock.

    Opening a session does no I/O (the transaction begins at the first statement), so this
    runs on the event loop; only the commit (or rollback) and close go to a worker thread,
    shielded from cancellation and outside the thread pool's limit (as FastAPI does for
    sync generator dependencies), so a full pool cannot keep a writer from ending.
    """
    write = request.method not in READ_METHODS
    session = open_session(request.app.state.engine, write=write, lazy=write)
    try:
        yield session
    except BaseException:
        with CancelScope(shield=True):
            await anyio.to_thread.run_sync(
                partial(_end, session, commit=False), limiter=CapacityLimiter(1)
            )
        raise
    if not session.in_transaction():
        # The route committed already (every router's `service.routes.CommittingRoute`
        # does when the route returns) and nothing began since: closing does no I/O, so it
        # needs no thread.
        session.close()
        return
    with CancelScope(shield=True):
        await anyio.to_thread.run_sync(
            partial(_end, session, commit=True), limiter=CapacityLimiter(1)
        )


async def get_settings(request: Request) -> Settings:
    """The app's settings (async: no I/O, so no hop to a worker thread)."""
    settings: Settings = request.app.state.settings
    return settings


SessionDep = Annotated[Session, Depends(get_session, scope="function")]
SettingsDep = Annotated[Settings, Depends(get_settings)]

# The paging parameters of every list endpoint: `limit: PageLimit = 50, cursor: PageCursor = None`.
PageLimit = Annotated[int, Query(ge=1, le=500)]
PageCursor = Annotated[str | None, Query(max_length=512)]

# Integer ids are INTEGER columns: a larger number is a 422 here, not a driver error (500).
MAX_ID = 2**31 - 1
IdPath = Annotated[int, Path(ge=1, le=MAX_ID)]
