"""The route class of every router: a route's transaction ends in the route's own thread.

FastAPI runs a sync route in a worker thread, then (in another hop to the thread pool)
validates what it returned against the response model, then exits `get_session`, which
commits. A writer that committed only there would hold its locks (on SQLite the
in-process writer lock and SQLite's own) across that second hop, and the hop needs a free
worker token: with every token held by requests waiting for the lock, nothing could run
until the waiters timed out (a 10 s stall and 503s, docs/reliability.md). So the route's
session commits as soon as the route returns, in the same thread: the lock holder never
waits for a token, and `get_session` then closes the session without a thread of its own.

A failed commit raises there, in the route, so it still becomes an error response, never a
2xx; a route that raises commits nothing (`get_session` rolls back).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from fastapi.routing import APIRoute
from sqlmodel import Session

from service.db import finish


def committing(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    """`endpoint`, which commits the request's session (if it is in a transaction) right
    after it returns, and then refuses any further statement on it (`db.finish`). An async
    endpoint is returned as it is (it runs on the event loop, and `get_session` commits
    it)."""
    if inspect.iscoroutinefunction(endpoint) or getattr(endpoint, "commits_in_thread", False):
        return endpoint

    @functools.wraps(endpoint)  # FastAPI reads the signature through __wrapped__
    def run(*args: Any, **kwargs: Any) -> Any:
        result = endpoint(*args, **kwargs)
        for value in kwargs.values():
            if isinstance(value, Session):
                finish(value)
        return result

    run.commits_in_thread = True  # type: ignore[attr-defined]
    return run


class CommittingRoute(APIRoute):
    """An `APIRoute` whose sync endpoint commits its session in its own thread (above)."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().__init__(path, committing(endpoint), **kwargs)
