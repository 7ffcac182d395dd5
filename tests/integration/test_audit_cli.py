"""`declass verify-audit` and `declass audit checkpoint`: exit codes and output."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from audit_helpers import tamper
from sqlalchemy import Engine
from typer.testing import CliRunner

from service.audit.models import AuditAction
from service.audit.service import record
from service.auth.principal import system_principal
from service.cli import app
from service.db import unit_of_work
from service.settings import get_settings

KEY = "cli-checkpoint-key-0123456789abcdef01234"


@pytest.fixture
def cli_env(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    checkpoint = tmp_path / "audit.checkpoint"
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("DECLASS_ENVIRONMENT", "test")
    monkeypatch.setenv("DECLASS_AUDIT_CHECKPOINT_FILE", str(checkpoint))
    monkeypatch.setenv("DECLASS_AUDIT_CHECKPOINT_KEY", KEY)
    get_settings.cache_clear()
    yield checkpoint
    get_settings.cache_clear()


def _fill(engine: Engine, count: int) -> None:
    with unit_of_work(engine) as session:
        for n in range(count):
            record(
                session,
                actor=system_principal("cli"),
                action=AuditAction.rule_changed,
                entity="rule",
                entity_id=f"r{n}",
            )


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout


def test_verify_audit_exit_codes_and_json(engine: Engine, cli_env: Path) -> None:
    _fill(engine, 6)
    code, out = _run("verify-audit", "--json")
    body = json.loads(out)
    assert code == 0
    assert (body["valid"], body["count"]) == (True, 6)
    assert "first_bad_seq" not in body

    code, out = _run("verify-audit")
    assert code == 0
    assert out.startswith("audit log intact: 6 events, head ")

    tamper(engine, "UPDATE audit_event SET entity_id = 'forged' WHERE seq = 4")
    code, out = _run("verify-audit", "--json")
    body = json.loads(out)
    assert code == 1
    assert (body["valid"], body["count"], body["first_bad_seq"]) == (False, 6, 4)
    code, out = _run("verify-audit")
    assert code == 1
    assert out.startswith("audit log BROKEN: first bad seq 4: seq 4: the stored hash")


def test_checkpoint_then_truncation_is_caught(engine: Engine, cli_env: Path) -> None:
    _fill(engine, 10)
    code, out = _run("audit", "checkpoint", "--json")
    assert code == 0
    assert json.loads(out)["checkpoint_count"] == 10
    assert json.loads(cli_env.read_text())["count"] == 10

    tamper(engine, "DELETE FROM audit_event WHERE seq > 8")
    code, out = _run("verify-audit", "--json")
    body = json.loads(out)
    assert code == 1
    assert (body["valid"], body["count"], body["first_bad_seq"]) == (False, 8, 9)
    assert (_run("audit", "checkpoint")[0], json.loads(cli_env.read_text())["count"]) == (1, 10)


def test_verify_audit_with_checkpoint_flag_writes_one(engine: Engine, cli_env: Path) -> None:
    _fill(engine, 3)
    code, out = _run("verify-audit", "--checkpoint")
    assert code == 0
    assert "checkpoint written at 3 events" in out
    assert json.loads(cli_env.read_text())["count"] == 3


def test_a_checkpoint_file_without_a_key_is_a_configuration_error(
    engine: Engine, cli_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DECLASS_AUDIT_CHECKPOINT_KEY")
    get_settings.cache_clear()
    assert _run("audit", "checkpoint")[0] == 2
