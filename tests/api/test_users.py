"""Admin management of users and service accounts: validation, pagination, deactivation
(never deletion), audit events with old/new values and never a password, secret or hash."""

from __future__ import annotations

from typing import Any

import pytest
from factories import TOKEN_PATH, auth_headers, client_headers, create_user
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlmodel import Session, col

from service.audit.models import AuditEvent
from service.auth.models import Role, User
from service.markings import Level

PASSWORD = "pw-0123456789abcdef"


def new_user(**changes: Any) -> dict[str, Any]:
    body = {
        "username": "carol",
        "password": PASSWORD,
        "roles": ["reviewer"],
        "clearance": "SECRET",
        "queues": ["asia"],
    }
    body.update(changes)
    return body


def events(engine: Engine, action: str) -> list[AuditEvent]:
    with Session(engine) as session:
        statement = select(AuditEvent).where(col(AuditEvent.action) == action)
        return list(session.execute(statement.order_by(col(AuditEvent.seq))).scalars())


def test_admin_creates_a_user_who_can_log_in(
    client: TestClient, engine: Engine, admin_headers: dict[str, str]
) -> None:
    response = client.post("/api/v1/users", json=new_user(), headers=admin_headers)
    assert response.status_code == 201
    assert response.headers["location"] == "/api/v1/users/carol"
    body = response.json()
    assert {key: body[key] for key in ("username", "roles", "clearance", "queues", "active")} == {
        "username": "carol",
        "roles": ["reviewer"],
        "clearance": "SECRET",
        "queues": ["asia"],
        "active": True,
    }
    assert set(body) == {
        "username",
        "roles",
        "clearance",
        "queues",
        "active",
        "created_at",
        "updated_at",
    }
    headers = auth_headers(client, "carol", PASSWORD)
    assert client.get("/api/v1/users/me", headers=headers).json()["queues"] == ["asia"]
    created = [e for e in events(engine, "user.changed") if e.entity_id == "carol"]
    assert [e.detail for e in created] == [
        {"change": "created", "roles": ["reviewer"], "clearance": "SECRET", "queues": ["asia"]}
    ]
    assert created[0].actor.startswith("admin-")


def test_the_stored_password_is_an_argon2id_hash(
    client: TestClient, engine: Engine, admin_headers: dict[str, str]
) -> None:
    client.post("/api/v1/users", json=new_user(), headers=admin_headers)
    with Session(engine) as session:
        user = session.execute(select(User).where(col(User.username) == "carol")).scalar_one()
    assert user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash


@pytest.mark.parametrize(
    "changes",
    [
        {"roles": ["root"]},
        {"roles": []},
        {"clearance": "COSMIC"},
        {"clearance": "secret"},
        {"username": "Carol!"},
        {"username": "c"},
        {"password": "short"},
        {"password": "p" * 5000},
        {"queues": ["Bad Queue"]},
        {"is_admin": True},
        {"password_hash": "$argon2id$x"},
    ],
    ids=lambda c: next(iter(c)),
)
def test_invalid_users_are_422_problems(
    client: TestClient, admin_headers: dict[str, str], changes: dict[str, Any]
) -> None:
    response = client.post("/api/v1/users", json=new_user(**changes), headers=admin_headers)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert PASSWORD not in response.text
    assert "p" * 100 not in response.text


