"""Logging: structlog for our own lines, the standard library's loggers routed through the
same processors, and one access-log line per request.

What a log line never contains: bearer tokens, passwords, client secrets, signing keys or
portion text. `redact` masks every key that names such a thing (`authorization`, `password`,
`token`, `secret`, `text`, ...) and any value that looks like a JWT or a bearer header,
whoever logged it; tracebacks are rendered without local variables.
"""

from __future__ import annotations

import functools
import logging
import re
import sys
import time
from collections.abc import MutableMapping
from typing import Any, TextIO

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from structlog.typing import EventDict, Processor, WrappedLogger

from service.request_context import current_request_id
from service.settings import Settings

REDACTED = "[redacted]"
SENSITIVE_KEY_PARTS = (
    "authorization",
    "password",
    "passwd",
    "token",
    "secret",
    "cookie",
    "credential",
    "private_key",
    "api_key",
    "text",
    "body",
)
_SENSITIVE_KEY = re.compile("|".join(map(re.escape, SENSITIVE_KEY_PARTS)))
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*")
_BEARER = re.compile(r"(?i)\bbearer\s+\S+")
# Every string that either pattern above could match contains one of these: one search
# rules most strings out (every line is redacted twice; most values are short and clean).
_SUSPECT = re.compile(r"eyJ|bearer", re.IGNORECASE)
_HANDLER_MARK = "_declass_handler"

access_log = structlog.get_logger("declass.access")


@functools.lru_cache(maxsize=1024)  # log keys are a small set, named in the code
def _is_sensitive(key: str) -> bool:
    return _SENSITIVE_KEY.search(key.lower()) is not None


def _scrub(value: Any) -> Any:
    if isinstance(value, str):
        if _SUSPECT.search(value) is None:
            return value
        return _BEARER.sub("Bearer " + REDACTED, _JWT.sub(REDACTED, value))
    if value is None or isinstance(value, int | float):  # before the slower ABC check
        return value
    if isinstance(value, MutableMapping):
        return {
            key: REDACTED if _is_sensitive(str(key)) else _scrub(item)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [_scrub(item) for item in value]
    return value


def redact(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    """Mask sensitive keys (at any depth) and token-shaped strings in every log event."""
    for key in list(event_dict):
        if key == "event":
            event_dict[key] = _scrub(event_dict[key])
        elif _is_sensitive(key):
            event_dict[key] = REDACTED
        else:
            event_dict[key] = _scrub(event_dict[key])
    return event_dict


def add_request_id(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    request_id = current_request_id()
    if request_id is not None:
        event_dict.setdefault("request_id", request_id)
    return event_dict


def _shared_processors() -> list[Processor]:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        add_request_id,
        redact,
    ]


def build_formatter(settings: Settings) -> logging.Formatter:
    """The formatter every handler of ours uses: JSON lines or a console layout."""
    renderer: Processor
    if settings.resolved_log_format() == "json":
        renderer = structlog.processors.JSONRenderer()
    else:
        renderer = structlog.dev.ConsoleRenderer(
            colors=False, exception_formatter=structlog.dev.plain_traceback
        )
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=_shared_processors(),
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            # Tracebacks become plain text (no local variables) before redaction.
            structlog.processors.format_exc_info,
            redact,
            renderer,
        ],
    )


def configure_logging(settings: Settings, *, stream: TextIO | None = None) -> None:
    """Route structlog and the standard library through one handler on the root logger.

    Idempotent: a second call replaces our handler and leaves other handlers (pytest's log
    capture, for one) alone."""
    structlog.configure(
        processors=[
            *_shared_processors(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, _HANDLER_MARK, False):
            root.removeHandler(handler)
    handler = logging.StreamHandler(stream or sys.stderr)
    setattr(handler, _HANDLER_MARK, True)
    handler.setFormatter(build_formatter(settings))
    root.addHandler(handler)
    root.setLevel(settings.log_level)
    # Our access log replaces uvicorn's, which would log raw paths and query strings.
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)


class AccessLogMiddleware:
    """Pure ASGI: one line per HTTP request, after the response: request_id, method, route
    template (not the raw path), status, duration_ms and actor (the caller's name, left in
    the request state by authentication)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        state = scope.setdefault("state", {})
        status = 500

        async def send_and_watch(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_and_watch)
        finally:
            route = scope.get("route")
            access_log.info(
                "request",
                request_id=current_request_id(),
                method=scope.get("method"),
                route=getattr(route, "path", None) or "(unmatched)",
                status=status,
                duration_ms=round((time.perf_counter() - started) * 1000, 2),
                actor=state.get("actor") if isinstance(state, MutableMapping) else None,
            )
