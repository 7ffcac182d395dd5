"""Failed-login throttling, and a request budget per principal for expensive queries.

Failed logins: a sliding window per username and per client address.

Only failures count. When either key has used its budget
(`settings.login_attempts_per_window` failures within `settings.login_window_seconds`),
further attempts are refused with 429 and `Retry-After` until the oldest failure leaves the
window, before any password is checked.

The windows live in this process's memory, guarded by a lock (routes run in a thread pool).
Several server processes each keep their own windows, so the effective budget is multiplied
by the number of processes; a shared store (the database or Redis) would be needed to make
it global. A restart forgets every window.

Expensive queries (`QueryBudgetMiddleware`): cable search with `q`, the audit listings and
verification, the schedule's CSV exports and calendar feed, and release rendering each
have a budget of `settings.expensive_requests_per_window` requests per
`settings.expensive_window_seconds` per principal (the token's subject; the calendar
feed's own token for the feed). Past it: 429 problem+json with `Retry-After`, before the
route runs. The same per-process caveat applies.
"""

from __future__ import annotations

import hashlib
import math
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from urllib.parse import parse_qs

from starlette.types import ASGIApp, Receive, Scope, Send

from service.errors import problem
from service.settings import Settings

MAX_TRACKED_KEYS = 100_000


class SlidingWindow:
    """Counts events per key over the last `window_seconds`; thread-safe."""

    def __init__(
        self, *, limit: int, window_seconds: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit = limit
        self.window = window_seconds
        self.clock = clock
        self._events: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _prune(self, key: str, now: float) -> deque[float] | None:
        events = self._events.get(key)
        if events is None:
            return None
        while events and events[0] <= now - self.window:
            events.popleft()
        if not events:
            del self._events[key]
            return None
        return events

    def retry_after(self, key: str) -> int | None:
        """Seconds until `key` may try again, or None when it is within its budget."""
        with self._lock:
            now = self.clock()
            events = self._prune(key, now)
            if events is None or len(events) < self.limit:
                return None
            return max(1, math.ceil(events[0] + self.window - now))

    def hit(self, key: str) -> None:
        """Count one event for `key`."""
        with self._lock:
            now = self.clock()
            events = self._prune(key, now)
            if events is None:
                if len(self._events) >= MAX_TRACKED_KEYS:
                    self._evict(now)
                events = self._events.setdefault(key, deque())
            events.append(now)

    def acquire(self, key: str) -> int | None:
        """Count one event for `key` if it is within its budget (None), else the seconds
        until it may try again (nothing counted); one atomic step."""
        with self._lock:
            now = self.clock()
            events = self._prune(key, now)
            if events is not None and len(events) >= self.limit:
                return max(1, math.ceil(events[0] + self.window - now))
            if events is None:
                if len(self._events) >= MAX_TRACKED_KEYS:
                    self._evict(now)
                events = self._events.setdefault(key, deque())
            events.append(now)
            return None

    def reset(self, key: str) -> None:
        with self._lock:
            self._events.pop(key, None)

    def _evict(self, now: float) -> None:
        # Bound memory under a flood of distinct keys: drop expired keys, then the oldest.
        for key in list(self._events):
            self._prune(key, now)
        while len(self._events) >= MAX_TRACKED_KEYS:
            oldest = min(self._events, key=lambda k: self._events[k][-1])
            del self._events[oldest]


class LoginThrottle:
    """Failed-login budgets per username (case-insensitive) and per client address."""

    def __init__(self, settings: Settings, *, clock: Callable[[], float] = time.monotonic) -> None:
        def window() -> SlidingWindow:
            return SlidingWindow(
                limit=settings.login_attempts_per_window,
                window_seconds=settings.login_window_seconds,
                clock=clock,
            )

        self.by_username = window()
        self.by_address = window()

    def retry_after(self, *, username: str, address: str) -> int | None:
        """Seconds to wait when either budget is spent, else None."""
        waits = [
            self.by_username.retry_after(username.casefold()),
            self.by_address.retry_after(address),
        ]
        spent = [wait for wait in waits if wait is not None]
        return max(spent) if spent else None

    def failed(self, *, username: str, address: str) -> None:
        self.by_username.hit(username.casefold())
        self.by_address.hit(address)

    def succeeded(self, *, username: str) -> None:
        """A correct password clears that username's failures (not the address's)."""
        self.by_username.reset(username.casefold())


# (method, path pattern) of the expensive operations, and the budget each one draws on.
_REF = r"[^/]+"
EXPENSIVE_OPERATIONS: tuple[tuple[str, str, str], ...] = (
    ("GET", "/api/v1/cables", "search"),
    ("GET", "/api/v1/audit", "audit"),
    ("GET", "/api/v1/audit/verify", "audit"),
    ("GET", "/api/v1/cables/{ref_id}/audit", "audit"),
    ("GET", "/api/v1/schedule/due", "schedule-export"),
    ("GET", "/api/v1/schedule/overdue", "schedule-export"),
    ("GET", "/api/v1/schedule/calendar.ics", "schedule-export"),
    ("GET", "/api/v1/cables/{ref_id}/release", "release"),
)
_PATTERNS = tuple(
    (method, re.compile("^" + path.replace("{ref_id}", _REF) + "$"), group)
    for method, path, group in EXPENSIVE_OPERATIONS
)


def expensive_group(method: str, path: str, query: dict[str, list[str]]) -> str | None:
    """The budget a request draws on, or None when it is not an expensive query.

    Cable listing is expensive only with a search (`q`); the schedule lists only as CSV."""
    for want, pattern, group in _PATTERNS:
        if method != want or not pattern.match(path):
            continue
        if path == "/api/v1/cables" and not any(v.strip() for v in query.get("q", [])):
            return None
        if path.endswith(("/due", "/overdue")) and query.get("format", [""])[-1] != "csv":
            return None
        return group
    return None


class QueryBudgetMiddleware:
    """Pure ASGI: a request budget per principal and per kind of expensive query (429 with
    `Retry-After` past it). Sits inside the bearer gate, so the verified claims are known."""

    def __init__(self, app: ASGIApp, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.app = app
        self.clock = clock
        self._windows: dict[str, SlidingWindow] = {}
        self._lock = threading.Lock()

    def _window(self, settings: Settings, group: str) -> SlidingWindow:
        with self._lock:
            window = self._windows.get(group)
            if window is None:
                window = SlidingWindow(
                    limit=settings.expensive_requests_per_window,
                    window_seconds=settings.expensive_window_seconds,
                    clock=self.clock,
                )
                self._windows[group] = window
            return window

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        query = parse_qs(scope["query_string"].decode("latin-1"))
        group = expensive_group(scope["method"], scope.get("path", ""), query)
        if group is None:
            await self.app(scope, receive, send)
            return
        settings: Settings = scope["app"].state.settings
        wait = self._window(settings, group).acquire(_principal_key(scope, query))
        if wait is None:
            await self.app(scope, receive, send)
            return
        response = problem(
            429,
            f"Too many {group} requests; try again in {wait} s",
            slug="too-many-requests",
            headers={"Retry-After": str(wait)},
        )
        await response(scope, receive, send)


def _principal_key(scope: Scope, query: dict[str, list[str]]) -> str:
    claims = scope.get("state", {}).get("claims")
    if claims is not None:
        return f"sub:{claims.sub}"
    token = query.get("token", [""])[-1]
    if token:  # the calendar feed authenticates with its own token
        return "feed:" + hashlib.sha256(token.encode()).hexdigest()[:32]
    client = scope.get("client")
    return f"addr:{client[0] if client else '-'}"
