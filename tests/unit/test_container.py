"""The container image and the compose stack, checked without a Docker engine (none runs on
these machines): hadolint on the Dockerfile, and the compose file's structure."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    assert isinstance(loaded, dict)
    return loaded


def test_hadolint_passes() -> None:
    hadolint = shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")
    result = subprocess.run(
        [hadolint, str(ROOT / "Dockerfile")], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_dockerfile_is_multi_stage_non_root_with_exec_form_cmd_and_healthcheck() -> None:
    text = (ROOT / "Dockerfile").read_text()
    assert len(re.findall(r"^FROM python:3\.\d+-slim", text, flags=re.MULTILINE)) == 2
    assert "USER 10001:10001" in text
    assert 'CMD ["declass", "serve", "--host", "0.0.0.0", "--port", "8000"]' in text
    assert re.search(r'HEALTHCHECK .*\n\s+CMD \["python", "-c", ".*/healthz', text)
    assert not re.search(r"(?i)(secret|password|token)\s*=", text)


def test_compose_database_has_a_health_check_and_a_named_volume(compose: dict[str, Any]) -> None:
    db = compose["services"]["db"]
    assert db["healthcheck"]["test"] == [
        "CMD-SHELL",
        "pg_isready -h 127.0.0.1 -U declass -d declass",
    ]
    assert db["volumes"] == ["pgdata:/var/lib/postgresql/data"]
    assert "pgdata" in compose["volumes"]


def test_compose_migrates_once_before_the_api(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert services["migrate"]["command"] == ["declass", "db", "upgrade"]
    assert services["migrate"]["restart"] == "no"
    assert services["migrate"]["depends_on"] == {"db": {"condition": "service_healthy"}}
    assert services["api"]["depends_on"] == {
        "db": {"condition": "service_healthy"},
        "migrate": {"condition": "service_completed_successfully"},
    }


def test_compose_secrets_come_from_the_environment(compose: dict[str, Any]) -> None:
    for name in ("migrate", "api"):
        env = compose["services"][name]["environment"]
        assert env["DATABASE_URL"].startswith("postgresql://declass:${POSTGRES_PASSWORD:?")
        assert env["DECLASS_JWT_SECRET"].startswith("${DECLASS_JWT_SECRET:?")
    assert compose["services"]["db"]["environment"]["POSTGRES_PASSWORD"].startswith(
        "${POSTGRES_PASSWORD:?"
    )


def test_readme_docker_section_matches_the_files(compose: dict[str, Any]) -> None:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Docker", 1)[1].split("\n## ", 1)[0]
    assert "POSTGRES_PASSWORD=" in section
    assert "DECLASS_JWT_SECRET=" in section
    assert "docker compose up" in section
    for service in compose["services"]:
        assert f"`{service}`" in section
