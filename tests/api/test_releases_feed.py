"""GET /api/v1/releases: finalized cables in release order, with a cursor that resumes
exactly where a records system stopped, while releases keep arriving.

Releases are written here the way `review.finalize` writes them (a `release` row and the
`cable.finalized` audit event in one transaction), so the feed is tested on its own."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

from factories import make_principal_headers
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlmodel import col

from service.audit.models import AuditAction
from service.audit.service import record
from service.auth.models import Role
from service.auth.principal import system_principal
from service.cables.models import Cable
from service.db import unit_of_work
from service.review.models import Release

FEED = "/api/v1/releases"


def make_cables(engine: Engine, count: int) -> list[str]:
    refs = [f"09FEED{n}" for n in range(1, count + 1)]
    with unit_of_work(engine) as session:
        for ref in refs:
            session.add(
                Cable.model_validate(
                    {
                        "ref_id": ref,
                        "classification": "SECRET",
                        "raw_text": f"{ref} secret words",
                        "raw_sha256": "0" * 64,
                    }
                )
            )
    return refs


def finalize(engine: Engine, ref_id: str, status: str = "released") -> None:
    with unit_of_work(engine) as session:
        cable = session.execute(select(Cable).where(col(Cable.ref_id) == ref_id)).scalar_one()
        session.add(
            Release.model_validate(
                {
                    "cable_id": cable.id,
                    "status": status,
                    "finalized_by": "sup",
                    "text": "released text",
                    "json_text": "{}",
                    "pdf": b"%PDF",
                    "text_sha256": "1" * 64,
                    "json_sha256": "2" * 64,
                    "pdf_sha256": "3" * 64,
                }
            )
        )
        record(
            session,
            actor=system_principal("sup"),
            action=AuditAction.cable_finalized,
            entity="cable",
            entity_id=ref_id,
            ref_id=ref_id,
            detail={"status": {"old": "ready", "new": status}},
        )


def page(client: TestClient, headers: dict[str, str], cursor: str | None, limit: int) -> Any:
    params: dict[str, Any] = {"limit": limit}
    if cursor is not None:
        params["cursor"] = cursor
    response = client.get(FEED, params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response


def read_all(
    client: TestClient, headers: dict[str, str], cursor: str | None, limit: int
) -> tuple[list[str], str]:
    seen: list[str] = []
    while True:
        body = page(client, headers, cursor, limit).json()
        seen += [item["ref_id"] for item in body["items"]]
        cursor = body["resume_cursor"]
        if body["next_cursor"] is None:
            assert cursor is not None
            return seen, cursor


def test_release_order_pages_and_resuming(client: TestClient, engine: Engine) -> None:
    reader = make_principal_headers(client, engine, Role.reviewer)
    refs = make_cables(engine, 7)
    order = [refs[2], refs[0], refs[4], refs[1], refs[3]]
    for ref in order:
        finalize(engine, ref, "withheld" if ref == refs[4] else "released")

    first = page(client, reader, None, 2)
    body = first.json()
    assert [i["ref_id"] for i in body["items"]] == order[:2]
    assert first.headers["Link"].endswith('rel="next"')
    assert body["items"][0] == {
        "sequence": body["items"][0]["sequence"],
        "ref_id": order[0],
        "status": "released",
        "released_at": body["items"][0]["released_at"],
        "links": {
            "cable": f"/api/v1/cables/{order[0]}",
            "release": f"/api/v1/cables/{order[0]}/release",
        },
    }
    seen, resume = read_all(client, reader, None, 2)
    assert seen == order
    statuses = [i["status"] for i in page(client, reader, None, 10).json()["items"]]
    assert statuses == ["released", "released", "withheld", "released", "released"]
    sequences = [i["sequence"] for i in page(client, reader, None, 10).json()["items"]]
    assert sequences == sorted(sequences)

    last = page(client, reader, resume, 2)
    assert last.json() == {"items": [], "next_cursor": None, "resume_cursor": resume}
    assert "Link" not in last.headers
    finalize(engine, refs[6])
    finalize(engine, refs[5])
    newer, _ = read_all(client, reader, resume, 2)
    assert newer == [refs[6], refs[5]]
    assert "secret words" not in page(client, reader, None, 10).text


def test_no_release_is_skipped_or_repeated_while_releases_arrive(
    client: TestClient, engine: Engine
) -> None:
    reader = make_principal_headers(client, engine, Role.integration)
    refs = make_cables(engine, 40)
    done = threading.Event()

    def release_all(batch: Sequence[str]) -> None:
        for ref in batch:
            finalize(engine, ref)

    writers = [threading.Thread(target=release_all, args=(refs[i::2],)) for i in range(2)]
    for writer in writers:
        writer.start()
    seen: list[str] = []
    cursor: str | None = None
    while True:
        finished = done.is_set()
        body = page(client, reader, cursor, 3).json()
        seen += [item["ref_id"] for item in body["items"]]
        cursor = body["resume_cursor"]
        if finished and body["next_cursor"] is None and not body["items"]:
            break
        if all(not w.is_alive() for w in writers):
            done.set()
    for writer in writers:
        writer.join()
    full = [item["ref_id"] for item in page(client, reader, None, 500).json()["items"]]
    assert sorted(full) == sorted(refs)
    assert seen == full  # every release once, in release order


def test_a_cursor_not_issued_here_is_400(client: TestClient, engine: Engine) -> None:
    reader = make_principal_headers(client, engine, Role.reviewer)
    response = client.get(FEED, params={"cursor": "not-a-cursor"}, headers=reader)
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
