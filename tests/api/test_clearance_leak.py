"""Nobody sees text above their clearance, over the whole real corpus.

An admin (TOP SECRET) ingests every corpus cable. Then CONFIDENTIAL-cleared callers (a
reviewer, a supervisor and a records system) read cables through every GET route that takes
a cable (the reviewer every cable, the others every cable holding classified text; the
reviewer also every portion of those through every portion route), every page of the list,
list searches (`q=`) for words of SECRET subjects, and release previews. No 40-character
window of any SECRET or TOP SECRET portion's text may appear in any response (windows that
also occur in text the caller may read are not evidence of a leak and are left out).

The check itself, `assert_no_secret_text(body, windows)` in tests/factories.py, is meant to
be reused by every feature that renders cable text (exports, release previews, audit).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from factories import assert_no_secret_text, make_principal_headers, text_windows
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from test_authz_matrix import app_routes

from service.auth.models import Role
from service.markings import Level

pytest.importorskip("service.parsing")
pytestmark = [pytest.mark.corpus, pytest.mark.slow]

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus" / "cables"
CLASSIFIED = {Level.SECRET.value, Level.TOP_SECRET.value}
READER_ROLES = (Role.reviewer, Role.supervisor, Role.integration)
CABLE_ROUTE = re.compile(r"^/api/v1/cables/\{ref_id\}(/[a-z_-]+)*$")
PORTION_ROUTE = re.compile(r"^/api/v1/cables/\{ref_id\}/portions/\{seq\}(/[a-z_-]+)*$")


class Corpus:
    """What the TOP SECRET admin saw after ingesting the corpus."""

    def __init__(self, cables: list[dict[str, Any]]) -> None:
        self.cables = cables
        self.classified_cables = [
            c for c in cables if any(p["level"] in CLASSIFIED for p in c["portions"])
        ]
        secret, readable = [], []
        for cable in cables:
            for portion in cable["portions"]:
                (secret if portion["level"] in CLASSIFIED else readable).append(portion["text"])
        # Markings are metadata every caller sees ("(S//REL AFGHANISTAN, ...)" is in both
        # the portion's text and its `marking`), so windows inside them prove nothing.
        markings = [p["marking"] for c in cables for p in c["portions"] if p["marking"]]
        readable_windows: set[str] = set()
        for text in readable + markings:
            readable_windows |= text_windows(text)
        self.windows: set[str] = set()
        for text in secret:
            self.windows |= text_windows(text)
        self.windows -= readable_windows
        readable_text = "\n".join(readable)
        self.secret_subjects = {
            cable["subject"]
            for cable in cables
            if cable["classification"] in CLASSIFIED
            and cable["subject"]
            and len(cable["subject"]) >= 12
            and cable["subject"] not in readable_text
        }

    def search_words(self, limit: int = 25) -> list[str]:
        words: dict[str, None] = {}
        for cable in self.cables:
            if cable["classification"] in CLASSIFIED and cable["subject"]:
                for word in re.findall(r"[A-Za-z]{6,}", cable["subject"]):
                    words.setdefault(word.lower(), None)
        return list(words)[:limit]


@pytest.fixture
def corpus(client: TestClient, engine: Engine) -> Corpus:
    if not CORPUS.is_dir():
        pytest.skip(f"{CORPUS} not found: the shared corpus is not beside this clone")
    files = sorted(CORPUS.glob("*.txt"))
    assert len(files) > 100
    admin = make_principal_headers(client, engine, Role.admin, Level.TOP_SECRET)
    cables = []
    for path in files:
        response = client.post(
            "/api/v1/cables",
            content=path.read_bytes(),
            headers={**admin, "Content-Type": "text/plain"},
        )
        assert response.status_code in (200, 201), f"{path.name}: {response.text[:300]}"
        ref_id = response.json()["ref_id"]
        cables.append(client.get(f"/api/v1/cables/{ref_id}", headers=admin).json())
    found = Corpus(cables)
    assert len(found.windows) > 10_000, "the corpus should hold SECRET text to test with"
    return found


class Checker:
    def __init__(self, client: TestClient, corpus: Corpus) -> None:
        self.client = client
        self.corpus = corpus
        self.responses = 0

    def get(self, url: str, headers: dict[str, str], **params: Any) -> Any:
        response = self.client.get(url, headers=headers, params=params)
        assert response.status_code != 500, url
        assert_no_secret_text(response.content, self.corpus.windows, where=f"in {url}")
        text = response.content.decode("utf-8", "replace")
        leaked = [s for s in self.corpus.secret_subjects if s in text]
        assert leaked == [], f"SECRET subjects in {url}: {leaked[:2]}"
        self.responses += 1
        return response


def cable_routes(app: FastAPI, pattern: re.Pattern[str]) -> list[str]:
    return sorted(
        path for method, path in app_routes(app) if method == "GET" and pattern.match(path)
    )


def test_confidential_callers_never_receive_secret_text(
    app: FastAPI, client: TestClient, engine: Engine, corpus: Corpus
) -> None:
    checker = Checker(client, corpus)
    per_cable = cable_routes(app, CABLE_ROUTE)
    per_portion = cable_routes(app, PORTION_ROUTE)
    assert "/api/v1/cables/{ref_id}" in per_cable
    for role in READER_ROLES:
        headers = make_principal_headers(client, engine, role, Level.CONFIDENTIAL)
        # The reviewer reads every cable; the others (and the per-portion routes) read the
        # cables that hold classified text, where a leak could come from.
        cables = corpus.cables if role is Role.reviewer else corpus.classified_cables
        for cable in cables:
            for route in per_cable:
                url = route.replace("{ref_id}", cable["ref_id"])
                checker.get(url, headers)
                if route.endswith("/release"):
                    checker.get(url, headers, preview="true")
                    if role is Role.supervisor:
                        checker.get(url, {**headers, "Accept": "text/plain"}, preview="true")
            if role is not Role.reviewer or cable not in corpus.classified_cables:
                continue
            for portion in cable["portions"]:
                for route in per_portion:
                    url = route.replace("{ref_id}", cable["ref_id"])
                    checker.get(url.replace("{seq}", str(portion["seq"])), headers)
        cursor: str | None = None
        pages = 0
        while pages == 0 or cursor:
            params = {"limit": "50", **({"cursor": cursor} if cursor else {})}
            cursor = checker.get("/api/v1/cables", headers, **params).json()["next_cursor"]
            pages += 1
        assert pages == len(corpus.cables) // 50 + 1
        for word in corpus.search_words():
            checker.get("/api/v1/cables", headers, q=word)
    assert checker.responses > 2 * len(corpus.cables) + 2 * len(corpus.classified_cables)


def test_the_checker_catches_a_leak() -> None:
    """The check is not vacuous: a body carrying one window of SECRET text fails it, in JSON
    (with escapes) or as plain text; a withheld portion passes."""
    secret = '(S) The minister said, privately, that the "deal" was off.\nHe left.'
    windows = text_windows(secret)
    for body in [json.dumps({"items": [{"text": f"x {secret[5:50]} y"}]}), secret[3:60]]:
        with pytest.raises(AssertionError, match="classified windows leaked"):
            assert_no_secret_text(body.encode(), windows)
    assert_no_secret_text(b'{"text": null, "withheld_for_clearance": true}', windows)
