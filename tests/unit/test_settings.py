"""Settings are validated at start-up with a one-line message naming the variable."""

from __future__ import annotations

import pytest

from service.settings import SettingsError, load_settings

GOOD_SECRET = "k" * 40


def test_defaults_use_the_embedded_sqlite_database(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    settings = load_settings(jwt_secret=GOOD_SECRET)
    assert settings.database_url == "sqlite:///./var/declass.db"
    assert settings.is_sqlite
    assert settings.max_body_bytes == 1024 * 1024


def test_database_url_without_prefix_and_postgres_scheme_is_normalised(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgres://app@db.internal:5432/declass")
    settings = load_settings(jwt_secret=GOOD_SECRET)
    assert settings.database_url == "postgresql+psycopg://app@db.internal:5432/declass"
    assert not settings.is_sqlite


def test_prefixed_environment_variables_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DECLASS_MAX_BODY_BYTES", "2048")
    monkeypatch.setenv("DECLASS_JWT_SECRET", GOOD_SECRET)
    settings = load_settings()
    assert settings.max_body_bytes == 2048
    assert settings.jwt_secret is not None
    assert settings.jwt_secret.get_secret_value() == GOOD_SECRET


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"database_url": "mysql://root@localhost/x"},
            "invalid configuration: DATABASE_URL: must be sqlite:///PATH or "
            "postgresql://USER@HOST/DB",
        ),
        (
            {"max_body_bytes": "ten"},
            "invalid configuration: DECLASS_MAX_BODY_BYTES: Input should be a valid integer, "
            "unable to parse string as an integer",
        ),
        (
            {"jwt_secret": "short"},
            "invalid configuration: DECLASS_JWT_SECRET must be at least 32 bytes of random data",
        ),
        (
            {"environment": "production"},
            "invalid configuration: DECLASS_JWT_SECRET: required in production",
        ),
    ],
)
def test_bad_values_stop_start_up_with_one_line(overrides: dict[str, object], message: str) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(**overrides)
    assert str(caught.value) == message
    assert "\n" not in str(caught.value)


def test_secret_never_appears_in_repr() -> None:
    settings = load_settings(jwt_secret=GOOD_SECRET)
    assert GOOD_SECRET not in repr(settings)
    assert GOOD_SECRET not in str(settings.model_dump())
