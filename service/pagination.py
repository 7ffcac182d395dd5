"""Cursor pagination shared by every list endpoint.

Cursors are opaque to clients (base64url of a small JSON object naming the last key seen), so
pages are stable while rows are added: a page never repeats or skips a row that existed when
the first page was read.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any, Generic, TypeVar

from pydantic import BaseModel
from starlette.datastructures import URL

from service.errors import BadRequest

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


def encode_cursor(key: dict[str, Any]) -> str:
    raw = json.dumps(key, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None, *, fields: tuple[str, ...]) -> dict[str, Any] | None:
    """Decode a cursor made by `encode_cursor`, or raise a 400 problem naming the parameter."""
    if cursor is None:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        key = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise BadRequest("cursor is not one this service issued") from None
    if not isinstance(key, dict) or set(key) != set(fields):
        raise BadRequest("cursor is not one this service issued")
    return key


def next_link(url: URL, next_cursor: str | None) -> dict[str, str]:
    """The `Link: <...>; rel="next"` header for a page, or nothing on the last page."""
    if next_cursor is None:
        return {}
    return {"Link": f'<{url.include_query_params(cursor=next_cursor)}>; rel="next"'}
