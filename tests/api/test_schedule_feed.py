"""The iCalendar feed and its token: validated with the `icalendar` package, the token good for
the feed only (never as a bearer token) and no bearer token accepted in its place."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date
from typing import Any

import icalendar
import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import Engine, update
from sqlmodel import col
from test_schedule_data import TODAY, ingest_all

from service.auth.models import Role, User
from service.db import unit_of_work
from service.markings import Level
from service.schedule import FixedClock
from service.schedule_api.feed_token import issue_feed_token
from service.settings import Settings

Headers = dict[str, str]
FEED = "/api/v1/schedule/calendar.ics"
TOKEN = "/api/v1/schedule/calendar-token"
# Default feed window: 2017-11-01 .. 2018-12-01 (today - 30 days .. today + 365 days)
EVENTS = [
    (date(2017, 11, 20), 1, ["06KABUL3001"]),
    (date(2017, 12, 19), 2, ["07TOKYO1001", "07TOKYO1002"]),
    (date(2018, 1, 15), 1, ["08PARIS2001"]),
    (date(2018, 3, 1), 1, ["08PARIS2002"]),
    (date(2018, 3, 2), 1, ["08PARIS2003"]),
]


@pytest.fixture
def planned(app: Any, engine: Engine) -> None:
    app.state.clock = FixedClock(TODAY)
    ingest_all(engine)


@pytest.fixture
def supervisor(principal_headers: Callable[..., Headers], planned: None) -> Headers:
    return principal_headers(Role.supervisor, Level.SECRET)


def feed_token(client: TestClient, headers: Headers, **body: Any) -> str:
    response = client.post(TOKEN, json=body or None, headers=headers)
    assert response.status_code == 201, response.text
    assert response.headers["cache-control"] == "no-store"
    token: str = response.json()["token"]
    return token


def events(body: bytes) -> list[tuple[date, int, list[str], str]]:
    calendar = icalendar.Calendar.from_ical(body)
    found = []
    for event in calendar.walk("VEVENT"):
        start = event.decoded("DTSTART")
        assert event.decoded("DTEND") == date.fromordinal(start.toordinal() + 1)
        description = str(event["DESCRIPTION"])
        count = int(str(event["SUMMARY"]).split()[0])
        found.append((start, count, description.split("\n")[1:], str(event["UID"])))
    return found


def test_feed_validates_and_lists_each_date_with_its_count_and_cables(
    client: TestClient, supervisor: Headers
) -> None:
    token = feed_token(client, supervisor)
    response = client.get(FEED, params={"token": token})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    assert response.content.startswith(b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\n")
    calendar = icalendar.Calendar.from_ical(response.content)
    assert str(calendar["VERSION"]) == "2.0"
    found = events(response.content)
    assert [(day, count, refs) for day, count, refs, _ in found] == EVENTS
    first = icalendar.Calendar.from_ical(response.content).walk("VEVENT")[1]
    assert str(first["SUMMARY"]) == "2 cables due for declassification"
    assert str(first["DESCRIPTION"]) == (
        "2 cables reach their declassification date on 2017-12-19:\n07TOKYO1001\n07TOKYO1002"
    )
    assert isinstance(first.decoded("DTSTART"), date)  # all-day: a DATE, not a DATE-TIME


def test_uids_are_stable_and_filters_apply(
    client: TestClient, supervisor: Headers, app: Any
) -> None:
    token = feed_token(client, supervisor)
    uids = [uid for *_, uid in events(client.get(FEED, params={"token": token}).content)]
    assert uids[1].startswith("declass-due-20171219-")
    assert uids[1].endswith("@declass")
    assert len(set(uids)) == len(uids)
    app.state.clock = FixedClock(date(2017, 12, 2))  # a day later: same events, same UIDs
    later = client.get(FEED, params={"token": token}).content
    assert [uid for *_, uid in events(later)] == uids
    paris = client.get(FEED, params={"token": token, "origin": "Embassy Paris"}).content
    assert [(day, n) for day, n, _, _ in events(paris)] == [
        (date(2018, 1, 15), 1),
        (date(2018, 3, 1), 1),
        (date(2018, 3, 2), 1),
    ]
    window = {"token": token, "after": "2016-01-01", "before": "2017-11-30"}
    assert [(day, n) for day, n, _, _ in events(client.get(FEED, params=window).content)] == [
        (date(2016, 6, 30), 1),
        (date(2017, 11, 20), 1),
    ]
    too_long = {"token": token, "after": "2000-01-01", "before": "2030-01-01"}
    assert client.get(FEED, params=too_long).status_code == 422


def test_integration_accounts_get_a_feed_too(
    client: TestClient, principal_headers: Callable[..., Headers], planned: None
) -> None:
    records_system = principal_headers(Role.integration, Level.UNCLASSIFIED)
    token = feed_token(client, records_system, ttl_days=30)
    assert len(events(client.get(FEED, params={"token": token}).content)) == 5


def test_feed_token_is_not_a_bearer_token(client: TestClient, supervisor: Headers) -> None:
    token = feed_token(client, supervisor)
    bearer = {"Authorization": f"Bearer {token}"}
    for path in ("/api/v1/schedule/due", "/api/v1/cables", "/api/v1/users/me", TOKEN):
        response = client.request("POST" if path == TOKEN else "GET", path, headers=bearer)
        assert response.status_code == 401, path
        assert response.headers["content-type"] == "application/problem+json"


def test_bearer_token_is_not_a_feed_token(client: TestClient, supervisor: Headers) -> None:
    jwt = supervisor["Authorization"].removeprefix("Bearer ")
    assert client.get(FEED, params={"token": jwt}).status_code == 401
    # and a bearer header alone does not open the feed
    assert client.get(FEED, headers=supervisor).status_code == 401


def test_expired_garbled_or_foreign_tokens_are_401(
    client: TestClient, supervisor: Headers, settings: Settings
) -> None:
    token = feed_token(client, supervisor)
    expired, _ = issue_feed_token(
        settings, sub="user:1", kind="user", ttl_seconds=60, now=int(time.time()) - 120
    )
    head, body, signature = token.split(".")
    flipped = signature[:-2] + ("A" if signature[-2] != "A" else "B") + signature[-1]
    other_key = settings.model_copy(update={"jwt_secret": SecretStr("x" * 48)})
    foreign, _ = issue_feed_token(other_key, sub="user:1", kind="user")
    for bad in (
        expired,
        f"{head}.{body}.{flipped}",
        f"{head}.{body}",
        "garbage",
        "",
        foreign,
        token + "x",
        "dcf1..",
        "dcf1.e30." + signature,
    ):
        response = client.get(FEED, params={"token": bad})
        assert response.status_code == 401, bad
        assert response.headers["content-type"] == "application/problem+json"
    assert client.get(FEED).status_code == 401
    assert client.get(FEED, params={"token": token}).status_code == 200


def test_feed_ends_with_the_account(
    client: TestClient, supervisor: Headers, engine: Engine
) -> None:
    token = feed_token(client, supervisor)
    username = client.get("/api/v1/users/me", headers=supervisor).json()["username"]
    with unit_of_work(engine) as session:
        session.execute(
            update(User).where(col(User.username) == username).values(roles=["reviewer"])
        )
    assert client.get(FEED, params={"token": token}).status_code == 403
    with unit_of_work(engine) as session:
        session.execute(update(User).where(col(User.username) == username).values(is_active=False))
    assert client.get(FEED, params={"token": token}).status_code == 401


def test_only_planners_may_have_a_feed_token(
    client: TestClient, principal_headers: Callable[..., Headers], planned: None
) -> None:
    for role in (Role.reviewer, Role.approver, Role.admin):
        assert client.post(TOKEN, headers=principal_headers(role)).status_code == 403
    assert client.post(TOKEN).status_code == 401
    supervisor = principal_headers(Role.supervisor)
    assert client.post(TOKEN, json={"ttl_days": 367}, headers=supervisor).status_code == 422
