"""The AuthGate's cache of verified tokens (service/auth/deps.py `VerifiedTokens`): a token
is verified once, a cached token is used only until it expires, refusals are not kept, and
the cache is bounded."""

from __future__ import annotations

import time

import pytest
from factories import forge_hs256, good_claims, good_header

from service.auth import deps
from service.auth.deps import VerifiedTokens
from service.errors import Unauthorized
from service.settings import Settings, load_settings

SECRET = "cache-test-secret-0123456789abcdef0123456789"


@pytest.fixture
def settings() -> Settings:
    return load_settings(environment="test", jwt_secret=SECRET, jwt_leeway_seconds=30)


@pytest.fixture
def verifications(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []
    real = deps.verified_claims

    def counted(settings: Settings, authorization: str | None) -> deps.Claims:
        calls.append(authorization or "")
        return real(settings, authorization)

    monkeypatch.setattr(deps, "verified_claims", counted)
    return calls


def _bearer(settings: Settings, **claims: object) -> str:
    token = forge_hs256(good_header(settings), good_claims(settings, **claims), SECRET.encode())
    return f"Bearer {token}"


def test_a_token_is_verified_once(settings: Settings, verifications: list[str]) -> None:
    tokens = VerifiedTokens()
    bearer = _bearer(settings)
    first = tokens.verify(settings, bearer)
    second = tokens.verify(settings, bearer)
    assert second is first
    assert (first.sub, first.name) == ("user:1", "alice")
    assert verifications == [bearer]


def test_a_cached_token_is_refused_once_it_expires(
    settings: Settings, verifications: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    tokens = VerifiedTokens()
    now = int(time.time())
    bearer = _bearer(settings, iat=now - 100, exp=now + 10)
    tokens.verify(settings, bearer)
    monkeypatch.setattr(deps.time, "time", lambda: now + 10 + 30)  # exp + leeway: still valid
    tokens.verify(settings, bearer)
    assert len(verifications) == 1
    monkeypatch.setattr(deps.time, "time", lambda: now + 10 + 31)
    # Past exp + leeway the cache asks the verifier again (which reads its own clock; the
    # next test shows it refusing a token expired by the wall clock).
    tokens.verify(settings, bearer)
    assert len(verifications) == 2


def test_an_expired_token_is_never_served_from_the_cache(settings: Settings) -> None:
    tokens = VerifiedTokens()
    now = int(time.time())
    bearer = _bearer(settings, iat=now - 200, exp=now - 31)
    with pytest.raises(Unauthorized):
        tokens.verify(settings, bearer)
    with pytest.raises(Unauthorized):
        tokens.verify(settings, bearer)


def test_refusals_are_not_kept(settings: Settings, verifications: list[str]) -> None:
    tokens = VerifiedTokens()
    forged = "Bearer " + forge_hs256(good_header(settings), good_claims(settings), b"x" * 44)
    for _ in range(2):
        with pytest.raises(Unauthorized):
            tokens.verify(settings, forged)
    assert len(verifications) == 2


def test_the_cache_is_bounded_oldest_first(settings: Settings, verifications: list[str]) -> None:
    tokens = VerifiedTokens(size=2)
    a, b, c = (_bearer(settings, jti=jti) for jti in ("a", "b", "c"))
    for bearer in (a, b, c, c, b, a):
        tokens.verify(settings, bearer)
    assert verifications == [a, b, c, a]
