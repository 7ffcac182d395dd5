"""Pure ASGI middleware (no BaseHTTPMiddleware): request ids, security headers, request
body limits, and the refusal of NUL characters (which no column can store: PostgreSQL
rejects them in text)."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Iterator, Mapping
from typing import Any
from urllib.parse import unquote_to_bytes

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.errors import PROBLEM_JSON, TYPE_BASE
from service.request_context import request_id_var
from service.settings import Settings

REQUEST_ID_HEADER = b"x-request-id"
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


class RequestIdMiddleware:
    """Takes a well-formed `X-Request-ID` from the client or makes one; echoes it back."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope["headers"]).get(REQUEST_ID_HEADER, b"").decode("latin-1")
        request_id = given if _VALID_REQUEST_ID.match(given) else uuid.uuid4().hex
        token = request_id_var.set(request_id)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.append((REQUEST_ID_HEADER, request_id.encode()))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            request_id_var.reset(token)


class SecurityHeadersMiddleware:
    """`X-Content-Type-Options: nosniff` on every response, and `Cache-Control: no-store` on
    every `/api/` response whose route did not choose its own caching: API responses carry
    cable text a shared cache must never keep."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        api = scope.get("path", "").startswith("/api/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {name.lower() for name, _value in headers}
                if b"x-content-type-options" not in names:
                    headers.append((b"x-content-type-options", b"nosniff"))
                if api and b"cache-control" not in names:
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _problem_413(limit: int) -> tuple[bytes, list[tuple[bytes, bytes]]]:
    body = json.dumps(
        {
            "type": TYPE_BASE + "payload-too-large",
            "title": "Content Too Large",
            "status": 413,
            "detail": f"The request body is larger than the limit of {limit} bytes",
        }
    ).encode()
    return body, [
        (b"content-type", PROBLEM_JSON.encode()),
        (b"content-length", str(len(body)).encode()),
    ]


CABLE_INGEST_PATH = "/api/v1/cables"
STREAMED_PATHS = ("/api/v1/imports",)


def route_body_limits(settings: Settings) -> Callable[[str], int | None]:
    """The body limit of each path: cable ingest takes `max_body_bytes` (1 MiB: cable text),
    bulk imports stream to disk under their own cap (`import_max_bytes`, so None here), and
    every other route, all JSON or form bodies, takes `max_json_body_bytes` (64 KiB)."""

    def limit_for(path: str) -> int | None:
        if path.startswith(STREAMED_PATHS):
            return None
        if path.rstrip("/") == CABLE_INGEST_PATH:
            return settings.max_body_bytes
        return settings.max_json_body_bytes

    return limit_for


class BodyLimitMiddleware:
    """Rejects request bodies over a limit with a 413 problem before the route reads them.

    `limit_for(path)` gives the limit for a path (`None`: no limit here, the route streams
    the body and enforces its own). Both a declared `Content-Length` and the bytes actually
    received are checked, so a chunked upload cannot slip past.
    """

    def __init__(self, app: ASGIApp, *, limit_for: Callable[[str], int | None]) -> None:
        self.app = app
        self.limit_for = limit_for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        limit = self.limit_for(scope.get("path", "")) if scope["type"] == "http" else None
        if limit is None:
            await self.app(scope, receive, send)
            return
        headers: Mapping[bytes, bytes] = dict(scope["headers"])
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await self._reject(send, limit)
            return
        received = 0
        too_large = False
        replaced = False

        async def limited_receive() -> Message:
            nonlocal received, too_large
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    too_large = True
                    raise BodyTooLarge(limit)
            return message

        async def guarded_send(message: Message) -> None:
            # Whatever the app made of the aborted read (a 400 from a JSON body parser, a
            # 500 from the unexpected exception), the client is told the real reason.
            nonlocal replaced
            if message["type"] == "http.response.start" and too_large:
                replaced = True
                await self._reject(send, limit)
                return
            if replaced:
                return
            await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except BodyTooLarge:
            if not replaced:
                await self._reject(send, limit)

    @staticmethod
    async def _reject(send: Send, limit: int) -> None:
        body, headers = _problem_413(limit)
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": body})


class BodyTooLarge(Exception):
    """Raised from `receive` when the body passes the limit."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"request body over {limit} bytes")
        self.limit = limit


NUL_CHECKED_TYPES = (b"application/json", b"application/x-www-form-urlencoded")


def json_strings(value: Any) -> Iterator[str]:
    """Every string in a decoded JSON document, object keys included."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from json_strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from json_strings(item)


def _json_has_nul(body: bytes) -> bool:
    if b"\\u0000" not in body:  # the only way a NUL can be inside a JSON string
        return False
    try:
        document = json.loads(body)
    except ValueError:
        return False  # not JSON: the route's parser reports it
    return any("\x00" in text for text in json_strings(document))


def _has_nul(scope: Scope, content_type: bytes, body: bytes) -> bool:
    if "\x00" in scope.get("path", "") or b"\x00" in unquote_to_bytes(scope["query_string"]):
        return True
    if content_type.startswith(b"application/json"):
        return _json_has_nul(body)
    if content_type.startswith(b"application/x-www-form-urlencoded"):
        return b"\x00" in unquote_to_bytes(body)
    return False


class NulGuardMiddleware:
    """Refuses a NUL character in the path, the query or a JSON or form body with a 422
    problem, before any route sees it.

    PostgreSQL cannot store NUL in text (a query with one fails as a 500), and no field of
    this API has a use for it. Cable text and bulk imports are not touched here: their
    parsers refuse NUL themselves, line by line. JSON and form bodies are read whole here
    (they are small: the body limit runs outside this middleware) and replayed to the app.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        content_type = dict(scope["headers"]).get(b"content-type", b"").lower()
        checked = content_type.startswith(NUL_CHECKED_TYPES)
        chunks: list[bytes] = []
        if checked:
            more = True
            while more:
                message = await receive()
                if message["type"] != "http.request":
                    break
                chunks.append(message.get("body", b""))
                more = message.get("more_body", False)
        body = b"".join(chunks)
        if _has_nul(scope, content_type, body):
            await _reject_nul(send)
            return
        if not checked:
            await self.app(scope, receive, send)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


async def _reject_nul(send: Send) -> None:
    body = json.dumps(
        {
            "type": TYPE_BASE + "validation-error",
            "title": "Unprocessable Entity",
            "status": 422,
            "detail": "The request contains a NUL character, which no field accepts",
        }
    ).encode()
    headers = [
        (b"content-type", PROBLEM_JSON.encode()),
        (b"content-length", str(len(body)).encode()),
    ]
    await send({"type": "http.response.start", "status": 422, "headers": headers})
    await send({"type": "http.response.body", "body": body})
