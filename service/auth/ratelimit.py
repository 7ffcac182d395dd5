"""Failed-login throttling: a sliding window per username and per client address.

Only failures count. When either key has used its budget
(`settings.login_attempts_per_window` failures within `settings.login_window_seconds`),
further attempts are refused with 429 and `Retry-After` until the oldest failure leaves the
window, before any password is checked.

The windows live in this process's memory, guarded by a lock (routes run in a thread pool).
Several server processes each keep their own windows, so the effective budget is multiplied
by the number of processes; a shared store (the database or Redis) would be needed to make
it global. A restart forgets every window.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable

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
