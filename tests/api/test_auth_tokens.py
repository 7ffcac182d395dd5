"""Bad bearer tokens on every protected route (T-1.1, T-1.4, T-1.7, T-1.8, T-1.11): each gets
401 problem+json with `WWW-Authenticate: Bearer`, and no response echoes the token."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from factories import (
    TOKEN_PATH,
    b64,
    create_user,
    forge_hs256,
    good_claims,
    good_header,
    segment,
)
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from test_authz_matrix import PUBLIC, RULES, app_routes, call

from service.auth.models import Role
from service.auth.security import issue_access_token
from service.markings import Level
from service.settings import Settings

Forger = Callable[[Settings, str], str]


def _hs(settings: Settings, sub: str, **claims: object) -> str:
    assert settings.jwt_secret is not None
    key = settings.jwt_secret.get_secret_value().encode()
    return forge_hs256(good_header(settings), good_claims(settings, sub=sub, **claims), key)


def alg_none(settings: Settings, sub: str) -> str:
    header = good_header(settings, alg="none")
    return f"{segment(header)}.{segment(good_claims(settings, sub=sub))}."


def expired(settings: Settings, sub: str) -> str:
    now = int(time.time())
    return _hs(settings, sub, iat=now - 4000, exp=now - settings.jwt_leeway_seconds - 1)


def wrong_audience(settings: Settings, sub: str) -> str:
    return _hs(settings, sub, aud="another-api")


def refresh_token(settings: Settings, sub: str) -> str:
    return _hs(settings, sub, token_use="refresh")


def wrong_key(settings: Settings, sub: str) -> str:
    claims = good_claims(settings, sub=sub)
    return forge_hs256(good_header(settings), claims, b"another-secret-0123456789abcdef01234")


def jku_header(settings: Settings, sub: str) -> str:
    assert settings.jwt_secret is not None
    header = good_header(settings, jku="https://attacker.example/keys")
    key = settings.jwt_secret.get_secret_value().encode()
    return forge_hs256(header, good_claims(settings, sub=sub), key)


def oversized(settings: Settings, sub: str) -> str:
    return _hs(settings, sub, pad="x" * 9000)


def jwe(settings: Settings, _sub: str) -> str:
    header = segment({"alg": "dir", "enc": "A256GCM"})
    return f"{header}..{b64(b'iv-iv-iv-iv')}.{b64(b'ciphertext')}.{b64(b'tag')}"


FORGERS = [alg_none, expired, wrong_audience, refresh_token, wrong_key, jku_header, oversized, jwe]
PROTECTED = sorted(key for key, rule in RULES.items() if isinstance(rule, set))


@pytest.fixture
def admin_sub(engine: Engine) -> str:
    user, _password = create_user(
        engine, username="root", roles=[Role.admin], clearance=Level.TOP_SECRET
    )
    return f"user:{user.id}"


def test_the_good_token_of_the_same_account_is_accepted(
    client: TestClient, settings: Settings, admin_sub: str
) -> None:
    token = _hs(settings, admin_sub, name="root")
    response = client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200


@pytest.mark.parametrize("forge", FORGERS, ids=lambda f: f.__name__)
def test_bad_tokens_get_401_on_every_protected_route(
    app: FastAPI, client: TestClient, settings: Settings, admin_sub: str, forge: Forger
) -> None:
    token = forge(settings, admin_sub)
    routes = app_routes(app)
    for method, path in PROTECTED:
        if (method, path) not in routes:
            continue
        response = call(client, method, path, {"Authorization": f"Bearer {token}"})
        assert response.status_code == 401, (method, path)
        assert response.headers["content-type"] == "application/problem+json"
        assert response.headers["www-authenticate"].startswith("Bearer")
        assert token not in response.text
        assert token[:40] not in response.text


def test_t1_8_an_authorization_header_over_8_kib_is_401(client: TestClient) -> None:
    response = client.get("/api/v1/users/me", headers={"Authorization": "Bearer " + "a" * 9000})
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


@pytest.mark.parametrize(
    "value", ["", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Token abc", "bearer.abc"]
)
def test_malformed_authorization_headers_are_401(client: TestClient, value: str) -> None:
    response = client.get("/api/v1/users/me", headers={"Authorization": value})
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_a_token_for_a_deleted_subject_or_forged_sub_is_401(
    client: TestClient, settings: Settings
) -> None:
    for sub in ["user:999", "service:1", "user:abc", "root"]:
        token, _ = issue_access_token(settings, sub=sub, name="x", kind="user")
        response = client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401, sub


def test_a_user_subject_cannot_be_presented_as_a_service(
    client: TestClient, settings: Settings, admin_sub: str
) -> None:
    token, _ = issue_access_token(settings, sub=admin_sub, name="root", kind="service")
    response = client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401


def test_public_paths_need_no_token(client: TestClient) -> None:
    for method, path in sorted(key for key, rule in RULES.items() if rule == PUBLIC):
        if path == TOKEN_PATH:
            continue
        assert client.request(method, path).status_code == 200, path


def test_openapi_declares_the_bearer_scheme(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    schemes = spec["components"]["securitySchemes"]
    assert {"type": "http", "scheme": "bearer"}.items() <= next(iter(schemes.values())).items()
    me = spec["paths"]["/api/v1/users/me"]["get"]
    assert me["security"] == [{next(iter(schemes)): []}]