def test_t1_12_a_73_byte_password_is_accepted(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    password = "x" * 73
    response = client.post("/api/v1/users", json=new_user(password=password), headers=admin_headers)
    assert response.status_code == 201
    assert auth_headers(client, "carol", password)


def test_a_taken_username_is_409(client: TestClient, admin_headers: dict[str, str]) -> None:
    assert client.post("/api/v1/users", json=new_user(), headers=admin_headers).status_code == 201
    response = client.post("/api/v1/users", json=new_user(), headers=admin_headers)
    assert response.status_code == 409
    assert response.json()["detail"] == "The username carol is taken"


def test_users_are_listed_in_pages_with_a_link_header(
    client: TestClient, engine: Engine, admin_headers: dict[str, str]
) -> None:
    for name in ["u1", "u2", "u3", "u4"]:
        create_user(engine, username=name, roles=[Role.reviewer], clearance=Level.UNCLASSIFIED)
    seen: list[str] = []
    url: str | None = "/api/v1/users?limit=2"
    pages = 0
    while url:
        response = client.get(url, headers=admin_headers)
        assert response.status_code == 200
        seen.extend(item["username"] for item in response.json()["items"])
        cursor = response.json()["next_cursor"]
        link = response.headers.get("link")
        assert (link is None) == (cursor is None)
        url = link.split(">")[0].lstrip("<") if link else None
        pages += 1
    assert seen[1:] == ["u1", "u2", "u3", "u4"]
    assert seen[0].startswith("admin-")
    assert pages == 3
    bad = client.get("/api/v1/users?cursor=not-a-cursor", headers=admin_headers)
    assert bad.status_code == 400


def test_admin_changes_roles_clearance_queues_and_the_event_has_old_and_new(
    client: TestClient, engine: Engine, admin_headers: dict[str, str]
) -> None:
    client.post("/api/v1/users", json=new_user(), headers=admin_headers)
    change = {"roles": ["approver", "reviewer"], "clearance": "TOP SECRET", "queues": []}
    response = client.patch("/api/v1/users/carol", json=change, headers=admin_headers)
    assert response.status_code == 200
    assert response.json()["roles"] == ["reviewer", "approver"]
    assert response.json()["clearance"] == "TOP SECRET"
    assert client.get("/api/v1/users/carol", headers=admin_headers).json()["queues"] == []
    last = events(engine, "user.changed")[-1]
    assert last.detail == {
        "change": "updated",
        "roles": {"old": ["reviewer"], "new": ["reviewer", "approver"]},
        "clearance": {"old": "SECRET", "new": "TOP SECRET"},
        "queues": {"old": ["asia"], "new": []},
    }


def test_a_password_change_is_audited_without_the_password(
    client: TestClient, engine: Engine, admin_headers: dict[str, str]
) -> None:
    client.post("/api/v1/users", json=new_user(), headers=admin_headers)
    new_password = "pw-new-0123456789abc"
    response = client.patch(
        "/api/v1/users/carol", json={"password": new_password}, headers=admin_headers
    )
    assert response.status_code == 200
    assert auth_headers(client, "carol", new_password)
    old = client.post(
        TOKEN_PATH, data={"grant_type": "password", "username": "carol", "password": PASSWORD}
    )
    assert old.status_code == 400
    last = events(engine, "user.changed")[-1]
    assert last.detail == {"change": "updated", "password_changed": True}
    for event in events(engine, "user.changed"):
        text = str(event.detail)
        assert new_password not in text
        assert PASSWORD not in text
        assert "$argon2" not in text


def test_a_deactivated_user_loses_access_at_once_and_is_kept(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    client.post("/api/v1/users", json=new_user(), headers=admin_headers)
    carol = auth_headers(client, "carol", PASSWORD)
    assert client.get("/api/v1/users/me", headers=carol).status_code == 200
    response = client.patch("/api/v1/users/carol", json={"active": False}, headers=admin_headers)
    assert response.status_code == 200
    assert response.json()["active"] is False
    refused = client.get("/api/v1/users/me", headers=carol)
    assert refused.status_code == 401
    assert refused.headers["www-authenticate"].startswith("Bearer")
    assert client.get("/api/v1/users/carol", headers=admin_headers).json()["active"] is False
    again = client.patch("/api/v1/users/carol", json={"active": True}, headers=admin_headers)
    assert again.json()["active"] is True
    assert client.get("/api/v1/users/me", headers=carol).status_code == 200


def test_a_role_change_takes_effect_on_the_next_request(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    client.post("/api/v1/users", json=new_user(roles=["admin"]), headers=admin_headers)
    carol = auth_headers(client, "carol", PASSWORD)
    assert client.get("/api/v1/users", headers=carol).status_code == 200
    client.patch("/api/v1/users/carol", json={"roles": ["reviewer"]}, headers=admin_headers)
    assert client.get("/api/v1/users", headers=carol).status_code == 403


def test_an_admin_cannot_lock_themselves_out(client: TestClient, engine: Engine) -> None:
    create_user(
        engine, username="root", roles=[Role.admin], clearance=Level.SECRET, password=PASSWORD
    )
    root = auth_headers(client, "root", PASSWORD)
    for change in [{"active": False}, {"roles": ["reviewer"]}]:
        response = client.patch("/api/v1/users/root", json=change, headers=root)
        assert response.status_code == 409
    assert (
        client.patch("/api/v1/users/root", json={"queues": ["q"]}, headers=root).status_code == 200
    )


def test_unknown_user_is_404_and_unknown_fields_422(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    assert client.get("/api/v1/users/nobody", headers=admin_headers).status_code == 404
    assert client.patch("/api/v1/users/nobody", json={}, headers=admin_headers).status_code == 404
    client.post("/api/v1/users", json=new_user(), headers=admin_headers)
    for body in [{"delete": True}, {"clearance": "SUPER"}, {"roles": ["god"]}]:
        response = client.patch("/api/v1/users/carol", json=body, headers=admin_headers)
        assert response.status_code == 422


def test_service_accounts_secret_is_shown_once_and_works(
    client: TestClient, engine: Engine, admin_headers: dict[str, str]
) -> None:
    response = client.post(
        "/api/v1/service-accounts",
        json={"name": "National Archives", "clearance": "CONFIDENTIAL"},
        headers=admin_headers,
    )
    assert response.status_code == 201
    created = response.json()
    client_id, secret = created["client_id"], created["client_secret"]
    assert response.headers["location"] == f"/api/v1/service-accounts/{client_id}"
    assert response.headers["cache-control"] == "no-store"
    assert created["roles"] == ["integration"]
    listed = client.get("/api/v1/service-accounts", headers=admin_headers)
    assert secret not in listed.text
    assert [a["client_id"] for a in listed.json()["items"]] == [client_id]
    one = client.get(f"/api/v1/service-accounts/{client_id}", headers=admin_headers).json()
    assert "client_secret" not in one
    records = client_headers(client, client_id, secret)
    assert client.get("/api/v1/users/me", headers=records).json()["clearance"] == "CONFIDENTIAL"
    [event] = events(engine, "service_account.changed")
    assert secret not in str(event.detail)
    assert event.detail == {
        "change": "created",
        "name": "National Archives",
        "roles": ["integration"],
        "clearance": "CONFIDENTIAL",
    }


def test_a_deactivated_service_account_loses_access(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    created = client.post(
        "/api/v1/service-accounts", json={"name": "Records"}, headers=admin_headers
    ).json()
    assert created["clearance"] == "UNCLASSIFIED"
    records = client_headers(client, created["client_id"], created["client_secret"])
    response = client.patch(
        f"/api/v1/service-accounts/{created['client_id']}",
        json={"active": False, "clearance": "SECRET"},
        headers=admin_headers,
    )
    assert response.status_code == 200
    assert (response.json()["active"], response.json()["clearance"]) == (False, "SECRET")
    assert client.get("/api/v1/users/me", headers=records).status_code == 401
    data = {
        "grant_type": "client_credentials",
        "client_id": created["client_id"],
        "client_secret": created["client_secret"],
    }
    assert client.post(TOKEN_PATH, data=data).status_code == 401
    missing = client.patch(
        "/api/v1/service-accounts/svc-none", json={"active": False}, headers=admin_headers
    )
    assert missing.status_code == 404
