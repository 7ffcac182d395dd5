"""`/metrics` after a scripted session: each business metric has the expected value."""

from __future__ import annotations

from pathlib import Path

from audit_helpers import head_seq
from factories import auth_headers, create_user
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine

from service.auth.models import Role
from service.markings import Level

SEED = Path(__file__).resolve().parents[2] / "service" / "demo" / "07TOKYO5624.txt"


def scrape(client: TestClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def test_business_and_request_metrics_after_a_session(
    client: TestClient,
    engine: Engine,
    principal_headers,  # type: ignore[no-untyped-def]
) -> None:
    create_user(
        engine,
        username="kim",
        roles=[Role.reviewer],
        clearance=Level.CONFIDENTIAL,
        queues=["foreign-government"],
        password="kim-password-1234",
    )
    reviewer = auth_headers(client, "kim", "kim-password-1234")
    supervisor = principal_headers(Role.supervisor)
    posted = client.post(
        "/api/v1/cables",
        content=SEED.read_bytes(),
        headers={"Content-Type": "text/plain", **supervisor},
    )
    assert posted.status_code == 201
    portion = client.post("/api/v1/cables/07TOKYO5624/portions/1/claim", headers=reviewer)
    assert portion.status_code == 200, portion.text
    decided = client.put(
        "/api/v1/cables/07TOKYO5624/portions/1/decision",
        json={"action": "release"},
        headers={"If-Match": portion.headers["etag"], **reviewer},
    )
    assert decided.status_code == 200, decided.text

    samples = scrape(client)
    assert samples[("declass_database_up", ())] == 1
    assert samples[("declass_cables", (("status", "received"),))] == 0
    assert samples[("declass_cables", (("status", "in_review"),))] == 1
    assert samples[("declass_cables", (("status", "released"),))] == 0
    assert samples[("declass_open_portions", (("queue", "foreign-government"),))] == 9
    assert samples[("declass_decisions_total", (("action", "release"),))] == 1
    assert samples[("declass_overdue_cables", ())] == 1
    assert samples[("declass_webhook_failures_total", ())] == 0
    assert samples[("declass_audit_chain_length", ())] == head_seq(engine)
    post_key = (
        "declass_http_requests_total",
        (("method", "POST"), ("route", "/api/v1/cables"), ("status", "201")),
    )
    assert samples[post_key] == 1
    decision_route = "/api/v1/cables/{ref_id}/portions/{seq}/decision"
    latency_key = (
        "declass_http_request_duration_seconds_count",
        (("method", "PUT"), ("route", decision_route)),
    )
    assert samples[latency_key] == 1


def test_metric_labels_carry_no_ids_or_text(
    client: TestClient,
    principal_headers,  # type: ignore[no-untyped-def]
) -> None:
    supervisor = principal_headers(Role.supervisor)
    client.post(
        "/api/v1/cables",
        content=SEED.read_bytes(),
        headers={"Content-Type": "text/plain", **supervisor},
    )
    client.get("/api/v1/cables/07TOKYO5624", headers=supervisor)
    text = client.get("/metrics").text
    assert "07TOKYO5624" not in text
    assert "Kajita" not in text
    assert 'route="/api/v1/cables/{ref_id}"' in text
