"""The OpenAPI document declares `Idempotency-Key` (an optional header) with its 400, 409
and 422 problem responses on exactly the routes that honour it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

SNAPSHOT = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"
IDEMPOTENT = {
    ("put", "/api/v1/cables/{ref_id}/portions/{seq}/decision"),
    ("post", "/api/v1/imports"),
    ("post", "/api/v1/webhooks"),
    ("post", "/api/v1/webhooks/{webhook_id}/secret"),
}


def test_idempotency_key_is_declared_where_it_is_honoured() -> None:
    spec: dict[str, Any] = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    declared = set()
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            params = [p for p in operation.get("parameters", []) if p["name"] == "Idempotency-Key"]
            if not params:
                continue
            declared.add((method, path))
            (param,) = params
            assert (param["in"], param.get("required", False)) == ("header", False)
            assert {"400", "409", "422"} <= operation["responses"].keys(), (method, path)
    assert declared == IDEMPOTENT
