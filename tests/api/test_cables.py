"""Ingest, list and read cables through the API, as the contract says."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from audit_helpers import events_since, head_seq
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlmodel import Session

from service.auth.models import Role
from service.cables.models import Cable, Portion
from service.markings import Level

SEED = Path(__file__).resolve().parents[2] / "service" / "demo" / "07TOKYO5624.txt"
PROBLEM = "application/problem+json"


def seed_text() -> str:
    return SEED.read_text(encoding="utf-8")


def variant(
    ref_id: str, *, classification: str = "CONFIDENTIAL", subject: str | None = None
) -> str:
    """The seed under another reference id (and optionally another level and subject)."""
    lines = seed_text().split("\n")
    lines[0] = ref_id
    if subject is not None:
        lines[1] = subject
    lines[3] = classification
    serial = ref_id[-4:]
    text = "\n".join(lines).replace("TOKYO 005624", f"TOKYO 00{serial}")
    if subject is not None:
        text = text.replace(
            "SUBJECT: CLUSTER MUNITIONS DEMARCHE DELIVERED TO JAPANESE", f"SUBJECT: {subject}"
        )
    if classification == "SECRET":
        text = text.replace("C O N F I D E N T I A L", "S E C R E T").replace("(C)", "(S)")
    return text


def post_text(client: TestClient, headers: dict[str, str], text: str | bytes):  # type: ignore[no-untyped-def]
    return client.post(
        "/api/v1/cables", content=text, headers={"Content-Type": "text/plain", **headers}
    )


def count(engine: Engine, model: type) -> int:
    with Session(engine) as session:
        return int(session.execute(select(func.count()).select_from(model)).scalar_one())


@pytest.fixture
def supervisor(principal_headers) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return principal_headers(Role.supervisor, Level.TOP_SECRET)


def test_ingest_seed_as_text_returns_201_with_parsed_fields(
    client: TestClient, supervisor: dict[str, str], engine: Engine
) -> None:
    response = post_text(client, supervisor, seed_text().encode())
    assert response.status_code == 201, response.text
    assert response.headers["location"] == "/api/v1/cables/07TOKYO5624"
    body = response.json()
    assert body["ref_id"] == "07TOKYO5624"
    assert body["classification"] == "CONFIDENTIAL"
    assert body["origin"] == "Embassy Tokyo"
    assert body["sent_at"] == "2007-12-20T07:53:00Z"
    assert body["eo"] == "12958"
    assert body["decl"] == {"kind": "date", "date": "2017-12-19"}
    assert body["declassify_on"] == "2017-12-19"
    assert "Joe Donovan" in body["classified_by"]
    assert body["reasons"] == ["1.4(b)", "1.4(d)"]
    assert body["tags"] == ["PREL", "PARM", "MOPS", "JA"]
    assert body["references"] == ["STATE 167308"]
    assert body["signer"] == "SCHIEFFER"
    assert "SIPDIS" in body["caveats"]
    assert body["status"] == "received"
    portions = body["portions"]
    assert [p["seq"] for p in portions] == list(range(9))
    assert [p["number"] for p in portions[1:]] == [str(n) for n in range(1, 9)]
    assert {p["marking"] for p in portions[1:]} == {"C"}
    assert "".join(p["text"] for p in portions) == seed_text()
    assert count(engine, Cable) == 1
    assert count(engine, Portion) == 9


def test_ingest_as_json_is_the_same(client: TestClient, supervisor: dict[str, str]) -> None:
    response = client.post("/api/v1/cables", json={"text": seed_text()}, headers=supervisor)
    assert response.status_code == 201
    assert response.json()["ref_id"] == "07TOKYO5624"


def test_same_text_again_is_200_and_changes_nothing(
    client: TestClient, supervisor: dict[str, str], engine: Engine
) -> None:
    assert post_text(client, supervisor, seed_text()).status_code == 201
    head = head_seq(engine)
    again = post_text(client, supervisor, seed_text())
    assert again.status_code == 200
    assert again.json()["ref_id"] == "07TOKYO5624"
    assert count(engine, Cable) == 1
    assert events_since(engine, head) == []


def test_other_text_under_the_same_ref_id_is_409(
    client: TestClient, supervisor: dict[str, str], engine: Engine
) -> None:
    assert post_text(client, supervisor, seed_text()).status_code == 201
    changed = seed_text().replace("Kajita", "Kajitta")
    response = post_text(client, supervisor, changed)
    assert response.status_code == 409
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["detail"].startswith("07TOKYO5624 is already stored with different text")
    assert count(engine, Cable) == 1


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        (b"", ["body", "text"]),
        (b"\xff\xfe\x00garbage", ["body", "text"]),
    ],
)
def test_unusable_text_is_422_and_nothing_is_stored(
    client: TestClient, supervisor: dict[str, str], engine: Engine, body: bytes, loc: list[str]
) -> None:
    before = head_seq(engine)
    response = post_text(client, supervisor, body)
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    problem = response.json()
    assert problem["errors"]
    assert all(error["loc"][0] == "body" for error in problem["errors"])
    assert count(engine, Cable) == 0
    assert count(engine, Portion) == 0
    assert events_since(engine, before) == []


def test_cut_off_header_names_its_line(client: TestClient, supervisor: dict[str, str]) -> None:
    cut = "\n".join(seed_text().split("\n")[:12])
    response = post_text(client, supervisor, cut)
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert any(error["loc"][1].startswith("line ") for error in errors), errors


@pytest.mark.parametrize(
    ("content_type", "body", "status"),
    [
        ("application/json", b'{"text": 5}', 422),
        ("application/json", b'{"txt": "x"}', 422),
        ("application/json", b"{not json", 422),
        ("application/xml", b"<cable/>", 415),
    ],
)
def test_bad_bodies_are_clear_4xx_problems(
    client: TestClient, supervisor: dict[str, str], content_type: str, body: bytes, status: int
) -> None:
    response = client.post(
        "/api/v1/cables", content=body, headers={"Content-Type": content_type, **supervisor}
    )
    assert response.status_code == status
    assert response.headers["content-type"] == PROBLEM


def test_reviewers_may_not_ingest(client: TestClient, principal_headers) -> None:  # type: ignore[no-untyped-def]
    response = post_text(client, principal_headers(Role.reviewer), seed_text())
    assert response.status_code == 403


def test_read_has_a_strong_etag_and_304(client: TestClient, supervisor: dict[str, str]) -> None:
    post_text(client, supervisor, seed_text())
    first = client.get("/api/v1/cables/07TOKYO5624", headers=supervisor)
    assert first.status_code == 200
    etag = first.headers["etag"]
    assert etag.startswith('"')
    assert not etag.startswith("W/")
    again = client.get("/api/v1/cables/07TOKYO5624", headers={"If-None-Match": etag, **supervisor})
    assert again.status_code == 304
    assert again.headers["etag"] == etag


def test_unknown_cable_is_404_problem(client: TestClient, supervisor: dict[str, str]) -> None:
    response = client.get("/api/v1/cables/99NOWHERE1", headers=supervisor)
    assert response.status_code == 404
    assert response.json()["detail"] == "No cable 99NOWHERE1"


def test_clearance_withholds_text_and_header_fields(
    client: TestClient,
    supervisor: dict[str, str],
    principal_headers,  # type: ignore[no-untyped-def]
) -> None:
    post_text(client, supervisor, seed_text())
    reader = principal_headers(Role.reviewer, Level.UNCLASSIFIED)
    body = client.get("/api/v1/cables/07TOKYO5624", headers=reader).json()
    assert body["ref_id"] == "07TOKYO5624"
    assert body["classification"] == "CONFIDENTIAL"
    assert body["declassify_on"] == "2017-12-19"
    assert body["subject"] is None
    assert body["classified_by"] is None
    assert body["header_withheld_for_clearance"] is True
    assert all(p["text"] is None and p["withheld_for_clearance"] for p in body["portions"])
    assert "Kajita" not in json.dumps(body)

    cleared = principal_headers(Role.reviewer, Level.CONFIDENTIAL)
    body = client.get("/api/v1/cables/07TOKYO5624", headers=cleared).json()
    assert body["subject"] == "CLUSTER MUNITIONS DEMARCHE DELIVERED TO JAPANESE"
    assert not any(p["withheld_for_clearance"] for p in body["portions"])


def _ingest_many(client: TestClient, headers: dict[str, str]) -> None:
    for serial, level, subject in [
        ("1001", "CONFIDENTIAL", "FIRST MATTER OF RICE"),
        ("1002", "SECRET", "SECRET MATTER OF RICE"),
        ("1003", "CONFIDENTIAL", "THIRD MATTER"),
        ("1004", "CONFIDENTIAL", "FOURTH MATTER OF RICE"),
    ]:
        response = post_text(
            client, headers, variant(f"07TOKYO{serial}", classification=level, subject=subject)
        )
        assert response.status_code == 201, response.text


def test_list_paginates_with_cursor_and_link(
    client: TestClient, supervisor: dict[str, str]
) -> None:
    _ingest_many(client, supervisor)
    first = client.get("/api/v1/cables?limit=3", headers=supervisor)
    assert first.status_code == 200
    page = first.json()
    assert [c["ref_id"] for c in page["items"]] == ["07TOKYO1001", "07TOKYO1002", "07TOKYO1003"]
    assert page["next_cursor"]
    assert first.headers["link"].endswith('>; rel="next"')
    assert f"cursor={page['next_cursor']}" in first.headers["link"]
    second = client.get(f"/api/v1/cables?limit=3&cursor={page['next_cursor']}", headers=supervisor)
    assert [c["ref_id"] for c in second.json()["items"]] == ["07TOKYO1004"]
    assert second.json()["next_cursor"] is None
    assert "link" not in second.headers


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("classification=SECRET", ["07TOKYO1002"]),
        ("classification=CONFIDENTIAL&limit=2", ["07TOKYO1001", "07TOKYO1003"]),
        ("origin=embassy%20tokyo&limit=1", ["07TOKYO1001"]),
        ("origin=Embassy%20Paris", []),
        ("tag=parm&limit=1", ["07TOKYO1001"]),
        ("tag=NOPE", []),
        ("status=received&limit=1", ["07TOKYO1001"]),
        ("status=released", []),
        ("declassify_after=2017-12-19&declassify_before=2017-12-19&limit=1", ["07TOKYO1001"]),
        ("declassify_after=2017-12-20", []),
        ("q=rice%20matter", ["07TOKYO1001", "07TOKYO1002", "07TOKYO1004"]),
        ("q=FOURTH", ["07TOKYO1004"]),
        ("q=100%25", []),
    ],
)
def test_list_filters(
    client: TestClient, supervisor: dict[str, str], query: str, expected: list[str]
) -> None:
    _ingest_many(client, supervisor)
    response = client.get(f"/api/v1/cables?{query}", headers=supervisor)
    assert response.status_code == 200, response.text
    assert [c["ref_id"] for c in response.json()["items"]] == expected


def test_subject_search_never_matches_above_clearance(
    client: TestClient,
    supervisor: dict[str, str],
    principal_headers,  # type: ignore[no-untyped-def]
) -> None:
    _ingest_many(client, supervisor)
    reader = principal_headers(Role.reviewer, Level.CONFIDENTIAL)
    found = client.get("/api/v1/cables?q=rice", headers=reader).json()["items"]
    assert [c["ref_id"] for c in found] == ["07TOKYO1001", "07TOKYO1004"]
    listed = client.get("/api/v1/cables", headers=reader).json()["items"]
    secret = next(c for c in listed if c["ref_id"] == "07TOKYO1002")
    assert secret["subject"] is None
    assert secret["header_withheld_for_clearance"] is True


@pytest.mark.parametrize(
    "query",
    ["limit=0", "limit=501", "limit=abc", "classification=PUBLIC", "declassify_before=yesterday"],
)
def test_bad_list_parameters_are_422(
    client: TestClient, supervisor: dict[str, str], query: str
) -> None:
    response = client.get(f"/api/v1/cables?{query}", headers=supervisor)
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM


def test_forged_cursor_is_400(client: TestClient, supervisor: dict[str, str]) -> None:
    response = client.get("/api/v1/cables?cursor=not-a-cursor", headers=supervisor)
    assert response.status_code == 400
    assert response.json()["detail"] == "cursor is not one this service issued"
