"""Schedule queries through the API: due, overdue, summary and the CSV export, with the clock
stopped on 2017-12-01 over the cables of `test_schedule_data` (its table lists them)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from test_schedule_data import TODAY, ingest_all, subject_of

from service.auth.models import Role
from service.markings import Level
from service.schedule import FixedClock
from service.schedule_api.exports import CSV_COLUMNS, csv_rows
from service.schedule_api.service import DueItem

Headers = dict[str, str]
DUE = "/api/v1/schedule/due"
OVERDUE = "/api/v1/schedule/overdue"
SUMMARY = "/api/v1/schedule/summary"
# ref_id -> (origin, classification, status, declassify_on, days_remaining)
ROWS: dict[str, tuple[str, str, str, str, int]] = {
    "06KABUL3001": ("Embassy Kabul", "CONFIDENTIAL", "received", "2017-11-20", -11),
    "07TOKYO1001": ("Embassy Tokyo", "CONFIDENTIAL", "received", "2017-12-19", 18),
    "07TOKYO1002": ("Embassy Tokyo", "SECRET", "in_review", "2017-12-19", 18),
    "08PARIS2001": ("Embassy Paris", "CONFIDENTIAL", "received", "2018-01-15", 45),
    "08PARIS2002": ("Embassy Paris", "SECRET", "received", "2018-03-01", 90),
    "08PARIS2003": ("Embassy Paris", "CONFIDENTIAL", "received", "2018-03-02", 91),
}


def item(ref_id: str, *, readable: bool = True) -> dict[str, Any]:
    origin, classification, status, on, days = ROWS[ref_id]
    return {
        "ref_id": ref_id,
        "subject": subject_of(ref_id) if readable else None,
        "origin": origin,
        "classification": classification,
        "status": status,
        "declassify_on": on,
        "declassify_basis": f"DECL date {on} (E.O. 12958 as amended)" if readable else None,
        "days_remaining": days,
    }


@pytest.fixture
def planned(app: Any, engine: Engine) -> None:
    app.state.clock = FixedClock(TODAY)
    ingest_all(engine)


@pytest.fixture
def supervisor(principal_headers: Callable[..., Headers], planned: None) -> Headers:
    return principal_headers(Role.supervisor, Level.TOP_SECRET)


def refs(response: Any) -> list[str]:
    assert response.status_code == 200, response.text
    return [row["ref_id"] for row in response.json()["items"]]


def test_due_default_window_is_today_to_today_plus_90_days(
    client: TestClient, supervisor: Headers
) -> None:
    response = client.get(DUE, headers=supervisor)
    assert response.status_code == 200
    assert response.json() == {
        "items": [item(r) for r in ("07TOKYO1001", "07TOKYO1002", "08PARIS2001", "08PARIS2002")],
        "next_cursor": None,
    }
    assert "link" not in response.headers


def test_due_pages_follow_the_link_header(client: TestClient, supervisor: Headers) -> None:
    first = client.get(DUE, params={"limit": 3}, headers=supervisor)
    assert refs(first) == ["07TOKYO1001", "07TOKYO1002", "08PARIS2001"]
    cursor = first.json()["next_cursor"]
    assert cursor is not None
    link = first.headers["link"]
    assert link.endswith('>; rel="next"')
    assert f"cursor={cursor}" in link
    url = link[1 : link.index(">")]
    second = client.get(url, headers=supervisor)
    assert second.json() == {"items": [item("08PARIS2002")], "next_cursor": None}
    assert "link" not in second.headers
    # a page boundary between two cables of the same date
    one = client.get(DUE, params={"limit": 1}, headers=supervisor)
    two = client.get(
        DUE, params={"limit": 1, "cursor": one.json()["next_cursor"]}, headers=supervisor
    )
    assert refs(one) == ["07TOKYO1001"]
    assert refs(two) == ["07TOKYO1002"]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"origin": "embassy paris"}, ["08PARIS2001", "08PARIS2002"]),
        ({"classification": "SECRET"}, ["07TOKYO1002", "08PARIS2002"]),
        ({"tag": "prel"}, ["07TOKYO1001", "08PARIS2002"]),
        ({"status": "in_review"}, ["07TOKYO1002"]),
        (
            {"after": "2018-01-01", "before": "2018-12-31"},
            ["08PARIS2001", "08PARIS2002", "08PARIS2003"],
        ),
        ({"after": "2017-12-20"}, ["08PARIS2001", "08PARIS2002", "08PARIS2003"]),
        ({"before": "2017-12-19"}, ["07TOKYO1001", "07TOKYO1002"]),
        ({"after": "2017-11-01", "before": "2017-11-30"}, ["06KABUL3001"]),
        ({"origin": "Embassy Tokyo", "tag": "PARM", "classification": "SECRET"}, ["07TOKYO1002"]),
        ({"origin": "Embassy Nowhere"}, []),
    ],
)
def test_due_filters(
    client: TestClient, supervisor: Headers, params: dict[str, str], expected: list[str]
) -> None:
    assert refs(client.get(DUE, params=params, headers=supervisor)) == expected


def test_subjects_pass_the_clearance_filter(
    client: TestClient, principal_headers: Callable[..., Headers], planned: None
) -> None:
    confidential = principal_headers(Role.supervisor, Level.CONFIDENTIAL)
    items = client.get(DUE, headers=confidential).json()["items"]
    assert items == [
        item("07TOKYO1001"),
        item("07TOKYO1002", readable=False),
        item("08PARIS2001"),
        item("08PARIS2002", readable=False),
    ]
    records_system = principal_headers(Role.integration, Level.UNCLASSIFIED)
    items = client.get(DUE, headers=records_system).json()["items"]
    assert [row["subject"] for row in items] == [None, None, None, None]
    assert [row["declassify_basis"] for row in items] == [None, None, None, None]
    assert [row["days_remaining"] for row in items] == [18, 18, 45, 90]


def test_overdue_is_past_and_not_released(client: TestClient, supervisor: Headers) -> None:
    response = client.get(OVERDUE, headers=supervisor)
    assert response.json() == {"items": [item("06KABUL3001")], "next_cursor": None}
    # 06KABUL3002 (2016-06-30) is released: never overdue, even when asked for by status
    assert refs(client.get(OVERDUE, params={"status": "released"}, headers=supervisor)) == []
    assert refs(client.get(OVERDUE, params={"origin": "Embassy Tokyo"}, headers=supervisor)) == []


def test_overdue_moves_with_the_clock(client: TestClient, supervisor: Headers, app: Any) -> None:
    app.state.clock = FixedClock(TODAY.replace(year=2018, month=3, day=2))
    response = client.get(OVERDUE, params={"limit": 2}, headers=supervisor)
    assert refs(response) == ["06KABUL3001", "07TOKYO1001"]
    assert [row["days_remaining"] for row in response.json()["items"]] == [-102, -73]
    rest = client.get(
        OVERDUE, params={"cursor": response.json()["next_cursor"]}, headers=supervisor
    )
    assert refs(rest) == ["07TOKYO1002", "08PARIS2001", "08PARIS2002"]
    assert [row["days_remaining"] for row in rest.json()["items"]] == [-73, -46, -1]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"group_by": "year"}, [("2016", 1), ("2017", 3), ("2018", 3), ("2021", 1)]),
        (
            {"group_by": "month"},
            [
                ("2016-06", 1),
                ("2017-11", 1),
                ("2017-12", 2),
                ("2018-01", 1),
                ("2018-03", 2),
                ("2021-12", 1),
            ],
        ),
        (
            {"group_by": "origin"},
            [
                ("Embassy Kabul", 2),
                ("Embassy Paris", 3),
                ("Embassy Tokyo", 2),
                ("Secretary of State", 1),
            ],
        ),
        ({"group_by": "classification"}, [("CONFIDENTIAL", 5), ("SECRET", 3)]),
        ({"group_by": "year", "status": "released"}, [("2016", 1)]),
        ({"group_by": "year", "tag": "prel"}, [("2017", 1), ("2018", 1), ("2021", 1)]),
        ({"group_by": "month", "origin": "Embassy Paris"}, [("2018-01", 1), ("2018-03", 2)]),
        ({"group_by": "month", "tag": "ECON", "after": "2018-02-01"}, [("2018-03", 1)]),
        ({"group_by": "year", "origin": "embassy kabul", "status": "received"}, [("2017", 1)]),
        ({"group_by": "year", "after": "2030-01-01"}, []),
        (
            {"group_by": "year", "after": "2017-12-01", "before": "2018-03-01"},
            [("2017", 2), ("2018", 2)],
        ),
        (
            {"group_by": "origin", "tag": "PREL"},
            [("Embassy Paris", 1), ("Embassy Tokyo", 1), ("Secretary of State", 1)],
        ),
        (
            {"group_by": "month", "classification": "SECRET"},
            [("2016-06", 1), ("2017-12", 1), ("2018-03", 1)],
        ),
    ],
)
def test_summary(
    client: TestClient, supervisor: Headers, params: dict[str, str], expected: list[tuple[str, int]]
) -> None:
    response = client.get(SUMMARY, params=params, headers=supervisor)
    assert response.status_code == 200, response.text
    assert response.json() == [{"key": key, "count": count} for key, count in expected]


def test_csv_export_opens_with_the_documented_header(
    client: TestClient, supervisor: Headers
) -> None:
    response = client.get(DUE, params={"format": "csv", "limit": 1}, headers=supervisor)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert (
        response.headers["content-disposition"]
        == 'attachment; filename="schedule-due-2017-12-01.csv"'
    )
    rows = list(csv.reader(io.StringIO(response.text)))
    assert (
        rows[0]
        == list(CSV_COLUMNS)
        == [
            "ref_id",
            "declassify_on",
            "days_remaining",
            "classification",
            "origin",
            "status",
            "subject",
            "declassify_basis",
        ]
    )
    expected = [item(r) for r in ("07TOKYO1001", "07TOKYO1002", "08PARIS2001", "08PARIS2002")]
    assert rows[1:] == [[str(e[c]) for c in CSV_COLUMNS] for e in expected]  # every page
    overdue = client.get(OVERDUE, params={"format": "csv"}, headers=supervisor)
    assert list(csv.DictReader(io.StringIO(overdue.text))) == [
        {c: str(item("06KABUL3001")[c]) for c in CSV_COLUMNS}
    ]


def test_csv_withholds_subjects_above_clearance(
    client: TestClient, principal_headers: Callable[..., Headers], planned: None
) -> None:
    records_system = principal_headers(Role.integration, Level.UNCLASSIFIED)
    response = client.get(OVERDUE, params={"format": "csv"}, headers=records_system)
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [(r["ref_id"], r["subject"], r["declassify_basis"]) for r in rows] == [
        ("06KABUL3001", "", "")
    ]


def test_csv_cells_that_look_like_formulas_are_defused() -> None:
    row = DueItem(
        ref_id="07TOKYO1001",
        subject='=HYPERLINK("http://x","y")',
        origin="@Embassy",
        classification="CONFIDENTIAL",
        status="received",
        declassify_on=date(2017, 12, 19),
        declassify_basis="-1+1",
        days_remaining=-3,
    )
    lines = list(csv.reader(io.StringIO("".join(csv_rows([row])))))
    assert lines[1] == [
        "07TOKYO1001",
        "2017-12-19",
        "-3",
        "CONFIDENTIAL",
        "'@Embassy",
        "received",
        '\'=HYPERLINK("http://x","y")',
        "'-1+1",
    ]


@pytest.mark.parametrize("path", [DUE, OVERDUE, SUMMARY])
def test_reviewers_and_approvers_are_403_and_anonymous_401(
    client: TestClient, principal_headers: Callable[..., Headers], planned: None, path: str
) -> None:
    for role in (Role.reviewer, Role.approver, Role.admin):
        response = client.get(path, headers=principal_headers(role))
        assert response.status_code == 403, role
        assert response.headers["content-type"] == "application/problem+json"
    assert client.get(path).status_code == 401


@pytest.mark.parametrize(
    ("path", "params", "status"),
    [
        (DUE, {"after": "2018-01-02", "before": "2018-01-01"}, 422),
        (OVERDUE, {"after": "2018-01-02", "before": "2018-01-01", "format": "csv"}, 422),
        (SUMMARY, {"group_by": "week"}, 422),
        (DUE, {"classification": "SECRETISH"}, 422),
        (DUE, {"status": "lost"}, 422),
        (DUE, {"limit": 501}, 422),
        (DUE, {"cursor": "not-a-cursor"}, 400),
        (DUE, {"after": "2017-13-01"}, 422),
    ],
)
def test_bad_parameters_are_problems(
    client: TestClient, supervisor: Headers, path: str, params: dict[str, Any], status: int
) -> None:
    response = client.get(path, params=params, headers=supervisor)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
