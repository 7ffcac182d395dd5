"""Configuration: one pydantic-settings class, read from `DECLASS_*` and `DATABASE_URL`.

Settings are validated when the application or a CLI command starts; a bad value stops
start-up with a one-line message (see `load_settings`). Secrets are `SecretStr`, so they
never appear in a repr or a log line.
"""

from __future__ import annotations

import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import (
    AliasChoices,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_SQLITE_URL = "sqlite:///./var/declass.db"
WEAK_SECRETS = frozenset({"secret", "changeme", "change-me", "password", "declass", "default"})
MIN_HMAC_SECRET_BYTES = 32
# Seconds before each webhook retry: 11 attempts over about 24 hours (docs/integration.md).
WEBHOOK_RETRY_SCHEDULE = (5, 30, 120, 600, 1800, 3600, 7200, 14400, 28800, 28800)


class SettingsError(RuntimeError):
    """A configuration value is unusable; the message is one line naming the variable."""


class Settings(BaseSettings):
    """Everything Declass can be configured with. Environment names are `DECLASS_<FIELD>`."""

    model_config = SettingsConfigDict(env_prefix="DECLASS_", extra="ignore", frozen=True)

    database_url: str = Field(
        default=DEFAULT_SQLITE_URL,
        validation_alias=AliasChoices("DATABASE_URL", "DECLASS_DATABASE_URL"),
        description="SQLAlchemy URL; sqlite:///path or postgresql://user@host/db",
    )
    environment: Literal["development", "production", "test"] = "development"
    log_format: Literal["console", "json"] | None = None
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    page_limit_default: int = Field(default=50, ge=1, le=500)
    page_limit_max: int = Field(default=500, ge=1, le=5000)
    db_pool_size: int = Field(default=10, ge=1, le=200)
    # Sync routes run on a pool of this many worker threads (anyio's default limiter,
    # FastAPI's default 40). docs/benchmarks.md measures 2 to 40 threads: the service's
    # throughput barely changes, its latency spread narrows with fewer.
    worker_threads: int = Field(default=40, ge=1, le=1000)
    sqlite_busy_timeout_ms: int = Field(default=10_000, ge=100)

    # EdDSA is not offered: python-jose 3.5.0 has no EdDSA/Ed25519 support (see auth/security.py).
    jwt_algorithm: Literal["HS256", "RS256"] = "HS256"
    jwt_secret: SecretStr | None = None
    jwt_previous_secrets: list[SecretStr] = Field(default_factory=list)
    jwt_private_key_file: Path | None = None
    jwt_public_key_files: list[Path] = Field(default_factory=list)
    jwt_issuer: str = "declass"
    jwt_audience: str = "declass-api"
    jwt_ttl_seconds: int = Field(default=3600, ge=60, le=86_400)
    jwt_leeway_seconds: int = Field(default=30, ge=0, le=300)

    login_attempts_per_window: int = Field(default=10, ge=1)
    login_window_seconds: int = Field(default=300, ge=1)
    # Abuse limits (docs/reliability.md): JSON and form bodies, and expensive queries.
    max_json_body_bytes: int = Field(default=64 * 1024, ge=1024)
    expensive_requests_per_window: int = Field(default=60, ge=1)
    expensive_window_seconds: int = Field(default=60, ge=1)
    public_paths: list[str] = Field(
        default_factory=lambda: ["/healthz", "/readyz", "/metrics", "/docs", "/openapi.json"]
    )

    audit_checkpoint_file: Path | None = None
    audit_checkpoint_key: SecretStr | None = None

    # Records-system integration (service/integrations, docs/integration.md).
    import_spool_dir: Path = Path("var/imports")
    import_max_bytes: int = Field(default=4 * 1024**3, ge=1024)
    import_max_line_bytes: int = Field(default=16 * 1024 * 1024, ge=1024)
    import_max_rows: int = Field(default=1_000_000, ge=1)
    import_batch_size: int = Field(default=50, ge=1, le=10_000)
    import_parse_workers: int = Field(default=0, ge=0, le=64)
    import_lease_seconds: float = Field(default=30.0, gt=0)
    import_poll_seconds: float = Field(default=1.0, gt=0)
    import_idempotency_ttl_seconds: int = Field(default=86_400, ge=86_400)
    import_worker_enabled: bool = True
    webhook_allowed_hosts: list[str] = Field(default_factory=list)
    webhook_timeout_seconds: float = Field(default=15.0, gt=0, le=60)
    # Delay before each retry (seconds); after the last one the delivery has failed.
    webhook_retry_schedule: list[float] = Field(
        default_factory=lambda: [float(s) for s in WEBHOOK_RETRY_SCHEDULE], min_length=1
    )
    webhook_retry_jitter: float = Field(default=0.2, ge=0, le=1)
    webhook_disable_after_seconds: float = Field(default=86_400.0, gt=0)
    webhook_poll_seconds: float = Field(default=1.0, gt=0)
    webhook_lease_seconds: float = Field(default=60.0, gt=0)
    webhook_batch_size: int = Field(default=20, ge=1, le=500)
    webhook_worker_enabled: bool = True
    # How long a signing secret replaced by a rotation still signs deliveries (a 2nd signature).
    webhook_secret_grace_seconds: int = Field(default=86_400, ge=0, le=30 * 86_400)
    # Idempotency-Key records are kept this long (at least a day, as the draft asks), and a
    # request's claim on its key lapses after idempotency_lock_seconds if its process died.
    idempotency_ttl_seconds: int = Field(default=86_400, ge=86_400)
    idempotency_lock_seconds: float = Field(default=60.0, gt=0, le=3600)

    @field_validator("database_url")
    @classmethod
    def _normalise_database_url(cls, value: str) -> str:
        value = value.strip()
        if value.startswith("postgres://"):
            value = "postgresql://" + value.removeprefix("postgres://")
        if value.startswith("postgresql://"):
            value = "postgresql+psycopg://" + value.removeprefix("postgresql://")
        if not value.startswith(("sqlite:///", "postgresql+psycopg://")):
            raise ValueError("must be sqlite:///PATH or postgresql://USER@HOST/DB")
        return value

    @model_validator(mode="after")
    def _check_key_material(self) -> Settings:
        if self.jwt_algorithm == "HS256":
            if self.jwt_private_key_file or self.jwt_public_key_files:
                raise ValueError("HS256 takes DECLASS_JWT_SECRET only, not key files")
            for secret in [self.jwt_secret, *self.jwt_previous_secrets]:
                if secret is None:
                    continue
                raw = secret.get_secret_value()
                if len(raw.encode()) < MIN_HMAC_SECRET_BYTES or raw.lower() in WEAK_SECRETS:
                    raise ValueError(
                        f"DECLASS_JWT_SECRET must be at least {MIN_HMAC_SECRET_BYTES} bytes "
                        "of random data"
                    )
        else:
            if self.jwt_secret is not None:
                raise ValueError(f"{self.jwt_algorithm} takes key files, not DECLASS_JWT_SECRET")
            if self.jwt_private_key_file is None:
                raise ValueError(f"{self.jwt_algorithm} needs DECLASS_JWT_PRIVATE_KEY_FILE")
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def sqlite_path(self) -> Path | None:
        if not self.is_sqlite:
            return None
        return Path(self.database_url.removeprefix("sqlite:///"))

    def resolved_log_format(self) -> Literal["console", "json"]:
        if self.log_format is not None:
            return self.log_format
        return "json" if self.environment == "production" else "console"


def _describe(error: ValidationError) -> str:
    first = error.errors()[0]
    message = str(first["msg"]).removeprefix("Value error, ")
    loc = ".".join(str(part) for part in first["loc"]).lower().removeprefix("declass_")
    if not loc:
        return f"invalid configuration: {message}"
    name = "DATABASE_URL" if loc == "database_url" else f"DECLASS_{loc.upper()}"
    return f"invalid configuration: {name}: {message}"


def load_settings(**overrides: object) -> Settings:
    """Build settings from the environment (and `overrides`), or raise `SettingsError`.

    In development, when no JWT secret is configured, a random per-process secret is used so
    `make run` works out of the box; production refuses to start without one.
    """
    try:
        settings = Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as error:
        raise SettingsError(_describe(error)) from None
    if settings.jwt_algorithm == "HS256" and settings.jwt_secret is None:
        if settings.environment == "production":
            raise SettingsError("invalid configuration: DECLASS_JWT_SECRET: required in production")
        settings = settings.model_copy(update={"jwt_secret": SecretStr(secrets.token_urlsafe(48))})
    return settings


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (CLI entry points); the app keeps its own on `app.state`."""
    return load_settings()
