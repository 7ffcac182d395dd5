"""Write the OpenAPI document to docs/openapi.json (`make openapi`); a test compares them."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from service.main import create_app
from service.settings import load_settings

SNAPSHOT = Path(__file__).resolve().parents[1] / "docs" / "openapi.json"


def render() -> str:
    settings = load_settings(database_url="sqlite:///:memory:", environment="test")
    return json.dumps(create_app(settings).openapi(), indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":
    SNAPSHOT.write_text(render(), encoding="utf-8")
    sys.stdout.write(f"wrote {SNAPSHOT}\n")
