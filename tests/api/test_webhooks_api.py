"""Webhooks end to end: subscriptions (secret shown once, URLs checked against SSRF),
events from the outbox delivered after commit to a real HTTP receiver on localhost that
verifies every delivery with `standardwebhooks`, retries with the same `webhook-id`, and
disabling after a day of failures (a day shortened by settings)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from factories import make_principal_headers
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlmodel import Session, col
from standardwebhooks import Webhook

from service.audit.models import AuditAction, AuditEvent
from service.auth.models import Role
from service.db import unit_of_work
from service.integrations.webhooks.models import WebhookDelivery, WebhookEvent
from service.integrations.webhooks.outbox import enqueue_event
from service.main import create_app
from service.settings import Settings

PUBLIC = {"records.example.org": ["93.184.216.34"], "evil.example.org": ["10.1.2.3"]}


def fake_resolver(host: str, _port: int) -> list[str]:
    if host == "localhost":
        return ["127.0.0.1", "::1"]
    if host not in PUBLIC:
        raise OSError("unknown host")
    return PUBLIC[host]


class Receiver:
    """A real HTTP endpoint: answers each POST with the next status of `statuses` (200 when
    they run out), after `delay` seconds, and keeps every request."""

    def __init__(self) -> None:
        self.statuses: list[int] = []
        self.delay = 0.0
        self.requests: list[tuple[dict[str, str], bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                receiver.requests.append(({k.lower(): v for k, v in self.headers.items()}, body))
                time.sleep(receiver.delay)
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *_args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    endpoint = Receiver()
    yield endpoint
    endpoint.close()


def fast(settings: Settings, **extra: Any) -> Settings:
    return settings.model_copy(
        update={
            "webhook_allowed_hosts": ["127.0.0.1"],
            "webhook_retry_schedule": [0.05, 0.05, 0.05, 0.05],
            "webhook_retry_jitter": 0.0,
            "webhook_poll_seconds": 0.02,
            "webhook_timeout_seconds": 1.0,
            "import_worker_enabled": False,
            **extra,
        }
    )


@pytest.fixture
def app(settings: Settings) -> FastAPI:
    application = create_app(fast(settings))
    application.state.webhook_resolver = fake_resolver
    return application


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def admin(client: TestClient, engine: Engine) -> dict[str, str]:
    return make_principal_headers(client, engine, Role.admin)


def subscribe(client: TestClient, admin: dict[str, str], url: str, events: list[str]) -> Any:
    response = client.post("/api/v1/webhooks", json={"url": url, "events": events}, headers=admin)
    assert response.status_code == 201, response.text
    return response.json()


def announce(engine: Engine, ref_id: str = "07TOKYO5624") -> str:
    with unit_of_work(engine) as session:
        event = enqueue_event(
            session,
            event_type="cable.released",
            payload={"ref_id": ref_id, "status": "released", "links": {"cable": f"/x/{ref_id}"}},
        )
        assert event is not None
        return event.msg_id


def wait_for(check: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.02)


def deliveries(client: TestClient, admin: dict[str, str], hook_id: int) -> list[Any]:
    response = client.get(f"/api/v1/webhooks/{hook_id}/deliveries", headers=admin)
    assert response.status_code == 200
    return list(response.json()["items"])


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.2/hooks",  # loopback, not the allowed 127.0.0.1
        "http://localhost/hooks",  # resolves to loopback
        "http://[::1]/hooks",
        "http://10.0.0.5/hooks",
        "http://192.168.1.20/hooks",
        "http://172.16.0.1/hooks",
        "http://169.254.169.254/latest/meta-data/",  # cloud metadata (link-local)
        "http://[fe80::1]/hooks",
        "http://[::ffff:10.0.0.1]/hooks",
        "http://100.64.0.1/hooks",
        "http://0.0.0.0/hooks",
        "http://evil.example.org/hooks",  # a public name resolving to a private address
        "http://nowhere.invalid/hooks",
        "ftp://records.example.org/hooks",
        "file:///etc/passwd",
        "gopher://records.example.org/",
        "http://user:pw@records.example.org/hooks",
        "records.example.org/hooks",
    ],
)
def test_refused_urls_are_422(client: TestClient, admin: dict[str, str], url: str) -> None:
    response = client.post(
        "/api/v1/webhooks", json={"url": url, "events": ["cable.released"]}, headers=admin
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"


def test_without_the_allow_list_loopback_is_refused_too(settings: Settings) -> None:
    application = create_app(fast(settings, webhook_allowed_hosts=[], webhook_worker_enabled=False))
    with TestClient(application) as client:
        admin = make_principal_headers(client, application.state.engine, Role.admin)
        response = client.post(
            "/api/v1/webhooks",
            json={"url": "http://127.0.0.1:9/hooks", "events": ["cable.released"]},
            headers=admin,
        )
    assert response.status_code == 422
    assert "loopback" in response.json()["detail"]


def test_the_secret_is_shown_once_and_unknown_events_are_refused(
    client: TestClient, admin: dict[str, str]
) -> None:
    created = subscribe(client, admin, "https://records.example.org/hooks", ["cable.released"])
    assert created["secret"].startswith("whsec_")
    Webhook(created["secret"])  # a valid Standard Webhooks secret
    assert created["active"] is True
    one = client.get(f"/api/v1/webhooks/{created['id']}", headers=admin).json()
    listed = client.get("/api/v1/webhooks", headers=admin).json()["items"]
    assert "secret" not in one
    assert [set(item) for item in listed] == [set(one)]
    assert created["secret"] not in json.dumps(listed)
    bad = client.post(
        "/api/v1/webhooks",
        json={"url": "https://records.example.org/h", "events": ["cable.exploded"]},
        headers=admin,
    )
    assert bad.status_code == 422


def test_deliveries_are_signed_and_verified_by_a_real_receiver(
    client: TestClient, admin: dict[str, str], engine: Engine, receiver: Receiver
) -> None:
    hook = subscribe(client, admin, receiver.url, ["cable.released", "import.finished"])
    msg_ids = [announce(engine, ref) for ref in ("07TOKYO5624", "08PARIS1", "09BERLIN2")]
    wait_for(lambda: len(receiver.requests) == 3)
    verifier = Webhook(hook["secret"])
    payloads = [verifier.verify(body, headers) for headers, body in receiver.requests]
    assert sorted(h["webhook-id"] for h, _ in receiver.requests) == sorted(msg_ids)
    assert sorted(p["data"]["ref_id"] for p in payloads) == ["07TOKYO5624", "08PARIS1", "09BERLIN2"]
    assert {p["type"] for p in payloads} == {"cable.released"}
    assert all(set(p["data"]) == {"ref_id", "status", "links"} for p in payloads)
    wait_for(lambda: all(d["status"] == "succeeded" for d in deliveries(client, admin, hook["id"])))
    listed = deliveries(client, admin, hook["id"])
    assert [len(d["attempts"]) for d in listed] == [1, 1, 1]
    assert [d["webhook_id"] for d in listed] == msg_ids


def test_a_receiver_failing_three_times_gets_the_same_webhook_id_and_one_success(
    client: TestClient, admin: dict[str, str], engine: Engine, receiver: Receiver
) -> None:
    hook = subscribe(client, admin, receiver.url, ["cable.released"])
    receiver.statuses = [500, 503, 502]
    msg_id = announce(engine)
    wait_for(lambda: deliveries(client, admin, hook["id"])[0]["status"] == "succeeded")
    assert len(receiver.requests) == 4
    assert {h["webhook-id"] for h, _ in receiver.requests} == {msg_id}
    verifier = Webhook(hook["secret"])
    for headers, body in receiver.requests:
        verifier.verify(body, headers)
    (delivery,) = deliveries(client, admin, hook["id"])
    assert [(a["number"], a["outcome"], a["status_code"]) for a in delivery["attempts"]] == [
        (1, "http_error", 500),
        (2, "http_error", 503),
        (3, "http_error", 502),
        (4, "success", 200),
    ]
    assert sum(a["outcome"] == "success" for a in delivery["attempts"]) == 1
    hook_now = client.get(f"/api/v1/webhooks/{hook['id']}", headers=admin).json()
    assert (hook_now["active"], hook_now["failing_since"]) == (True, None)


def test_a_day_of_failures_disables_the_subscription(
    settings: Settings, engine: Engine, receiver: Receiver
) -> None:
    application = create_app(
        fast(
            settings,
            webhook_retry_schedule=[0.05] * 50,
            webhook_disable_after_seconds=0.5,  # "a day", shortened
            webhook_timeout_seconds=0.2,
        )
    )
    receiver.statuses = [500] * 3
    receiver.delay = 0.0
    with TestClient(application) as client:
        admin = make_principal_headers(client, engine, Role.admin)
        hook = subscribe(client, admin, receiver.url, ["cable.released"])
        receiver.statuses = [500] * 2
        receiver.delay = 0.5  # then time out
        announce(engine)
        announce(engine, "08PARIS1")
        wait_for(
            lambda: not client.get(f"/api/v1/webhooks/{hook['id']}", headers=admin).json()["active"]
        )
        hook_now = client.get(f"/api/v1/webhooks/{hook['id']}", headers=admin).json()
        listed = deliveries(client, admin, hook["id"])
    assert hook_now["disabled_reason"].startswith("every delivery failed for")
    assert [d["status"] for d in listed] == ["failed", "failed"]
    outcomes = {a["outcome"] for d in listed for a in d["attempts"]}
    assert outcomes <= {"http_error", "timeout"}
    assert "timeout" in outcomes
    with Session(engine) as session:
        changes = session.execute(
            select(AuditEvent.detail).where(
                col(AuditEvent.action) == AuditAction.webhook_changed.value
            )
        ).all()
    assert [d[0]["change"] for d in changes] == ["created", "disabled"]


def test_events_exist_only_when_their_transaction_commits(
    engine: Engine, client: TestClient, admin: dict[str, str]
) -> None:
    subscribe(client, admin, "https://records.example.org/hooks", ["cable.released"])

    def failing_change() -> None:
        with unit_of_work(engine) as session:
            enqueue_event(session, event_type="cable.released", payload={"ref_id": "07X1"})
            raise RuntimeError("the change failed")

    with pytest.raises(RuntimeError):
        failing_change()
    with Session(engine) as session:
        events = session.execute(select(func.count()).select_from(WebhookEvent)).scalar_one()
        rows = session.execute(select(func.count()).select_from(WebhookDelivery)).scalar_one()
    assert (events, rows) == (0, 0)


def test_payloads_are_thin(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        assert enqueue_event(session, event_type="cable.released", payload={"ref_id": "X"}) is None
        with pytest.raises(ValueError, match="thin"):
            enqueue_event(session, event_type="portion.decided", payload={"x": {"text": "secret"}})
        with pytest.raises(ValueError, match="unknown"):
            enqueue_event(session, event_type="cable.deleted", payload={})
