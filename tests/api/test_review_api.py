"""The review endpoints' contract: 422s that say what is wrong, If-Match (428/412), one
audit event per successful write and none for a failed one, reassignment, the queue and
second-review sampling."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response
from review_factories import (
    Run,
    audit_events,
    context,
    if_match,
    make_cable,
    portion_path,
    start_run,
)
from sqlalchemy import Engine

from service.review.router import review_context


@pytest.fixture
def run(app: FastAPI, client: TestClient, engine: Engine) -> Iterator[Run]:
    yield start_run(app, client, engine)
    app.dependency_overrides.clear()


def _claimed(run: Run, seq: int = 5) -> dict[str, Any]:
    assert run.claim(seq).status_code == 200
    return run.portion(seq)


def _problem(response: Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    return body


# --- bad decisions ----------------------------------------------------------------------

BAD_DECISIONS = {
    "inverted span": (
        {"action": "redact", "redactions": [{"start": 20, "end": 10, "exemption": "1.4(b)"}]},
        [(["body", "redactions", "0", "end"], "end (10) must be after start (20)")],
    ),
    "span past the end": (
        {"action": "redact", "redactions": [{"start": 0, "end": 5000, "exemption": "1.4(b)"}]},
        [
            (
                ["body", "redactions", "0", "end"],
                "end (5000) is past the end of the portion text (LENGTH characters)",
            )
        ],
    ),
    "overlapping spans": (
        {
            "action": "redact",
            "redactions": [
                {"start": 0, "end": 10, "exemption": "1.4(b)"},
                {"start": 5, "end": 15, "exemption": "1.4(d)"},
            ],
        },
        [(["body", "redactions", "1"], "[5, 15) overlaps [0, 10)")],
    ),
    "unknown code": (
        {"action": "withhold", "exemptions": ["1.4(z)"]},
        [
            (
                ["body", "exemptions"],
                "unknown exemption code '1.4(z)'; valid codes: 1.4(a)-1.4(h), 25X1-25X9, "
                "50X1-HUM, 50X2-WMD, 75X, (b)(1)-(b)(9), (b)(7)(A)-(b)(7)(F)",
            )
        ],
    ),
    "code that does not fit the cable's age": (
        {"action": "withhold", "exemptions": ["25X1"]},
        [
            (
                ["body", "exemptions"],
                "25X1 does not fit a cable 18 years old; codes that fit: "
                "1.4(a)-1.4(h), (b)(1)-(b)(9), (b)(7)(A)-(b)(7)(F)",
            )
        ],
    ),
    "redact without spans": (
        {"action": "redact", "exemptions": ["1.4(b)"]},
        [(["body", "redactions"], "redact needs at least one redaction span")],
    ),
}


@pytest.mark.parametrize("case", list(BAD_DECISIONS))
def test_bad_decision_is_a_clear_422_and_writes_nothing(run: Run, case: str) -> None:
    body, expected = BAD_DECISIONS[case]
    portion = _claimed(run)
    length = str(len(portion["text"]))
    response = run.no_event(lambda: run.decide(5, body))
    problem = _problem(response, 422)
    assert [(e["loc"], e["msg"]) for e in problem["errors"]] == [
        ([str(part) for part in loc], msg.replace("LENGTH", length)) for loc, msg in expected
    ]
    assert problem["detail"] == "The decision cannot be stored: " + "; ".join(
        msg.replace("LENGTH", length) for _, msg in expected
    )
    assert run.portion(5)["version"] == portion["version"]
    assert run.portion(5)["decisions"] == []


def test_unknown_action_is_a_validation_422(run: Run) -> None:
    _claimed(run)
    problem = _problem(run.no_event(lambda: run.decide(5, {"action": "shred"})), 422)
    assert [e["loc"] for e in problem["errors"]] == [["body", "action"]]


# --- preconditions ----------------------------------------------------------------------


def _put_decision(run: Run, headers: dict[str, str]) -> Response:
    return run.client.put(
        portion_path(run.ref_id, 5, "decision"),
        json={"action": "release"},
        headers={**run.rita, **headers},
    )


def test_if_match_missing_is_428_and_stale_is_412_with_the_current_etag(run: Run) -> None:
    version = _claimed(run)["version"]
    missing = _problem(run.no_event(lambda: _put_decision(run, {})), 428)
    assert missing["detail"] == (
        'This write needs If-Match: "<version>", the ETag from reading the portion'
    )
    star = run.no_event(lambda: _put_decision(run, {"If-Match": "*"}))
    assert star.status_code == 428
    stale = run.no_event(lambda: _put_decision(run, if_match(version - 1)))
    _problem(stale, 412)
    assert stale.headers["ETag"] == f'"{version}"'
    weak = run.no_event(lambda: _put_decision(run, {"If-Match": f'W/"{version}"'}))
    assert weak.status_code == 412
    ok = run.one_event(lambda: _put_decision(run, if_match(version)), "portion.decided")
    assert (ok.status_code, ok.headers["ETag"]) == (200, f'"{version + 1}"')


@pytest.mark.parametrize("what", ["approve", "return", "referral", "assignee"])
def test_every_portion_write_needs_if_match(run: Run, what: str) -> None:
    headers = {"approve": run.alan, "return": run.alan, "referral": run.sue, "assignee": run.sue}
    bodies: dict[str, Any] = {
        "approve": None,
        "return": {"note": "why"},
        "referral": {"answer": "release"},
        "assignee": {"username": "rita"},
    }
    path = portion_path(run.ref_id, 5, what)
    method = "PUT" if what == "assignee" else "POST"
    response = run.no_event(
        lambda: run.client.request(method, path, json=bodies[what], headers=headers[what])
    )
    assert response.status_code == 428


# --- one audit event per write, none for a failed one ------------------------------------


def _referred(run: Run) -> None:
    _claimed(run)
    assert run.decide(5, {"action": "refer", "refer_to": "CIA"}).status_code == 200


def _decided(run: Run) -> None:
    _claimed(run)
    assert run.decide(5, {"action": "release"}).status_code == 200


def _write(run: Run, what: str, headers: dict[str, str], body: Any = None) -> Response:
    version = run.portion(5)["version"]
    method = "PUT" if what in ("decision", "assignee") else "POST"
    return run.client.request(
        method,
        portion_path(run.ref_id, 5, what),
        json=body,
        headers={**headers, **if_match(version)},
    )


def test_claim_audits_once_and_a_second_claim_is_409(run: Run) -> None:
    run.one_event(lambda: run.claim(5), "portion.claimed")
    again = _problem(run.no_event(lambda: run.claim(5)), 409)
    assert again["detail"] == (
        "cannot claim a portion that is in_review; "
        "actions allowed when in_review: decide, refer, reassign"
    )
    assert again["allowed_actions"] == ["decide", "refer", "reassign"]


def test_decide_and_refer_audit_once(run: Run) -> None:
    _claimed(run)
    refused = run.no_event(lambda: _write(run, "decision", run.alan, {"action": "release"}))
    assert refused.status_code == 403
    run.one_event(
        lambda: _write(run, "decision", run.rita, {"action": "refer", "refer_to": "CIA"}),
        "portion.referred",
    )
    assert run.portion(5)["status"] == "referred"


def test_referral_answer_audits_once_and_is_409_when_nothing_was_referred(run: Run) -> None:
    _claimed(run)
    body = {"answer": "withhold", "exemptions": ["1.4(c)"], "note": "sources"}
    assert run.no_event(lambda: _write(run, "referral", run.sue, body)).status_code == 409
    assert run.decide(5, {"action": "refer", "refer_to": "CIA"}).status_code == 200
    bad = run.no_event(lambda: _write(run, "referral", run.sue, {"answer": "withhold"}))
    assert _problem(bad, 422)["detail"] == (
        "The referral answer cannot be stored: withhold needs an exemption code"
    )
    answered = run.one_event(
        lambda: _write(run, "referral", run.sue, body), "portion.referral_answered"
    )
    assert (answered.json()["status"], answered.json()["assignee"]) == ("in_review", "rita")
    assert [d["action"] for d in answered.json()["decisions"]] == ["refer", "referral_answer"]


def test_approve_and_return_audit_once(run: Run) -> None:
    _decided(run)
    own = run.no_event(lambda: _write(run, "approve", run.rita))
    assert own.status_code == 403
    blank = run.no_event(lambda: _write(run, "return", run.alan, {"note": ""}))
    assert blank.status_code == 422
    returned = run.one_event(
        lambda: _write(run, "return", run.alan, {"note": "redact the names"}), "portion.returned"
    )
    assert (returned.json()["status"], returned.json()["assignee"]) == ("returned", "rita")
    assert returned.json()["decisions"][0]["review"]["note"] == "redact the names"
    assert run.decide(5, {"action": "release"}).status_code == 200
    approved = run.one_event(lambda: _write(run, "approve", run.alan), "portion.approved")
    assert approved.json()["status"] == "approved"
    assert [d["review"]["outcome"] for d in approved.json()["decisions"]] == [
        "returned",
        "approved",
    ]


def test_reassign_audits_once_and_refuses_an_uncleared_reviewer(run: Run) -> None:
    _claimed(run)
    low = run.no_event(lambda: _write(run, "assignee", run.sue, {"username": "uma"}))
    assert _problem(low, 422)["detail"] == (
        "uma is cleared to UNCLASSIFIED, below this CONFIDENTIAL portion"
    )
    not_reviewer = run.no_event(lambda: _write(run, "assignee", run.sue, {"username": "alan"}))
    assert _problem(not_reviewer, 422)["detail"] == "alan is not a reviewer"
    moved = run.one_event(
        lambda: _write(run, "assignee", run.sue, {"username": "rita"}), "portion.reassigned"
    )
    assert (moved.json()["status"], moved.json()["assignee"]) == ("assigned", "rita")


def test_policy_change_audits_once(run: Run) -> None:
    bad = run.no_event(
        lambda: run.client.put(
            "/api/v1/review/policy",
            json={"sampling_enabled": True, "sample_rate": 2},
            headers=run.sue,
        )
    )
    assert bad.status_code == 422
    changed = run.one_event(
        lambda: run.client.put(
            "/api/v1/review/policy",
            json={"sampling_enabled": True, "sample_rate": 0.1},
            headers=run.sue,
        ),
        "rule.changed",
    )
    assert (changed.json()["sampling_enabled"], changed.json()["updated_by"]) == (True, "sue")
    read = run.client.get("/api/v1/review/policy", headers=run.sue).json()
    assert (read["sampling_enabled"], read["sample_rate"]) == (True, 0.1)


def test_sampled_out_decision_is_approved_at_once(run: Run, app: FastAPI) -> None:
    run.client.put(
        "/api/v1/review/policy",
        json={"sampling_enabled": True, "sample_rate": 0.1},
        headers=run.sue,
    )
    _claimed(run)
    app.dependency_overrides[review_context] = lambda: context(0.75)
    before = len(audit_events(run.engine))
    decided = run.decide(5, {"action": "release"})
    assert (decided.json()["status"], decided.json()["auto_approved"]) == ("approved", True)
    assert decided.json()["decisions"][0]["review"]["outcome"] == "auto_approved"
    events = [{"action": e.action, "actor": e.actor} for e in audit_events(run.engine)[before:]]
    assert [(e["action"], e["actor"]) for e in events] == [
        ("portion.decided", "rita"),
        ("portion.approved", "second-review-sampling"),
    ]


# --- the queue ----------------------------------------------------------------------------


def test_queue_is_soonest_due_first_with_a_stable_cursor(run: Run, engine: Engine) -> None:
    later = make_cable(engine, ref_id="09LATER1", declassify_on=date(2030, 1, 1), assignee="rita")
    sooner = make_cable(engine, ref_id="08SOONER1", declassify_on=date(2020, 1, 1), assignee="rita")
    undated = make_cable(engine, ref_id="10NODATE1", declassify_on=None, assignee="rita")
    expected = (
        [(run.ref_id, seq) for seq in range(9)]
        + [(sooner, seq) for seq in range(3)]
        + [(later, seq) for seq in range(3)]
        + [(undated, seq) for seq in range(3)]
    )
    seen: list[tuple[str, int]] = []
    url: str | None = "/api/v1/queue?limit=4"
    pages = 0
    while url is not None:
        response = run.client.get(url, headers=run.rita)
        assert response.status_code == 200
        body = response.json()
        seen.extend((item["ref_id"], item["seq"]) for item in body["items"])
        assert {item["kind"] for item in body["items"]} == {"review"}
        if body["next_cursor"] is None:
            assert "Link" not in response.headers
            url = None
        else:
            assert response.headers["Link"].endswith('>; rel="next"')
            url = f"/api/v1/queue?limit=4&cursor={body['next_cursor']}"
        pages += 1
    assert seen == expected
    assert pages == 5
    assert run.client.get("/api/v1/queue?cursor=nonsense", headers=run.rita).status_code == 400
