"""Test helper: where the shared cable corpus is and how to read it.

The corpus lives beside the clone (``../shared/corpus``), not in the repository;
tests that need it skip with one fixed reason when it is absent. Files are read
as bytes and decoded strictly, so tests see exactly what ``parse_cable`` sees.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"
MISSING = "shared corpus not found beside the clone"


def require_corpus() -> Path:
    """The corpus directory, or skip the calling test."""
    if not (CORPUS / "cables").is_dir():
        pytest.skip(MISSING)
    return CORPUS


def cable_paths() -> list[Path]:
    """Every cable file, sorted by name (``[]`` when the corpus is absent)."""
    return sorted((CORPUS / "cables").glob("*.txt")) if (CORPUS / "cables").is_dir() else []


def read_cable(ref_id: str) -> str:
    """The text of ``cables/<ref_id>.txt`` exactly as stored."""
    return (require_corpus() / "cables" / f"{ref_id}.txt").read_bytes().decode("utf-8")


@cache
def peer_cases() -> list[dict[str, Any]]:
    """``peer-cases.json`` (``[]`` when the corpus is absent)."""
    path = CORPUS / "peer-cases.json"
    if not path.is_file():
        return []
    data: list[dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))
    return data
