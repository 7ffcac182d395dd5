"""Small typed factories and checks shared by the tests (import as `from factories import ...`:
pytest puts tests/ on sys.path because tests/ has no __init__.py).

- `create_user(session_or_engine, *, username, roles, clearance, queues=(), password=None)`
  -> (User, password)
- `create_service_account(session_or_engine, *, name, clearance, roles=(integration,))`
  -> (ServiceAccount, client_secret)
- `auth_headers(client, username, password)` / `client_headers(client, client_id, secret)`
  -> {"Authorization": "Bearer ..."} from a real login through /api/v1/auth/token
- `make_principal_headers(client, engine, role, clearance)` -> headers of a fresh account
  with that one role (a service account for `integration`, a user otherwise)
- `text_windows(text)` and `assert_no_secret_text(body, windows)`: the clearance-leak check
  (no 40-character window of classified text in a response body)
- `forge_hs256` / `forge_rs256` / `good_claims` / `good_header`: hand-made JWTs for attacks
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import secrets
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session

from service.auth import service
from service.auth.models import Role, ServiceAccount, User
from service.auth.principal import system_principal
from service.auth.security import key_set
from service.db import unit_of_work
from service.markings import Level
from service.middleware import json_strings
from service.settings import Settings

WINDOW = 40
TOKEN_PATH = "/api/v1/auth/token"
_serial = itertools.count(1)


@contextmanager
def _session(session_or_engine: Session | Engine) -> Iterator[Session]:
    if isinstance(session_or_engine, Session):
        yield session_or_engine
    else:
        with unit_of_work(session_or_engine) as session:
            yield session


def new_password() -> str:
    return "pw-" + secrets.token_urlsafe(18)


def create_user(
    session_or_engine: Session | Engine,
    *,
    username: str,
    roles: Sequence[Role],
    clearance: Level,
    queues: Sequence[str] = (),
    password: str | None = None,
) -> tuple[User, str]:
    """An active user made through the service (audited like any other)."""
    password = password or new_password()
    with _session(session_or_engine) as session:
        user = service.create_user(
            session,
            actor=system_principal("tests"),
            username=username,
            password=password,
            roles=roles,
            clearance=clearance,
            queues=queues,
        )
    return user, password


def create_service_account(
    session_or_engine: Session | Engine,
    *,
    name: str,
    clearance: Level = Level.UNCLASSIFIED,
    roles: Sequence[Role] = (Role.integration,),
) -> tuple[ServiceAccount, str]:
    with _session(session_or_engine) as session:
        return service.create_service_account(
            session, actor=system_principal("tests"), name=name, clearance=clearance, roles=roles
        )


def _bearer(response: Any) -> dict[str, str]:
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def auth_headers(client: TestClient, username: str, password: str) -> dict[str, str]:
    """Log in with the password grant and return the bearer header."""
    data = {"grant_type": "password", "username": username, "password": password}
    return _bearer(client.post(TOKEN_PATH, data=data))


def client_headers(client: TestClient, client_id: str, client_secret: str) -> dict[str, str]:
    """Log in with the client-credentials grant and return the bearer header."""
    data = {
        "grant_type": "client_credentials",
        "client_id": client_id,
        "client_secret": client_secret,
    }
    return _bearer(client.post(TOKEN_PATH, data=data))


def make_principal_headers(
    client: TestClient, engine: Engine, role: Role, clearance: Level = Level.TOP_SECRET
) -> dict[str, str]:
    """Bearer headers of a new account holding just `role` at `clearance`."""
    serial = next(_serial)
    if role is Role.integration:
        account, secret = create_service_account(
            engine, name=f"records-{serial}", clearance=clearance
        )
        return client_headers(client, account.client_id, secret)
    username = f"{role.value}-{serial}"
    _user, password = create_user(engine, username=username, roles=[role], clearance=clearance)
    return auth_headers(client, username, password)


# Clearance-leak checks ---------------------------------------------------------------


def text_windows(text: str, size: int = WINDOW) -> set[str]:
    """Every `size`-character window of `text` that is not only whitespace (a text shorter
    than `size` gives itself, unless it is blank)."""
    if len(text) <= size:
        return {text} if text.strip() else set()
    found = (text[i : i + size] for i in range(len(text) - size + 1))
    return {window for window in found if window.strip()}


def leaked_windows(body: str | bytes, windows: set[str], size: int = WINDOW) -> set[str]:
    """The windows of `windows` found in `body`: for JSON, in every decoded string (so
    escaped newlines or quotes cannot hide a match, nor JSON escapes fake one), else in the
    raw text."""
    raw = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    texts: list[str] = [raw]
    with suppress(ValueError):
        texts = list(json_strings(json.loads(raw)))
    found: set[str] = set()
    for text in texts:
        if len(text) < size:
            if text in windows:
                found.add(text)
            continue
        found.update(text[i : i + size] for i in range(len(text) - size + 1))
    return found & windows


def assert_no_secret_text(body: str | bytes, windows: set[str], *, where: str = "") -> None:
    """Fail when any window of classified text (see `text_windows`) appears in `body`."""
    leaked = leaked_windows(body, windows)
    assert not leaked, f"{len(leaked)} classified windows leaked {where}: {sorted(leaked)[:3]!r}"


def windows_of(texts: Iterable[str]) -> set[str]:
    found: set[str] = set()
    for text in texts:
        found |= text_windows(text)
    return found


# Hand-forged tokens (no JWT library: each test says exactly what an attacker sends) -----


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def segment(value: dict[str, Any]) -> str:
    return b64(json.dumps(value, separators=(",", ":")).encode())


def forge_hs256(header: dict[str, Any], claims: dict[str, Any], key: bytes) -> str:
    signing_input = f"{segment(header)}.{segment(claims)}"
    signature = hmac.new(key, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(signature)}"


def forge_rs256(header: dict[str, Any], claims: dict[str, Any], key: rsa.RSAPrivateKey) -> str:
    signing_input = f"{segment(header)}.{segment(claims)}"
    signature = key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input}.{b64(signature)}"


def good_claims(settings: Settings, **changes: Any) -> dict[str, Any]:
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "sub": "user:1",
        "name": "alice",
        "kind": "user",
        "token_use": "access",
        "iat": now,
        "exp": now + 600,
        "jti": "j1",
    }
    claims.update(changes)
    return {key: value for key, value in claims.items() if value is not None}


def good_header(settings: Settings, **changes: Any) -> dict[str, Any]:
    header = {"alg": "HS256", "typ": "at+jwt", "kid": key_set(settings).signing_kid}
    header.update(changes)
    return {key: value for key, value in header.items() if value is not None}
