"""Operational endpoints and the error contract: every error is problem+json."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from service import migrations
from service.main import create_app
from service.settings import Settings

PROBLEM = "application/problem+json"


def test_healthz(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_when_migrated(client: TestClient, engine: Engine) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "revision": migrations.head_revision(engine)}


def test_readyz_is_503_when_the_schema_is_behind(settings: Settings, engine: Engine) -> None:
    migrations.downgrade(engine, "-1")
    with TestClient(create_app(settings)) as client:
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["detail"] == "The database schema is not at the latest migration"


def test_unknown_route_without_a_token_reveals_nothing(client: TestClient) -> None:
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 401
    assert response.headers["content-type"] == PROBLEM


def test_unknown_route_is_a_problem(client: TestClient, admin_headers: dict[str, str]) -> None:
    response = client.get("/api/v1/nothing-here", headers=admin_headers)
    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM
    assert response.json() == {
        "type": "https://declass.dev/problems/not-found",
        "title": "Not Found",
        "status": 404,
        "detail": "No such resource",
    }


def test_wrong_method_is_a_problem(client: TestClient) -> None:
    response = client.delete("/healthz")
    assert response.status_code == 405
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["detail"] == "This method is not allowed on this resource"
    assert response.headers["allow"] == "GET"


def test_request_id_is_echoed_or_made(client: TestClient) -> None:
    given = client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert given.headers["x-request-id"] == "abc-123"
    made = client.get("/healthz", headers={"X-Request-ID": "bad id with spaces"})
    assert made.headers["x-request-id"] != "bad id with spaces"
    assert len(made.headers["x-request-id"]) == 32


def test_declared_oversized_body_is_413_before_anything_runs(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    body = b"x" * (1024 * 1024 + 1)
    headers = {"Content-Type": "text/plain", **admin_headers}
    response = client.post("/api/v1/cables", content=body, headers=headers)
    assert response.status_code == 413
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["detail"] == "The request body is larger than the limit of 1048576 bytes"


def test_streamed_oversized_body_is_413(client: TestClient, admin_headers: dict[str, str]) -> None:
    def chunks():  # type: ignore[no-untyped-def]
        for _ in range(20):
            yield b"y" * 65536

    headers = {"Content-Type": "text/plain", **admin_headers}
    response = client.post("/api/v1/cables", content=chunks(), headers=headers)
    assert response.status_code == 413
    assert response.json()["status"] == 413
