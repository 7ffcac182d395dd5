"""The OpenAPI document is valid, complete, and committed as a snapshot, so every API change
is a visible diff (`make openapi` rewrites docs/openapi.json)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
from openapi_spec_validator import validate

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))

from write_openapi import SNAPSHOT, render  # noqa: E402


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(render())
    return loaded


def operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, operation)
        for path, item in spec["paths"].items()
        for method, operation in item.items()
    ]


def test_the_document_passes_openapi_spec_validator(spec: dict[str, Any]) -> None:
    validate(spec)


def test_the_committed_snapshot_is_current(spec: dict[str, Any]) -> None:
    committed = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    assert committed == spec, "the API changed: run `make openapi` and commit docs/openapi.json"


def test_operation_ids_are_unique_and_readable(spec: dict[str, Any]) -> None:
    ids = [operation["operationId"] for _, _, operation in operations(spec)]
    assert len(ids) == len(set(ids))
    assert all(op_id.isidentifier() and "api_v1" not in op_id for op_id in ids)


def test_every_error_response_is_a_problem(spec: dict[str, Any]) -> None:
    for path, method, operation in operations(spec):
        for code, response in operation["responses"].items():
            if code.isdigit() and int(code) >= 400:
                content = response["content"]
                assert list(content) == ["application/problem+json"], (path, method, code)
                schema = content["application/problem+json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/Problem"}


def test_protected_operations_declare_bearer_and_401(spec: dict[str, Any]) -> None:
    public = {"/healthz", "/readyz", "/metrics", "/api/v1/auth/token"}
    for path, method, operation in operations(spec):
        if path in public or not path.startswith("/api/"):
            continue
        if path == "/api/v1/schedule/calendar.ics":
            continue  # a feed token in the query, not a bearer token
        assert operation.get("security"), (path, method)
        assert "401" in operation["responses"], (path, method)


def test_if_match_routes_declare_412_and_428(spec: dict[str, Any]) -> None:
    found = 0
    for _path, _method, operation in operations(spec):
        names = {p["name"].lower() for p in operation.get("parameters", [])}
        if "if-match" in names:
            found += 1
            assert {"412", "428"} <= operation["responses"].keys()
    assert found >= 4
