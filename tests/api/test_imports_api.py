"""POST /api/v1/imports and GET /api/v1/imports/{id}: uploads spooled to disk, imported by
the server's worker, every row accounted for; idempotency keys; limits and roles."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from factories import make_principal_headers
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from service.auth.models import Role
from service.main import create_app
from service.settings import Settings

CSV = {"Content-Type": "text/csv"}
ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "service" / "demo" / "07TOKYO5624.txt"
CORPUS = ROOT.parent / "shared" / "corpus"


def shared_path(*parts: str) -> Path:
    path = CORPUS.joinpath(*parts[1:]) if parts[0] == "corpus" else CORPUS.parent.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} not found: the shared corpus is not beside this clone")
    return path


@pytest.fixture
def spool(tmp_path: Path) -> Path:
    return tmp_path / "spool"


@pytest.fixture
def app(settings: Settings, spool: Path) -> FastAPI:
    fast = settings.model_copy(
        update={
            "import_spool_dir": spool,
            "import_poll_seconds": 0.05,
            "import_batch_size": 100,
            "import_max_bytes": 4 * 1024 * 1024,
            "webhook_worker_enabled": False,
        }
    )
    return create_app(fast)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


def headers(client: TestClient, engine: Engine, role: Role) -> dict[str, str]:
    return make_principal_headers(client, engine, role)


def wait_done(client: TestClient, href: str, auth: dict[str, str], timeout: float = 240) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = client.get(href, headers=auth).json()
        if body["status"] in ("completed", "failed"):
            return body
        time.sleep(0.1)
    raise AssertionError(f"import not finished in {timeout} s: {body}")


def seed_text() -> str:
    return SEED.read_text(encoding="utf-8")


@pytest.mark.corpus
@pytest.mark.slow
def test_both_corpus_files_import_through_the_api_with_every_row_accounted_for(
    client: TestClient, engine: Engine, spool: Path
) -> None:
    admin = headers(client, engine, Role.admin)
    integration = headers(client, engine, Role.integration)
    response = client.post(
        "/api/v1/imports",
        content=shared_path("corpus", "cables.csv").read_bytes(),
        headers={**admin, **CSV},
    )
    assert response.status_code == 202, response.text
    assert response.headers["Location"] == response.json()["href"]
    first = wait_done(client, response.json()["href"], admin)
    assert (first["status"], first["format"], first["total"]) == ("completed", "csv", 295)
    assert (first["imported"], first["duplicates"], first["rejected_count"], first["rejected"]) == (
        295,
        0,
        0,
        [],
    )
    assert first["progress"]["percent"] == 100.0
    assert first["progress"]["batches"] == 3

    body = shared_path("corpus", "cables-original-sample.csv").read_bytes()
    response = client.post("/api/v1/imports", content=body, headers={**integration, **CSV})
    assert response.status_code == 202
    second = wait_done(client, response.json()["href"], integration)
    assert (second["format"], second["total"], second["imported"], second["duplicates"]) == (
        "csv-original",
        37,
        0,
        32,
    )
    assert [(r["row"], r["ref_id"]) for r in second["rejected"]] == [
        (1, "66BUENOSAIRES2481"),
        (2, "72TEHRAN1164"),
        (5, "72TEHRAN5055"),
        (9, "75TEHRAN2069"),
        (13, "79TEHRAN8980"),
    ]
    assert second["imported"] + second["duplicates"] + second["rejected_count"] == second["total"]
    assert sorted(spool.iterdir()) == []  # completed uploads are removed
    listed = client.get("/api/v1/cables?limit=500", headers=admin).json()["items"]
    assert len(listed) == 295


def test_ndjson_rows_are_imported_or_rejected_with_their_row_number(
    client: TestClient, engine: Engine
) -> None:
    admin = headers(client, engine, Role.admin)
    lines = [json.dumps({"text": seed_text()}), json.dumps({"text": "07X1\nnot a cable"}), ""]
    response = client.post(
        "/api/v1/imports",
        content="\n".join(lines).encode(),
        headers={**admin, "Content-Type": "application/x-ndjson"},
    )
    assert response.status_code == 202
    body = wait_done(client, response.json()["href"], admin)
    assert (body["format"], body["total"], body["imported"], body["duplicates"]) == (
        "ndjson",
        2,
        1,
        0,
    )
    assert [(r["row"], r["ref_id"]) for r in body["rejected"]] == [(2, "07X1")]
    assert client.get("/api/v1/cables/07TOKYO5624", headers=admin).status_code == 200


def test_an_idempotency_key_returns_the_same_import_for_its_principal(
    client: TestClient, engine: Engine, spool: Path
) -> None:
    first_caller = headers(client, engine, Role.integration)
    other_caller = headers(client, engine, Role.integration)
    body = (json.dumps({"text": seed_text()}) + "\n").encode()
    key = {"Idempotency-Key": "upload-0001"}
    first = client.post("/api/v1/imports", content=body, headers={**first_caller, **key})
    again = client.post("/api/v1/imports", content=body, headers={**first_caller, **key})
    assert (first.status_code, again.status_code) == (202, 202)
    assert again.content == first.content
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    changed = client.post(
        "/api/v1/imports", content=body + b"\n\n", headers={**first_caller, **key}
    )
    assert changed.status_code == 422
    assert changed.headers["content-type"] == "application/problem+json"
    other = client.post("/api/v1/imports", content=body, headers={**other_caller, **key})
    assert other.status_code == 202
    assert other.json()["id"] != first.json()["id"]
    # An integration account sees only its own imports.
    assert client.get(first.json()["href"], headers=other_caller).status_code == 404
    wait_done(client, first.json()["href"], first_caller)
    wait_done(client, other.json()["href"], other_caller)
    assert sorted(p.name for p in spool.iterdir()) == []


def test_limits_roles_and_bad_requests(client: TestClient, engine: Engine, spool: Path) -> None:
    admin = headers(client, engine, Role.admin)
    reviewer = headers(client, engine, Role.reviewer)
    refused = client.post("/api/v1/imports", content=b"x" * 100, headers={**reviewer, **CSV})
    assert refused.status_code == 403
    too_large = client.post(
        "/api/v1/imports", content=b"y" * (4 * 1024 * 1024 + 1), headers={**admin, **CSV}
    )
    assert too_large.status_code == 413
    assert too_large.headers["content-type"] == "application/problem+json"
    empty = client.post("/api/v1/imports", content=b"", headers={**admin, **CSV})
    assert empty.status_code == 422
    bad_key = client.post(
        "/api/v1/imports", content=b"{}", headers={**admin, "Idempotency-Key": "a b"}
    )
    assert bad_key.status_code == 400
    bad_format = client.post("/api/v1/imports?format=xml", content=b"{}", headers=admin)
    assert bad_format.status_code == 422
    assert not spool.exists() or sorted(spool.iterdir()) == []
    assert client.get("/api/v1/imports/nope", headers=admin).status_code == 404
