"""The layering of STYLE.md, kept true by walking imports: pure modules import neither
FastAPI nor SQLAlchemy; services never import FastAPI; only auth/security.py imports jose."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SERVICE = Path(__file__).resolve().parents[2] / "service"
WEB = ("fastapi", "starlette")
DATABASE = ("sqlalchemy", "sqlmodel", "alembic", "psycopg")


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _modules(*patterns: str) -> list[Path]:
    found: list[Path] = []
    for pattern in patterns:
        found.extend(sorted(SERVICE.glob(pattern)))
    return found


def _offending(path: Path, prefixes: tuple[str, ...]) -> set[str]:
    return {name for name in _imports(path) if name.split(".")[0] in prefixes}


PURE = [
    "markings.py",
    "schedule.py",
    "decl.py",
    "parsing/*.py",
    "routing/matcher.py",
    "review/states.py",
]


@pytest.mark.parametrize("path", _modules(*PURE), ids=lambda p: str(p.relative_to(SERVICE)))
def test_pure_modules_import_no_web_and_no_database(path: Path) -> None:
    assert _offending(path, WEB + DATABASE) == set()


@pytest.mark.parametrize(
    "path", _modules("*/service.py", "*/services/*.py"), ids=lambda p: str(p.relative_to(SERVICE))
)
def test_services_do_not_import_the_web_framework(path: Path) -> None:
    assert _offending(path, WEB) == set()


def test_only_the_security_module_imports_jose() -> None:
    importers = {
        str(path.relative_to(SERVICE))
        for path in SERVICE.rglob("*.py")
        if _offending(path, ("jose",))
    }
    assert importers <= {"auth/security.py"}


def test_services_never_commit() -> None:
    committing = {
        str(path.relative_to(SERVICE))
        for path in _modules("*/service.py", "*/services/*.py")
        if ".commit()" in path.read_text(encoding="utf-8")
    }
    assert committing == set()
