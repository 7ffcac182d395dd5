"""`declass users create`, `declass service-accounts create` and `declass demo bootstrap`,
run through typer's CliRunner against the test database."""

from __future__ import annotations

import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from factories import auth_headers, client_headers
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlmodel import Session
from typer.testing import CliRunner

from service.auth import service
from service.cables.models import Cable, Portion
from service.cli import app as cli
from service.settings import get_settings

runner = CliRunner()
PASSWORD = "pw-from-stdin-0123"


@pytest.fixture(autouse=True)
def cli_env(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("DECLASS_ENVIRONMENT", "test")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_users_create_reads_the_password_from_stdin(client: TestClient, engine: Engine) -> None:
    args = ["users", "create", "dave", "--role", "reviewer", "--role", "approver"]
    args += ["--clearance", "TOP SECRET", "--queue", "asia", "--queue", "europe"]
    result = runner.invoke(cli, args, input=PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    assert PASSWORD not in result.output
    with Session(engine) as session:
        user = service.get_user(session, "dave")
        assert (user.roles, user.clearance, user.queues) == (
            ["reviewer", "approver"],
            "TOP SECRET",
            ["asia", "europe"],
        )
    headers = auth_headers(client, "dave", PASSWORD)
    assert client.get("/api/v1/users/me", headers=headers).json()["username"] == "dave"


@pytest.mark.parametrize(
    ("args", "stdin", "code"),
    [
        (["--role", "reviewer", "--clearance", "SECRET"], "short\n", 2),
        (["--role", "root", "--clearance", "SECRET"], PASSWORD + "\n", 2),
        (["--role", "reviewer", "--clearance", "COSMIC"], PASSWORD + "\n", 2),
    ],
)
def test_users_create_refuses_bad_input(args: list[str], stdin: str, code: int) -> None:
    result = runner.invoke(cli, ["users", "create", "erin", *args], input=stdin)
    assert result.exit_code == code
    assert "short" not in result.output.replace("shorter", "")


def test_users_create_refuses_a_taken_username() -> None:
    args = ["users", "create", "erin", "--role", "reviewer", "--clearance", "SECRET"]
    assert runner.invoke(cli, args, input=PASSWORD + "\n").exit_code == 0
    again = runner.invoke(cli, args, input=PASSWORD + "\n")
    assert again.exit_code == 1
    assert "taken" in again.output


def test_service_accounts_create_prints_the_secret_once(client: TestClient) -> None:
    result = runner.invoke(cli, ["service-accounts", "create", "NARA", "--clearance", "SECRET"])
    assert result.exit_code == 0, result.output
    values = dict(
        line.split("=", 1) for line in result.stdout.splitlines() if line.startswith("client_")
    )
    headers = client_headers(client, values["client_id"], values["client_secret"])
    me = client.get("/api/v1/users/me", headers=headers).json()
    assert (me["kind"], me["clearance"], me["roles"]) == ("service", "SECRET", ["integration"])


def test_demo_bootstrap_creates_accounts_once_with_a_private_credentials_file(
    client: TestClient, engine: Engine, tmp_path: Path
) -> None:
    credentials = tmp_path / "var" / "demo-credentials.txt"
    args = ["demo", "bootstrap", "--credentials-file", str(credentials)]
    first = runner.invoke(cli, args)
    assert first.exit_code == 0, first.output
    assert stat.S_IMODE(credentials.stat().st_mode) == 0o600
    rows = [line.split("\t") for line in credentials.read_text().splitlines()]
    logins = [row[0] for row in rows]
    assert logins[:7] == [
        "admin",
        "reviewer-u",
        "reviewer-c",
        "reviewer-s",
        "reviewer-ts",
        "approver",
        "supervisor",
    ]
    assert logins[7].startswith("svc-")
    for _login, secret, _what in rows:
        assert secret in first.output  # printed once, on the console
    for login, secret, _what in rows[:7]:
        assert auth_headers(client, login, secret)
    me = client.get("/api/v1/users/me", headers=client_headers(client, rows[7][0], rows[7][1]))
    assert me.json()["roles"] == ["integration"]
    second = runner.invoke(cli, args)
    assert second.exit_code == 0
    assert "Already there" in second.output
    assert len(credentials.read_text().splitlines()) == 8
    with Session(engine) as session:
        assert session.execute(select(func.count()).select_from(Cable)).scalar_one() == 1
        placements = session.execute(select(Portion.queue, Portion.assignee)).all()
    # The demo reviewers sit in every default queue, so the demo cable is someone's work.
    assert len(placements) == 9
    assert {queue for queue, _ in placements} == {"foreign-government"}
    assert all(
        assignee in {"reviewer-c", "reviewer-s", "reviewer-ts"} for _, assignee in placements
    )
