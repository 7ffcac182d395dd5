"""Calendar feed tokens: long-lived, signed, and good for `GET /schedule/calendar.ics` only.

`service.auth.security` (the only module importing jose) has no scoped-token function, so
this is a separate opaque token signed with HMAC-SHA256 from the standard library:

    dcf1.<base64url(JSON payload)>.<base64url(HMAC-SHA256(key, "dcf1." + payload))>

- the key is derived from the configured JWT secret (or, for RS256, the private key file)
  with a fixed label, so it differs from the key that signs access tokens: a feed token is
  never a valid JWT (its first part is not a JOSE header) and a JWT never verifies here;
- the payload names the account (`sub`, `kind`), the scope `schedule:calendar`, `iat`,
  `exp` and a random `jti`; previous JWT secrets still verify (key rotation);
- verification is constant-time (`hmac.compare_digest`); every failure is the same
  Unauthorized, so an attacker learns nothing from the reason. The account is reloaded on
  every use by the caller, so deactivating it or removing its role ends the feed.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass

from service.errors import Unauthorized
from service.settings import Settings

PREFIX = "dcf1"
SCOPE = "schedule:calendar"
MAX_TOKEN_CHARS = 1024
DEFAULT_TTL_SECONDS = 365 * 86_400
_LABEL = b"declass/schedule/calendar-feed-token/v1"
_INVALID = 'Bearer realm="declass-calendar", error="invalid_token"'


@dataclass(frozen=True, slots=True)
class FeedClaims:
    """What a valid feed token says: whose feed it is and until when."""

    sub: str
    kind: str
    iat: int
    exp: int
    jti: str


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _secrets(settings: Settings) -> list[bytes]:
    """Key material, current first: the JWT secret(s), or the RS256 private key file."""
    if settings.jwt_secret is not None:
        values = [settings.jwt_secret, *settings.jwt_previous_secrets]
        return [value.get_secret_value().encode() for value in values]
    if settings.jwt_private_key_file is not None:
        return [settings.jwt_private_key_file.read_bytes()]
    raise RuntimeError("no signing secret is configured")


def _keys(settings: Settings) -> list[bytes]:
    return [hmac.new(secret, _LABEL, hashlib.sha256).digest() for secret in _secrets(settings)]


def _sign(key: bytes, signed_part: str) -> str:
    return _b64(hmac.new(key, signed_part.encode(), hashlib.sha256).digest())


def issue_feed_token(
    settings: Settings,
    *,
    sub: str,
    kind: str,
    ttl_seconds: int = DEFAULT_TTL_SECONDS,
    now: int | None = None,
) -> tuple[str, int]:
    """A feed token for the account `sub` (`kind` "user" or "service"); returns the token
    and its expiry (Unix seconds)."""
    issued_at = int(time.time()) if now is None else now
    payload = {
        "scope": SCOPE,
        "sub": sub,
        "kind": kind,
        "iat": issued_at,
        "exp": issued_at + ttl_seconds,
        "jti": secrets.token_urlsafe(12),
    }
    body = _b64(json.dumps(payload, separators=(",", ":"), sort_keys=True).encode())
    signed_part = f"{PREFIX}.{body}"
    return f"{signed_part}.{_sign(_keys(settings)[0], signed_part)}", issued_at + ttl_seconds


def verify_feed_token(
    settings: Settings, token: str | None, *, now: int | None = None
) -> FeedClaims:
    """The claims of a valid, unexpired feed token, or Unauthorized (401)."""
    refused = Unauthorized(
        "A valid calendar feed token is required (?token=...)",
        headers={"WWW-Authenticate": _INVALID},
    )
    if not token or len(token) > MAX_TOKEN_CHARS:
        raise refused
    prefix, _, rest = token.partition(".")
    body, _, signature = rest.partition(".")
    if prefix != PREFIX or not body or not signature:
        raise refused
    signed_part = f"{PREFIX}.{body}"
    if not any(hmac.compare_digest(_sign(key, signed_part), signature) for key in _keys(settings)):
        raise refused
    try:
        payload = json.loads(_unb64(body))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise refused from None
    if not isinstance(payload, dict) or payload.get("scope") != SCOPE:
        raise refused
    sub, kind, iat, exp = (payload.get(k) for k in ("sub", "kind", "iat", "exp"))
    current = int(time.time()) if now is None else now
    if not isinstance(sub, str) or kind not in ("user", "service"):
        raise refused
    if not isinstance(iat, int) or not isinstance(exp, int) or exp <= current:
        raise refused
    return FeedClaims(sub=sub, kind=str(kind), iat=iat, exp=exp, jti=str(payload.get("jti", "")))
