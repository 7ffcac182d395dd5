"""The routing API: rules CRUD (supervisors), validation, If-Match, audit, apply and the
queues view; and routing seen through ingest."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from factories import create_user
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlmodel import Session, col

from service.audit.models import AuditEvent
from service.auth.models import Role
from service.markings import Level

SEED = Path(__file__).resolve().parents[2] / "service" / "demo" / "07TOKYO5624.txt"
RULES = "/api/v1/routing/rules"
PROBLEM = "application/problem+json"
DEFAULT_NAMES = [
    "senior-restricted-distribution",
    "intelligence-equities",
    "defense-wmd",
    "foreign-government-information",
    "foreign-government-noforn",
]


@pytest.fixture
def supervisor(principal_headers) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return principal_headers(Role.supervisor, Level.TOP_SECRET)


def rule_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "tokyo-desk",
        "priority": 5,
        "match": {"origins": ["Embassy Tokyo"]},
        "queue": "general",
        "min_clearance": None,
    }
    return {**body, **overrides}


def rule_events(engine: Engine) -> list[dict[str, Any]]:
    with Session(engine) as session:
        events = session.execute(
            select(AuditEvent).where(col(AuditEvent.action) == "rule.changed")
        ).scalars()
        return [{"entity_id": e.entity_id, "actor": e.actor, **e.detail} for e in events]


def test_defaults_are_listed_in_firing_order_with_pages(
    client: TestClient, supervisor: dict[str, str]
) -> None:
    response = client.get(RULES, headers=supervisor)
    assert response.status_code == 200
    items = response.json()["items"]
    assert [(r["name"], r["priority"], r["active"]) for r in items] == [
        (name, priority, True)
        for name, priority in zip(DEFAULT_NAMES, (10, 20, 30, 40, 50), strict=True)
    ]
    assert items[0]["match"] == {
        "levels": [],
        "markings": [],
        "reasons": [],
        "tags": [],
        "origins": [],
        "decl_kinds": [],
        "caveats": ["NODIS", "EXDIS"],
    }
    first = client.get(RULES, params={"limit": 2}, headers=supervisor)
    assert [r["name"] for r in first.json()["items"]] == DEFAULT_NAMES[:2]
    assert first.headers["Link"].endswith('>; rel="next"')
    rest = client.get(
        RULES, params={"limit": 10, "cursor": first.json()["next_cursor"]}, headers=supervisor
    )
    assert [r["name"] for r in rest.json()["items"]] == DEFAULT_NAMES[2:]
    assert rest.json()["next_cursor"] is None


def test_create_read_replace_and_deactivate_with_audit(
    client: TestClient, engine: Engine, supervisor: dict[str, str]
) -> None:
    created = client.post(RULES, json=rule_body(), headers=supervisor)
    assert created.status_code == 201, created.text
    rule = created.json()
    assert created.headers["Location"] == f"{RULES}/{rule['id']}"
    assert created.headers["ETag"] == '"1"'
    assert (rule["name"], rule["queue"], rule["version"], rule["active"]) == (
        "tokyo-desk",
        "general",
        1,
        True,
    )
    url = f"{RULES}/{rule['id']}"
    replaced = client.put(
        url, json=rule_body(priority=7), headers={**supervisor, "If-Match": '"1"'}
    )
    assert replaced.status_code == 200, replaced.text
    assert (replaced.json()["priority"], replaced.json()["version"]) == (7, 2)
    assert replaced.headers["ETag"] == '"2"'
    gone = client.delete(url, headers={**supervisor, "If-Match": '"2"'})
    assert gone.status_code == 204
    read = client.get(url, headers=supervisor)
    assert (read.json()["active"], read.json()["version"], read.headers["ETag"]) == (
        False,
        3,
        '"3"',
    )
    active = client.get(RULES, params={"active": "true"}, headers=supervisor).json()["items"]
    assert [r["name"] for r in active] == DEFAULT_NAMES
    events = rule_events(engine)
    assert [(e["change"], e["entity_id"]) for e in events] == [
        ("created", str(rule["id"])),
        ("updated", str(rule["id"])),
        ("deactivated", str(rule["id"])),
    ]
    assert events[0]["old"] is None
    assert (events[1]["old"]["priority"], events[1]["new"]["priority"]) == (5, 7)
    assert (events[2]["old"]["active"], events[2]["new"]["active"]) == (True, False)


def test_if_match_is_required_and_checked(client: TestClient, supervisor: dict[str, str]) -> None:
    rule = client.get(RULES, headers=supervisor).json()["items"][0]
    url = f"{RULES}/{rule['id']}"
    body = {**rule_body(name=rule["name"], queue=rule["queue"]), "match": rule["match"]}
    missing = client.put(url, json=body, headers=supervisor)
    assert (missing.status_code, missing.headers["content-type"]) == (428, PROBLEM)
    stale = client.put(url, json=body, headers={**supervisor, "If-Match": '"9"'})
    assert (stale.status_code, stale.headers["ETag"]) == (412, '"1"')
    weak = client.put(url, json=body, headers={**supervisor, "If-Match": 'W/"1"'})
    assert (weak.status_code, weak.headers["ETag"]) == (412, '"1"')
    assert client.delete(url, headers={**supervisor, "If-Match": "*"}).status_code == 428
    bare = client.put(url, json={**body, "priority": 11}, headers={**supervisor, "If-Match": "1"})
    assert (bare.status_code, bare.json()["version"]) == (200, 2)


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        (rule_body(colour="red"), ["body", "colour"]),
        (rule_body(match={"origin": ["Embassy Tokyo"]}), ["body", "match", "origin"]),
        (rule_body(match={"levels": ["SECRETISH"]}), ["body", "match", "levels", "0"]),
        (rule_body(match={"decl_kinds": ["someday"]}), ["body", "match", "decl_kinds", "0"]),
        (rule_body(min_clearance="COSMIC"), ["body", "min_clearance"]),
        (rule_body(queue="Bad Queue!"), ["body", "queue"]),
        (rule_body(priority=-1), ["body", "priority"]),
        (rule_body(queue="tokyo-dsek"), ["body", "queue"]),
    ],
    ids=[
        "unknown field",
        "unknown match field",
        "level",
        "decl kind",
        "clearance",
        "queue name",
        "priority",
        "unknown queue",
    ],
)
def test_invalid_rules_are_422(
    client: TestClient, supervisor: dict[str, str], body: dict[str, Any], loc: list[str]
) -> None:
    response = client.post(RULES, json=body, headers=supervisor)
    assert (response.status_code, response.headers["content-type"]) == (422, PROBLEM)
    assert loc in [error["loc"] for error in response.json()["errors"]]


def test_a_new_queue_comes_into_being_explicitly_or_through_a_user(
    client: TestClient, engine: Engine, supervisor: dict[str, str]
) -> None:
    body = rule_body(queue="tokyo-desk")
    assert client.post(RULES, json=body, headers=supervisor).status_code == 422
    created = client.post(RULES, json=body, params={"create_queue": "true"}, headers=supervisor)
    assert created.status_code == 201
    create_user(
        engine, username="kai", roles=[Role.reviewer], clearance=Level.SECRET, queues=["asia"]
    )
    asia = client.post(RULES, json=rule_body(name="asia", queue="asia"), headers=supervisor)
    assert asia.status_code == 201


def test_duplicate_name_is_409(client: TestClient, supervisor: dict[str, str]) -> None:
    response = client.post(RULES, json=rule_body(name="defense-wmd"), headers=supervisor)
    assert (response.status_code, response.headers["content-type"]) == (409, PROBLEM)


def test_only_supervisors(client: TestClient, principal_headers) -> None:  # type: ignore[no-untyped-def]
    for role in (Role.reviewer, Role.approver, Role.admin, Role.integration):
        headers = principal_headers(role)
        assert client.get(RULES, headers=headers).status_code == 403
        assert client.post(RULES, json=rule_body(), headers=headers).status_code == 403
        assert client.get("/api/v1/queues", headers=headers).status_code == 403
        assert client.post("/api/v1/routing/apply", headers=headers).status_code == 403
    assert client.get(RULES).status_code == 401


def test_ingest_routes_and_apply_moves_unclaimed_work(
    client: TestClient, engine: Engine, supervisor: dict[str, str]
) -> None:
    create_user(
        engine,
        username="fran",
        roles=[Role.reviewer],
        clearance=Level.SECRET,
        queues=["foreign-government"],
    )
    create_user(
        engine,
        username="tove",
        roles=[Role.reviewer],
        clearance=Level.SECRET,
        queues=["tokyo-desk"],
    )
    posted = client.post(
        "/api/v1/cables",
        content=SEED.read_text(encoding="utf-8"),
        headers={"Content-Type": "text/plain", **supervisor},
    )
    assert posted.status_code == 201, posted.text
    portions = posted.json()["portions"]
    assert {(p["queue"], p["assignee"], p["status"]) for p in portions} == {
        ("foreign-government", "fran", "assigned")
    }
    # Born placed at version 1; the routing is in the one `cable.ingested` event.
    assert {p["version"] for p in portions} == {1}
    with Session(engine) as session:
        events = list(
            session.execute(
                select(AuditEvent).where(col(AuditEvent.ref_id) == "07TOKYO5624")
            ).scalars()
        )
    assert [e.action for e in events] == ["cable.ingested"]
    assert events[0].detail["routing"] == [
        {
            "queue": "foreign-government",
            "assignee": "fran",
            "rule": "foreign-government-information",
            "seqs": [p["seq"] for p in portions],
        }
    ]
    assert (
        client.post(RULES, json=rule_body(queue="tokyo-desk"), headers=supervisor).status_code
        == 201
    )
    preview = client.post("/api/v1/routing/apply", params={"dry_run": "true"}, headers=supervisor)
    assert preview.status_code == 200
    body = preview.json()
    assert (body["dry_run"], body["examined"], body["moved"], body["truncated"]) == (
        True,
        len(portions),
        len(portions),
        False,
    )
    assert body["items"][0] == {
        "ref_id": "07TOKYO5624",
        "seq": 0,
        "level": "CONFIDENTIAL",
        "rule": "tokyo-desk",
        "old": {"queue": "foreign-government", "assignee": "fran", "status": "assigned"},
        "new": {"queue": "tokyo-desk", "assignee": "tove", "status": "assigned"},
    }
    cable = client.get("/api/v1/cables/07TOKYO5624", headers=supervisor).json()
    assert {p["queue"] for p in cable["portions"]} == {"foreign-government"}
    applied = client.post("/api/v1/routing/apply", headers=supervisor).json()
    assert (applied["dry_run"], applied["moved"], applied["skipped"]) == (False, len(portions), 0)
    cable = client.get("/api/v1/cables/07TOKYO5624", headers=supervisor).json()
    assert {(p["queue"], p["assignee"]) for p in cable["portions"]} == {("tokyo-desk", "tove")}


def test_queues_view(client: TestClient, engine: Engine, supervisor: dict[str, str]) -> None:
    create_user(
        engine,
        username="fran",
        roles=[Role.reviewer],
        clearance=Level.UNCLASSIFIED,
        queues=["foreign-government"],
    )
    posted = client.post(
        "/api/v1/cables",
        content=SEED.read_text(encoding="utf-8"),
        headers={"Content-Type": "text/plain", **supervisor},
    )
    levels = [p["level"] for p in posted.json()["portions"]]
    response = client.get("/api/v1/queues", headers=supervisor)
    assert response.status_code == 200
    views = {q["name"]: q for q in response.json()["items"]}
    assert list(views) == [
        "defense-wmd",
        "foreign-government",
        "general",
        "intelligence-equities",
        "senior",
    ]
    foreign = views["foreign-government"]
    waiting = sum(1 for level in levels if level != "UNCLASSIFIED")
    assert foreign["open_count"] == len(levels)
    assert foreign["unassignable_count"] == waiting
    assert foreign["unassignable_by_level"] == {"CONFIDENTIAL": waiting}
    assert foreign["oldest_declassify_on"] == "2017-12-19"
    assert foreign["rules"] == ["foreign-government-information", "foreign-government-noforn"]
    assert foreign["members"] == [
        {"username": "fran", "clearance": "UNCLASSIFIED", "open_assignments": len(levels) - waiting}
    ]
