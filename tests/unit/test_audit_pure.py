"""Pure parts of the audit log: canonical serialisation, hashing, the clearance filter on
details, checkpoint signatures; and a walk of the code showing no audit update or delete."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from service.audit.chain import HASHED_FIELDS, canonical_json, event_hash, normalise_detail
from service.audit.checkpoint import Checkpoint, sign
from service.audit.views import level_tagged, visible_detail
from service.auth.principal import Principal, PrincipalKind
from service.markings import Level

SERVICE = Path(__file__).resolve().parents[2] / "service"

FIELDS = {
    "seq": 1,
    "at": datetime(2007, 12, 20, 7, 53, tzinfo=UTC),
    "actor": "alice",
    "actor_sub": "user:1",
    "action": "portion.decided",
    "entity": "portion",
    "entity_id": "07TOKYO5624/3",
    "ref_id": "07TOKYO5624",
    "detail": {"decision": {"old": None, "new": "release"}},
    "request_id": "r1",
    "prev_hash": "0" * 64,
}


def _principal(clearance: Level) -> Principal:
    return Principal("bob", "user:2", PrincipalKind.user, frozenset(), clearance)


def test_canonical_json_is_sorted_compact_and_utf8() -> None:
    assert canonical_json({"b": 1, "a": ["é", None]}) == '{"a":["é",null],"b":1}'
    with pytest.raises(ValueError, match="Out of range float"):
        canonical_json({"x": float("inf")})


def test_the_hash_is_sha256_of_the_canonical_fields() -> None:
    expected_text = (
        '{"action":"portion.decided","actor":"alice","actor_sub":"user:1",'
        '"at":"2007-12-20T07:53:00.000000Z","detail":{"decision":{"new":"release","old":null}},'
        '"entity":"portion","entity_id":"07TOKYO5624/3","prev_hash":"' + "0" * 64 + '",'
        '"ref_id":"07TOKYO5624","request_id":"r1","seq":1}'
    )
    assert event_hash(FIELDS) == hashlib.sha256(expected_text.encode()).hexdigest()
    assert set(HASHED_FIELDS) == set(FIELDS)


@pytest.mark.parametrize("field", HASHED_FIELDS)
def test_every_hashed_field_changes_the_hash(field: str) -> None:
    changed = dict(FIELDS)
    value = FIELDS[field]
    if isinstance(value, datetime):
        changed[field] = value + timedelta(microseconds=1)
    elif isinstance(value, int):
        changed[field] = value + 1
    elif isinstance(value, dict):
        changed[field] = {**value, "extra": 1}
    else:
        changed[field] = f"{value}x"
    assert event_hash(changed) != event_hash(FIELDS)


def test_the_same_instant_in_another_zone_hashes_the_same() -> None:
    tokyo = FIELDS["at"].astimezone(timezone(timedelta(hours=9)))  # type: ignore[attr-defined]
    assert event_hash({**FIELDS, "at": tokyo}) == event_hash(FIELDS)
    with pytest.raises(ValueError, match="timezone-aware"):
        event_hash({**FIELDS, "at": datetime(2007, 12, 20)})


def test_normalise_detail() -> None:
    assert normalise_detail(None) == {}
    assert normalise_detail({"on": date(2032, 1, 2), "n": 2.0, "t": (1, 2)}) == {
        "on": "2032-01-02",
        "n": 2,
        "t": [1, 2],
    }
    assert normalise_detail({"by_seq": {3: "x"}}) == {"by_seq": {"3": "x"}}
    with pytest.raises(ValueError, match="NUL"):
        normalise_detail({"s": "a\x00b"})
    with pytest.raises(TypeError, match="not JSON"):
        normalise_detail({"s": {1, 2}})


def test_level_tagged_detail_is_withheld_above_clearance() -> None:
    detail = {
        "portion": 3,
        "note": level_tagged(Level.SECRET, "a reviewer's remark"),
        "history": [level_tagged(Level.TOP_SECRET, "x"), {"plain": 1}],
    }
    seen, withheld = visible_detail(_principal(Level.SECRET), detail)
    assert withheld is True
    assert seen == {
        "portion": 3,
        "note": {"_level": "SECRET", "value": "a reviewer's remark"},
        "history": [{"_level": "TOP SECRET", "withheld_for_clearance": True}, {"plain": 1}],
    }
    seen, withheld = visible_detail(_principal(Level.CONFIDENTIAL), detail)
    assert seen["note"] == {"_level": "SECRET", "withheld_for_clearance": True}
    assert withheld is True
    assert visible_detail(_principal(Level.TOP_SECRET), detail) == (detail, False)
    assert visible_detail(_principal(Level.UNCLASSIFIED), {"a": 1}) == ({"a": 1}, False)
    unknown = {"x": {"_level": "COSMIC", "value": 1}}
    assert visible_detail(_principal(Level.TOP_SECRET), unknown)[1] is True


def test_checkpoint_signature_covers_count_head_and_time() -> None:
    at = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
    base = Checkpoint(count=10, head="a" * 64, at=at)
    key = b"k" * 32
    mac = sign(base, key)
    assert re.fullmatch(r"[0-9a-f]{64}", mac)
    assert sign(Checkpoint(11, base.head, at), key) != mac
    assert sign(Checkpoint(10, "b" * 64, at), key) != mac
    assert sign(Checkpoint(10, base.head, at + timedelta(seconds=1)), key) != mac
    assert sign(base, b"j" * 32) != mac


FORBIDDEN = [
    re.compile(r"update\(\s*AuditEvent", re.IGNORECASE),
    re.compile(r"delete\(\s*AuditEvent", re.IGNORECASE),
    re.compile(r"\bUPDATE\s+audit_event\b", re.IGNORECASE),
    re.compile(r"\bDELETE\s+FROM\s+audit_event\b", re.IGNORECASE),
    re.compile(r"\bTRUNCATE\b[^\n]*audit_event", re.IGNORECASE),
    re.compile(r"session\.delete\(\s*event", re.IGNORECASE),
]


def test_no_code_updates_or_deletes_audit_events() -> None:
    offenders = [
        f"{path.relative_to(SERVICE)}: {pattern.pattern}"
        for path in SERVICE.rglob("*.py")
        for pattern in FORBIDDEN
        if pattern.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []
