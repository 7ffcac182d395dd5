"""Password and client-secret hashing: argon2id through pwdlib (never passlib).

- New hashes are argon2id with argon2-cffi's RFC 9106 defaults (t=3, m=64 MiB, p=4) and
  start with `$argon2id$`.
- Verification is constant-time (argon2 compares digests in constant time) and an unknown
  account costs the same as a known one: call `dummy_verify` so response times do not tell
  which usernames exist.
- A stored hash made with older parameters still verifies; `verify_password` then hands back
  a fresh hash for the caller to store (needs-rehash).
- Inputs are capped at `MAX_PASSWORD_BYTES` so a huge password cannot buy a long hash.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from pwdlib import PasswordHash
from pwdlib.exceptions import UnknownHashError
from pwdlib.hashers.argon2 import Argon2Hasher

MAX_PASSWORD_BYTES = 1024
MIN_PASSWORD_CHARS = 12

_HASHER = PasswordHash((Argon2Hasher(),))


@dataclass(frozen=True, slots=True)
class Verification:
    """The outcome of a check; `new_hash` is set when the stored hash should be replaced."""

    ok: bool
    new_hash: str | None = None


def hash_password(password: str) -> str:
    """An argon2id hash of `password` (also used for service-account client secrets)."""
    if len(password.encode()) > MAX_PASSWORD_BYTES:
        raise ValueError(f"passwords are limited to {MAX_PASSWORD_BYTES} bytes")
    return _HASHER.hash(password)


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return _HASHER.hash("declass-dummy-password-for-equal-timing")


def verify_password(password: str, stored_hash: str) -> Verification:
    """Check `password` against `stored_hash` (never raises on a malformed hash)."""
    if len(password.encode()) > MAX_PASSWORD_BYTES:
        dummy_verify(password[:MAX_PASSWORD_BYTES])
        return Verification(ok=False)
    try:
        ok, updated = _HASHER.verify_and_update(password, stored_hash)
    except (UnknownHashError, ValueError):
        dummy_verify(password)
        return Verification(ok=False)
    return Verification(ok=ok, new_hash=updated if ok else None)


def dummy_verify(password: str) -> None:
    """Spend the time of one verification, for accounts that do not exist or are inactive."""
    _HASHER.verify(password[:MAX_PASSWORD_BYTES], _dummy_hash())
