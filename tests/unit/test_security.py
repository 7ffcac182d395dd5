"""Access-token rules (research targets T-1.1 to T-1.10, T-1.12) on `verify_access_token`.

Tokens are forged here by hand (base64url + HMAC or an RSA signature from `cryptography`),
not with the JWT library under test, so each test says exactly what the attacker sends.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import socket
import time
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from factories import b64, forge_hs256, forge_rs256, good_claims, good_header, segment

from service.auth.passwords import hash_password, verify_password
from service.auth.security import (
    MAX_TOKEN_BYTES,
    TokenError,
    issue_access_token,
    key_set,
    verify_access_token,
)
from service.settings import Settings, SettingsError, load_settings

pytestmark = pytest.mark.production_hashing

SECRET = "unit-secret-0123456789abcdef0123456789abcdef"
OLD_SECRET = "unit-old-secret-0123456789abcdef0123456789ab"


@pytest.fixture
def hs_settings() -> Settings:
    return load_settings(environment="test", jwt_secret=SECRET, jwt_leeway_seconds=30)


def hs_token(settings: Settings, *, header: dict[str, Any] | None = None, **claims: Any) -> str:
    return forge_hs256(
        header or good_header(settings), good_claims(settings, **claims), SECRET.encode()
    )


def rejected(settings: Settings, token: str) -> bool:
    try:
        verify_access_token(settings, token)
    except TokenError:
        return True
    return False


def test_an_issued_token_verifies_and_a_hand_forged_good_one_too(hs_settings: Settings) -> None:
    token, expires_in = issue_access_token(hs_settings, sub="user:7", name="bob", kind="user")
    claims = verify_access_token(hs_settings, token)
    assert (claims.sub, claims.name, claims.kind, expires_in) == ("user:7", "bob", "user", 3600)
    assert claims.exp - claims.iat == 3600
    assert verify_access_token(hs_settings, hs_token(hs_settings)).sub == "user:1"


# T-1.1 ---------------------------------------------------------------------------------


def test_t1_1_alg_none_is_rejected(hs_settings: Settings) -> None:
    header = good_header(hs_settings, alg="none")
    token = f"{segment(header)}.{segment(good_claims(hs_settings))}."
    assert rejected(hs_settings, token)


def test_t1_1_alg_none_without_kid_and_typ_is_rejected(hs_settings: Settings) -> None:
    token = f"{segment({'alg': 'none'})}.{segment(good_claims(hs_settings))}."
    assert rejected(hs_settings, token)


# T-1.2 ---------------------------------------------------------------------------------


@pytest.fixture
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def rs_settings(tmp_path: Path, key: rsa.RSAPrivateKey, *extra_public: Path) -> Settings:
    private_file = tmp_path / f"private-{id(key)}.pem"
    private_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return load_settings(
        environment="test",
        jwt_algorithm="RS256",
        jwt_private_key_file=private_file,
        jwt_public_key_files=list(extra_public),
    )


def test_rs256_tokens_are_issued_and_verified(tmp_path: Path, rsa_key: rsa.RSAPrivateKey) -> None:
    settings = rs_settings(tmp_path, rsa_key)
    token, _ = issue_access_token(settings, sub="service:3", name="svc-1", kind="service")
    assert verify_access_token(settings, token).kind == "service"


@pytest.mark.parametrize(
    ("encoding", "fmt"),
    [
        (serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo),
        (serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo),
        (serialization.Encoding.PEM, serialization.PublicFormat.PKCS1),
        (serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH),
    ],
    ids=["pem", "der", "pkcs1-pem", "openssh"],
)
def test_t1_2_hs256_forged_with_our_public_key_is_rejected(
    tmp_path: Path, rsa_key: rsa.RSAPrivateKey, encoding: Any, fmt: Any
) -> None:
    settings = rs_settings(tmp_path, rsa_key)
    public_bytes = rsa_key.public_key().public_bytes(encoding, fmt)
    kid = key_set(settings).signing_kid
    header = {"alg": "HS256", "typ": "at+jwt", "kid": kid}
    token = forge_hs256(header, good_claims(settings), public_bytes)
    assert rejected(settings, token)


def test_t1_2_rs256_token_signed_by_another_key_is_rejected(
    tmp_path: Path, rsa_key: rsa.RSAPrivateKey
) -> None:
    settings = rs_settings(tmp_path, rsa_key)
    intruder = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    header = {"alg": "RS256", "typ": "at+jwt", "kid": key_set(settings).signing_kid}
    assert rejected(settings, forge_rs256(header, good_claims(settings), intruder))
    assert not rejected(settings, forge_rs256(header, good_claims(settings), rsa_key))


# T-1.3 ---------------------------------------------------------------------------------


@pytest.mark.parametrize("claim", ["exp", "aud", "iss", "sub", "iat"])
def test_t1_3_a_missing_required_claim_is_rejected(hs_settings: Settings, claim: str) -> None:
    claims = good_claims(hs_settings)
    del claims[claim]
    assert rejected(hs_settings, forge_hs256(good_header(hs_settings), claims, SECRET.encode()))


@pytest.mark.parametrize(
    ("claim", "value"),
    [
        ("aud", "another-api"),
        ("aud", "declass-api-x"),
        ("aud", ["declass-api", "another-api"]),
        ("iss", "someone-else"),
        ("iss", "declas"),
        ("iss", "declass2"),
        ("iss", "xdeclass"),
    ],
)
def test_t1_3_wrong_or_near_miss_aud_and_iss_are_rejected(
    hs_settings: Settings, claim: str, value: Any
) -> None:
    assert rejected(hs_settings, hs_token(hs_settings, **{claim: value}))


def test_a_token_issued_in_the_future_is_rejected(hs_settings: Settings) -> None:
    assert rejected(hs_settings, hs_token(hs_settings, iat=int(time.time()) + 120))


def test_an_unknown_subject_kind_is_rejected(hs_settings: Settings) -> None:
    assert rejected(hs_settings, hs_token(hs_settings, kind="admin"))


# T-1.4 ---------------------------------------------------------------------------------


def test_t1_4_expired_within_leeway_is_accepted(hs_settings: Settings) -> None:
    now = int(time.time())
    assert not rejected(hs_settings, hs_token(hs_settings, iat=now - 700, exp=now - 10))


def test_t1_4_expired_past_leeway_is_rejected(hs_settings: Settings) -> None:
    now = int(time.time())
    assert rejected(hs_settings, hs_token(hs_settings, iat=now - 700, exp=now - 31))


def test_t1_4_not_yet_valid_past_leeway_is_rejected(hs_settings: Settings) -> None:
    assert rejected(hs_settings, hs_token(hs_settings, nbf=int(time.time()) + 31))


# T-1.5 ---------------------------------------------------------------------------------


def test_t1_5_unknown_kid_is_rejected_even_with_a_valid_signature(hs_settings: Settings) -> None:
    assert rejected(hs_settings, hs_token(hs_settings, header=good_header(hs_settings, kid="k9")))
    no_kid = good_header(hs_settings)
    del no_kid["kid"]
    assert rejected(hs_settings, hs_token(hs_settings, header=no_kid))


def test_t1_5_previous_secret_verifies_during_rotation_and_not_after() -> None:
    old = load_settings(environment="test", jwt_secret=OLD_SECRET)
    token, _ = issue_access_token(old, sub="user:1", name="alice", kind="user")
    rotated = load_settings(
        environment="test", jwt_secret=SECRET, jwt_previous_secrets=[OLD_SECRET]
    )
    assert verify_access_token(rotated, token).sub == "user:1"
    new_token, _ = issue_access_token(rotated, sub="user:1", name="alice", kind="user")
    assert verify_access_token(rotated, new_token).kid == key_set(rotated).signing_kid
    assert rejected(old, new_token)
    after = load_settings(environment="test", jwt_secret=SECRET)
    assert rejected(after, token)


def test_t1_5_previous_rsa_public_key_verifies_during_rotation(tmp_path: Path) -> None:
    old_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    new_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    old_settings = rs_settings(tmp_path, old_key)
    token, _ = issue_access_token(old_settings, sub="user:1", name="alice", kind="user")
    old_public = tmp_path / "old-public.pem"
    old_public.write_bytes(
        old_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    assert verify_access_token(rs_settings(tmp_path, new_key, old_public), token).sub == "user:1"
    assert rejected(rs_settings(tmp_path, new_key), token)


# T-1.6 ---------------------------------------------------------------------------------


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    attempts: list[Any] = []

    def refuse(*args: Any, **kwargs: Any) -> Any:
        attempts.append(args)
        raise AssertionError("outbound connection attempted")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    return attempts


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("crit", ["exp"]),
        ("crit", ["x-unknown"]),
        ("jku", "https://attacker.example/jwks.json"),
        ("x5u", "https://attacker.example/cert.pem"),
        ("jwk", {"kty": "oct", "k": b64(b"attacker-key-0123456789abcdef0123")}),
        ("x5c", ["MIIBszCCAVmgAwIBAgIUQ"]),
        ("zip", "DEF"),
    ],
)
def test_t1_6_headers_naming_key_material_or_extensions_are_rejected(
    hs_settings: Settings, no_network: list[Any], name: str, value: Any
) -> None:
    header = good_header(hs_settings, **{name: value})
    assert rejected(hs_settings, hs_token(hs_settings, header=header))
    assert no_network == []


def test_t1_6_a_token_signed_with_its_own_embedded_jwk_is_rejected(
    hs_settings: Settings, no_network: list[Any]
) -> None:
    attacker_key = b"attacker-key-0123456789abcdef0123"
    header = good_header(hs_settings, jwk={"kty": "oct", "k": b64(attacker_key)})
    assert rejected(hs_settings, forge_hs256(header, good_claims(hs_settings), attacker_key))
    assert no_network == []


# T-1.7 ---------------------------------------------------------------------------------


@pytest.mark.parametrize("typ", ["JWT", "refresh+jwt", "id+jwt", None])
def test_t1_7_a_token_of_another_type_header_is_rejected(hs_settings: Settings, typ: Any) -> None:
    assert rejected(hs_settings, hs_token(hs_settings, header=good_header(hs_settings, typ=typ)))


@pytest.mark.parametrize("token_use", ["refresh", "id", None])
def test_t1_7_a_token_of_another_use_claim_is_rejected(
    hs_settings: Settings, token_use: Any
) -> None:
    assert rejected(hs_settings, hs_token(hs_settings, token_use=token_use))


# T-1.8 ---------------------------------------------------------------------------------


def test_t1_8_an_oversized_token_is_rejected_before_decoding(
    hs_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    import service.auth.security as security

    def must_not_decode(*_args: Any, **_kwargs: Any) -> Any:
        raise AssertionError("decoded an oversized token")

    monkeypatch.setattr(security.jwt, "get_unverified_header", must_not_decode)
    monkeypatch.setattr(security.jwt, "decode", must_not_decode)
    padding_claim = "x" * MAX_TOKEN_BYTES
    assert rejected(hs_settings, hs_token(hs_settings, pad=padding_claim))


def test_t1_8_a_compact_jwe_is_rejected(hs_settings: Settings) -> None:
    header = segment({"alg": "dir", "enc": "A256GCM", "kid": key_set(hs_settings).signing_kid})
    jwe = f"{header}..{b64(b'iv-iv-iv-iv')}.{b64(b'ciphertext')}.{b64(b'tag')}"
    assert rejected(hs_settings, jwe)


@pytest.mark.parametrize(
    "token", ["", "abc", "a.b", "a.b.c.d", "..", "ey.ey.", "\u00e9.\u00e9.\u00e9"]
)
def test_malformed_tokens_are_rejected(hs_settings: Settings, token: str) -> None:
    assert rejected(hs_settings, token)


# T-1.9 ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "overrides",
    [
        {"jwt_secret": ""},
        {"jwt_secret": "short"},
        {"jwt_secret": "x" * 31},
        {"jwt_secret": "changeme"},
        {"jwt_secret": SECRET, "jwt_previous_secrets": ["too-short"]},
        {"jwt_secret": SECRET, "jwt_public_key_files": ["/dev/null"]},
        {"jwt_algorithm": "RS256", "jwt_secret": SECRET},
        {"jwt_algorithm": "RS256"},
        {"jwt_algorithm": "EdDSA"},
        {"jwt_algorithm": "none"},
        {"environment": "production"},
    ],
    ids=lambda o: ",".join(f"{k}={str(v)[:10]}" for k, v in o.items()),
)
def test_t1_9_weak_or_mixed_key_configuration_refuses_start_up(overrides: dict[str, Any]) -> None:
    with pytest.raises(SettingsError):
        load_settings(**overrides)


# T-1.10 --------------------------------------------------------------------------------


def _version(name: str) -> tuple[int, ...]:
    return tuple(int(part) for part in importlib.metadata.version(name).split(".")[:3])


def test_t1_10_version_floors() -> None:
    assert _version("python-jose") >= (3, 5, 0)
    assert _version("cryptography") >= (44, 0, 0)
    assert _version("pwdlib") >= (0, 2, 1)
    assert importlib.util.find_spec("passlib") is None


# T-1.12 --------------------------------------------------------------------------------


def test_t1_12_new_password_hashes_are_argon2id() -> None:
    stored = hash_password("correct horse battery staple")
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert verify_password("correct horse battery staple", stored).ok
    assert not verify_password("correct horse battery stapler", stored).ok


def test_t1_12_outdated_argon2_parameters_are_rehashed_on_verification() -> None:
    from pwdlib.hashers.argon2 import Argon2Hasher

    weak = Argon2Hasher(time_cost=1, memory_cost=8192, parallelism=1).hash("pw-0123456789ab")
    outcome = verify_password("pw-0123456789ab", weak)
    assert outcome.ok
    assert outcome.new_hash is not None
    assert outcome.new_hash.startswith("$argon2id$v=19$m=65536,t=3,p=4$")


@pytest.mark.parametrize("stored", ["", "plain", "$2b$12$notarealbcrypthash", "$argon2id$broken"])
def test_malformed_stored_hashes_never_verify_and_never_raise(stored: str) -> None:
    assert verify_password("anything-at-all", stored).ok is False


def test_oversized_passwords_are_refused_without_hashing() -> None:
    with pytest.raises(ValueError, match="limited"):
        hash_password("p" * 1025)
    assert verify_password("p" * 5000, hash_password("p" * 20)).ok is False
