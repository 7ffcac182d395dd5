"""No two routes of the app (but one pair inside one router) can match the same path, so
the order in which routers are included (service/main.py puts the busiest first) cannot
change which route answers."""

from __future__ import annotations

import itertools
import re

from fastapi import FastAPI
from fastapi.routing import iter_route_contexts

PARAM = re.compile(r"^{\w+(:\w+)?}$")


def templates(app: FastAPI) -> list[str]:
    """Every route's path template, in matching order."""
    ordered = [context.path for context in iter_route_contexts(app.routes) if context.path]
    return list(dict.fromkeys(ordered))


def may_overlap(first: str, second: str) -> bool:
    """Whether some path matches both templates (a `{name}` matches any one segment)."""
    a, b = first.strip("/").split("/"), second.strip("/").split("/")
    if len(a) != len(b):
        return False
    return all(x == y or PARAM.match(x) or PARAM.match(y) for x, y in zip(a, b, strict=True))


def test_the_overlap_check_sees_overlaps() -> None:
    assert may_overlap("/api/v1/cables/{ref_id}", "/api/v1/cables/search")
    assert may_overlap("/a/{x}/c", "/a/{y}/c")
    assert not may_overlap("/api/v1/cables/{ref_id}", "/api/v1/cables/{ref_id}/release")
    assert not may_overlap("/api/v1/cables", "/api/v1/imports")


def test_no_two_routes_match_the_same_path(app: FastAPI) -> None:
    paths = templates(app)
    assert "/api/v1/cables/{ref_id}/portions/{seq}/decision" in paths
    assert len(paths) > 40
    overlapping = [(a, b) for a, b in itertools.combinations(paths, 2) if may_overlap(a, b)]
    # The one exception, inside one router (whose order is its own): /me is declared, and
    # so matched, before /{username}.
    assert overlapping == [("/api/v1/users/me", "/api/v1/users/{username}")]
