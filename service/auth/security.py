"""Access tokens. This is the only module that imports `jose` (python-jose).

python-jose is lax by default, so every rule below is enforced here, not left to it
(RFC 8725 "JWT BCP"; research file section 1.3):

- one algorithm, from settings, never from the token: HS256 (secret >= 32 bytes, checked by
  settings) or RS256 (a key pair). EdDSA is not offered: python-jose 3.5.0 has no EdDSA.
- the raw token is capped at `MAX_TOKEN_BYTES` and must be a compact JWS (3 parts): a JWE
  (5 parts) is refused before anything is decoded;
- the unverified header may only carry `alg`, `typ` and `kid`: `crit`, `jku`, `jwk`, `x5u`,
  `x5c` (key material or extensions chosen by the sender) are refused; `alg` must equal the
  configured one (`none` never does), `typ` must be `at+jwt` (RFC 9068), and `kid` must name
  a configured key, which is then the ONLY key tried (python-jose would otherwise try all);
- `exp`, `iat`, `iss`, `aud`, `sub` are required; `iss` and `aud` must equal ours exactly;
  `token_use` must be `access`; `iat` may not be in the future; the clock leeway comes from
  settings;
- rotation: tokens are signed with the current key; the previous keys
  (`jwt_previous_secrets`, or extra `jwt_public_key_files` for RS256) still verify.

Every failure raises `TokenError`; its message is for logs and never contains the token.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jose import jwt
from jose.exceptions import JOSEError

from service.settings import Settings

MAX_TOKEN_BYTES = 8 * 1024
ACCESS_TOKEN_TYP = "at+jwt"  # noqa: S105 - a media type
TOKEN_USE_ACCESS = "access"  # noqa: S105 - a claim value
ALLOWED_HEADER_KEYS = frozenset({"alg", "typ", "kid"})
REFUSED_HEADER_KEYS = frozenset({"crit", "jku", "jwk", "x5u", "x5c", "x5t", "x5t#S256", "zip"})
REQUIRED_CLAIMS = ("exp", "iat", "iss", "aud", "sub")
TokenKind = Literal["user", "service"]


class TokenError(Exception):
    """The token is not one this service accepts (the reason is for logs only)."""


@dataclass(frozen=True, slots=True)
class Claims:
    """The verified claims of an access token."""

    sub: str
    name: str
    kind: TokenKind
    iss: str
    aud: str
    iat: int
    exp: int
    jti: str
    kid: str


@dataclass(frozen=True, slots=True)
class KeySet:
    """The configured keys: one to sign with, and every key that still verifies, by kid."""

    algorithm: str
    signing_kid: str
    signing_key: str
    verifying: Mapping[str, str]


def _hmac_kid(secret: str) -> str:
    # A one-way label of the secret: lets a verifier pick the key without revealing it.
    return "hs-" + hashlib.sha256(b"declass-kid\x00" + secret.encode()).hexdigest()[:16]


def _public_pem_and_kid(public_key: rsa.RSAPublicKey) -> tuple[str, str]:
    der = public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    pem = public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()
    return pem, "rs-" + hashlib.sha256(der).hexdigest()[:16]


@lru_cache(maxsize=8)
def _rsa_key_set(
    private_file: Path, public_files: tuple[Path, ...], mtimes: tuple[float, ...]
) -> KeySet:
    del mtimes  # part of the cache key only: a replaced key file is read again
    private = serialization.load_pem_private_key(private_file.read_bytes(), password=None)
    if not isinstance(private, rsa.RSAPrivateKey) or private.key_size < 2048:
        raise ValueError("DECLASS_JWT_PRIVATE_KEY_FILE must be an RSA private key of >= 2048 bits")
    signing_pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    current_pem, current_kid = _public_pem_and_kid(private.public_key())
    verifying = {current_kid: current_pem}
    for path in public_files:
        public = serialization.load_pem_public_key(path.read_bytes())
        if not isinstance(public, rsa.RSAPublicKey):
            raise ValueError(f"{path} is not an RSA public key")
        pem, kid = _public_pem_and_kid(public)
        verifying.setdefault(kid, pem)
    return KeySet("RS256", current_kid, signing_pem, verifying)


def key_set(settings: Settings) -> KeySet:
    """The keys configured in `settings` (RS256 key files are read once and cached)."""
    if settings.jwt_algorithm == "HS256":
        if settings.jwt_secret is None:
            raise ValueError("DECLASS_JWT_SECRET is not set")
        current = settings.jwt_secret.get_secret_value()
        verifying = {_hmac_kid(current): current}
        for previous in settings.jwt_previous_secrets:
            value = previous.get_secret_value()
            verifying.setdefault(_hmac_kid(value), value)
        return KeySet("HS256", _hmac_kid(current), current, verifying)
    assert settings.jwt_private_key_file is not None  # settings guarantees it for RS256
    files = (settings.jwt_private_key_file, *settings.jwt_public_key_files)
    return _rsa_key_set(
        settings.jwt_private_key_file,
        tuple(settings.jwt_public_key_files),
        tuple(path.stat().st_mtime for path in files),
    )


def issue_access_token(
    settings: Settings,
    *,
    sub: str,
    name: str,
    kind: TokenKind,
    ttl_seconds: int | None = None,
    now: int | None = None,
) -> tuple[str, int]:
    """Sign an access token for `sub`; returns the token and its lifetime in seconds."""
    keys = key_set(settings)
    issued_at = int(time.time()) if now is None else now
    expires_in = settings.jwt_ttl_seconds if ttl_seconds is None else ttl_seconds
    claims = {
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "sub": sub,
        "name": name,
        "kind": kind,
        "token_use": TOKEN_USE_ACCESS,
        "iat": issued_at,
        "nbf": issued_at,
        "exp": issued_at + expires_in,
        "jti": secrets.token_urlsafe(16),
    }
    headers = {"kid": keys.signing_kid, "typ": ACCESS_TOKEN_TYP}
    token = jwt.encode(claims, keys.signing_key, algorithm=keys.algorithm, headers=headers)
    return token, expires_in


def _checked_header(token: str, keys: KeySet) -> tuple[str, str]:
    """Check the unverified header; return its kid and the key that alone may verify."""
    if len(token.encode("utf-8", "surrogatepass")) > MAX_TOKEN_BYTES:
        raise TokenError("token too large")
    parts = token.split(".")
    if len(parts) == 5:
        raise TokenError("encrypted tokens (JWE) are not accepted")
    if len(parts) != 3 or not all(parts[:2]):
        raise TokenError("not a compact JWS")
    try:
        header = jwt.get_unverified_header(token)
    except JOSEError:
        raise TokenError("unreadable header") from None
    if not isinstance(header, dict):
        raise TokenError("unreadable header")
    refused = set(header) & REFUSED_HEADER_KEYS
    if refused:
        raise TokenError(f"header parameters not accepted: {sorted(refused)}")
    unknown = set(header) - ALLOWED_HEADER_KEYS
    if unknown:
        raise TokenError(f"unknown header parameters: {sorted(unknown)}")
    if header.get("alg") != keys.algorithm:
        raise TokenError("algorithm not accepted")
    if header.get("typ") != ACCESS_TOKEN_TYP:
        raise TokenError("not an access token (typ)")
    kid = header.get("kid")
    if not isinstance(kid, str) or kid not in keys.verifying:
        raise TokenError("unknown key id")
    return kid, keys.verifying[kid]


def verify_access_token(settings: Settings, token: str) -> Claims:
    """Verify `token` under every rule in the module docstring, or raise `TokenError`."""
    if not isinstance(token, str) or not token:
        raise TokenError("empty token")
    keys = key_set(settings)
    kid, key = _checked_header(token, keys)
    options: dict[str, bool | int] = {f"require_{claim}": True for claim in REQUIRED_CLAIMS}
    options["leeway"] = settings.jwt_leeway_seconds
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key,
            algorithms=[keys.algorithm],
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
            options=options,
        )
    except JOSEError as error:
        raise TokenError(f"rejected: {type(error).__name__}") from None
    return _checked_claims(settings, claims, kid=kid)


def _checked_claims(settings: Settings, claims: Mapping[str, Any], *, kid: str) -> Claims:
    # python-jose accepts a list `aud` containing ours and any `iss` in a tuple; we issue
    # exactly one string of each, so anything else is not ours.
    if claims.get("aud") != settings.jwt_audience or claims.get("iss") != settings.jwt_issuer:
        raise TokenError("wrong audience or issuer")
    if claims.get("token_use") != TOKEN_USE_ACCESS:
        raise TokenError("not an access token (token_use)")
    iat, exp = claims.get("iat"), claims.get("exp")
    if not isinstance(iat, int) or not isinstance(exp, int):
        raise TokenError("iat and exp must be integers")
    if iat > int(time.time()) + settings.jwt_leeway_seconds:
        raise TokenError("issued in the future")
    sub, name, kind = claims.get("sub"), claims.get("name"), claims.get("kind")
    if not isinstance(sub, str) or not sub or not isinstance(name, str) or not name:
        raise TokenError("sub and name must be non-empty strings")
    if kind not in ("user", "service"):
        raise TokenError("unknown subject kind")
    jti = claims.get("jti")
    return Claims(
        sub=sub,
        name=name,
        kind=kind,
        iss=settings.jwt_issuer,
        aud=settings.jwt_audience,
        iat=iat,
        exp=exp,
        jti=jti if isinstance(jti, str) else "",
        kid=kid,
    )
