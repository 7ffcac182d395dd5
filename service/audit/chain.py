"""PURE: the canonical serialisation and hash of one audit event (no database, no FastAPI).

Invariants:
- `canonical_json` is deterministic: sorted keys, no whitespace, UTF-8, no NaN/Infinity;
  timestamps are ISO 8601 UTC with microseconds and a `Z` suffix.
- `event_hash` = SHA-256 (hex) of `canonical_json` of the hashed fields, which include
  `prev_hash`, so each event commits to the whole chain before it.
- `normalise_detail` returns what the database will give back (a JSON round trip), so the
  hash computed at insert time is the hash the verifier recomputes from the stored row.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

HASHED_FIELDS: tuple[str, ...] = (
    "seq",
    "at",
    "actor",
    "actor_sub",
    "action",
    "entity",
    "entity_id",
    "ref_id",
    "detail",
    "request_id",
    "prev_hash",
)


def format_at(at: datetime) -> str:
    """The canonical spelling of an event time (refuses naive datetimes)."""
    if at.tzinfo is None:
        raise ValueError("audit timestamps must be timezone-aware")
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _default(value: object) -> str:
    if isinstance(value, datetime):
        return format_at(value)
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"audit detail holds a {type(value).__name__}, which is not JSON")


def canonical_json(value: object) -> str:
    """Deterministic JSON text for hashing and storing."""
    return json.dumps(
        value,
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
        default=_default,
    )


def _portable(value: Any) -> Any:
    # Shapes both databases store and give back unchanged: PostgreSQL's JSONB returns an
    # integral float (1e16, -0.0) as an integer and refuses NUL characters.
    if isinstance(value, dict):
        return {key: _portable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_portable(item) for item in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and "\x00" in value:
        raise ValueError("audit detail strings may not contain NUL characters")
    return value


def normalise_detail(detail: Mapping[str, Any] | None) -> dict[str, Any]:
    """`detail` as the database will return it: plain JSON values (dates become ISO strings,
    integral floats integers). Raises TypeError/ValueError for values JSON cannot carry."""
    if detail is None:
        return {}
    normal = _portable(json.loads(canonical_json(dict(detail))))
    assert isinstance(normal, dict)
    return normal


def hashed_payload(fields: Mapping[str, Any]) -> dict[str, Any]:
    """The exact fields the hash covers, in canonical form."""
    payload = {name: fields[name] for name in HASHED_FIELDS}
    payload["at"] = format_at(fields["at"])
    return payload


def event_hash(fields: Mapping[str, Any]) -> str:
    """SHA-256 (hex) over the canonical JSON of the hashed fields (`prev_hash` included)."""
    return hashlib.sha256(canonical_json(hashed_payload(fields)).encode("utf-8")).hexdigest()
