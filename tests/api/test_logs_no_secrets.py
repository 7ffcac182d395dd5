"""No token, password, secret or portion text in the logs (T-1.11): the logs of a whole API
session (logins, token use, failed logins, ingest, reads, errors) are captured in both
formats at DEBUG level and searched."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from factories import TOKEN_PATH, create_service_account, create_user, text_windows
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from service.auth.models import Role
from service.logging import REDACTED, build_formatter, redact
from service.markings import Level
from service.settings import Settings

SEED = Path(__file__).resolve().parents[2] / "service" / "demo" / "07TOKYO5624.txt"
PASSWORD = "pw-correct-horse-0123"
WRONG_PASSWORD = "pw-wrong-battery-4567"
CLIENT_SIDE = ("httpx", "httpcore")  # the test's own HTTP client, not the service


class NotClientSide(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not record.name.startswith(CLIENT_SIDE)


@pytest.fixture
def captured(settings: Settings, client: TestClient) -> Iterator[list[io.StringIO]]:
    """Everything logged while the test runs, as JSON lines and as console lines."""
    streams = [io.StringIO(), io.StringIO()]
    root = logging.getLogger()
    handlers = []
    for stream, log_format in zip(streams, ["json", "console"], strict=True):
        handler = logging.StreamHandler(stream)
        handler.setFormatter(
            build_formatter(settings.model_copy(update={"log_format": log_format}))
        )
        handler.addFilter(NotClientSide())
        root.addHandler(handler)
        handlers.append(handler)
    level = root.level
    root.setLevel(logging.DEBUG)
    yield streams
    root.setLevel(level)
    for handler in handlers:
        root.removeHandler(handler)


def test_a_full_session_logs_no_secret(
    client: TestClient, engine: Engine, settings: Settings, captured: list[io.StringIO]
) -> None:
    create_user(
        engine, username="root", roles=[Role.admin], clearance=Level.TOP_SECRET, password=PASSWORD
    )
    account, client_secret = create_service_account(engine, name="Records")
    login = client.post(
        TOKEN_PATH, data={"grant_type": "password", "username": "root", "password": PASSWORD}
    )
    token = login.json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    failed = client.post(
        TOKEN_PATH, data={"grant_type": "password", "username": "root", "password": WRONG_PASSWORD}
    )
    assert failed.status_code == 400
    service_login = client.post(
        TOKEN_PATH,
        data={
            "grant_type": "client_credentials",
            "client_id": account.client_id,
            "client_secret": client_secret,
        },
    )
    service_token = service_login.json()["access_token"]
    ingest = client.post(
        "/api/v1/cables",
        content=SEED.read_bytes(),
        headers={**headers, "Content-Type": "text/plain"},
    )
    assert ingest.status_code == 201, ingest.text
    cable = client.get(f"/api/v1/cables/{ingest.json()['ref_id']}", headers=headers).json()
    client.get("/api/v1/cables?q=munitions", headers=headers)
    client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {service_token}"})
    client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {token}x"})
    client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {token[:-5]}"})
    new_user = {
        "username": "carol",
        "password": PASSWORD + "-new",
        "roles": ["nope"],
        "clearance": "SECRET",
    }
    assert client.post("/api/v1/users", json=new_user, headers=headers).status_code == 422

    assert settings.jwt_secret is not None
    secrets = {
        "access token": token,
        "token signature": token.rsplit(".", 1)[1],
        "token prefix": token[:40],
        "service token": service_token,
        "password": PASSWORD,
        "wrong password": WRONG_PASSWORD,
        "client secret": client_secret,
        "jwt secret": settings.jwt_secret.get_secret_value(),
    }
    portion_windows: set[str] = set()
    for portion in cable["portions"]:
        portion_windows |= text_windows(portion["text"])
    assert len(portion_windows) > 1000

    logs = [stream.getvalue() for stream in captured]
    assert all("request" in text for text in logs)  # the access log is there
    for text in logs:
        for what, value in secrets.items():
            assert value not in text, f"{what} appears in the logs"
        leaked = {w for w in portion_windows if w in text}
        assert leaked == set(), f"portion text in the logs: {sorted(leaked)[:2]!r}"


def test_access_log_lines_carry_the_agreed_fields(
    client: TestClient, engine: Engine, settings: Settings, captured: list[io.StringIO]
) -> None:
    create_user(
        engine, username="root", roles=[Role.admin], clearance=Level.TOP_SECRET, password=PASSWORD
    )
    login = client.post(
        TOKEN_PATH, data={"grant_type": "password", "username": "root", "password": PASSWORD}
    )
    headers = {"Authorization": f"Bearer {login.json()['access_token']}", "X-Request-ID": "req-42"}
    client.get("/api/v1/users/root", headers=headers)
    lines = [json.loads(line) for line in captured[0].getvalue().splitlines()]
    [access] = [
        line for line in lines if line["event"] == "request" and line.get("request_id") == "req-42"
    ]
    assert access["method"] == "GET"
    assert access["route"] == "/api/v1/users/{username}"
    assert access["status"] == 200
    assert access["actor"] == "root"
    assert isinstance(access["duration_ms"], float)
    assert access["logger"] == "declass.access"


def test_the_redaction_processor_masks_keys_and_token_shapes() -> None:
    event = {
        "event": "login Bearer abc.def.ghi for eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl",
        "password": "hunter2-hunter2",
        "client_secret": "s3cr3t",
        "headers": {"Authorization": "Bearer x", "accept": "json"},
        "portion_text": "(S) secret words",
        "items": [{"token": "t"}, "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl"],
        "status": 200,
    }
    out = redact(None, "info", dict(event))
    assert out == {
        "event": f"login Bearer {REDACTED} for {REDACTED}",
        "password": REDACTED,
        "client_secret": REDACTED,
        "headers": {"Authorization": REDACTED, "accept": "json"},
        "portion_text": REDACTED,
        "items": [{"token": REDACTED}, REDACTED],
        "status": 200,
    }


def test_redaction_ignores_case_and_leaves_clean_values_as_they_are() -> None:
    event = {
        "event": "retry with BEARER abc and bEaReR def",
        "X-Api_KEY": "k",
        "PassWord": "p",
        "note": "EYJ is not a token; eyJ alone neither",
        "count": 3,
        "ratio": 0.5,
        "flag": True,
        "nothing": None,
        "pair": ("clean", 1),
    }
    out = redact(None, "info", dict(event))
    assert out == {
        "event": f"retry with Bearer {REDACTED} and Bearer {REDACTED}",
        "X-Api_KEY": REDACTED,
        "PassWord": REDACTED,
        "note": "EYJ is not a token; eyJ alone neither",
        "count": 3,
        "ratio": 0.5,
        "flag": True,
        "nothing": None,
        "pair": ["clean", 1],
    }
