"""The outbox calls in the review workflow: a real review of the seed cable, from claim to
finalize, announces every decision (`portion.decided`) and the release (`cable.released`)
to a real receiver, signed, with thin payloads, and the release feed lists the cable."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from factories import make_principal_headers, windows_of
from fastapi import FastAPI
from fastapi.testclient import TestClient
from review_factories import SEED_REF_ID, Run, start_run
from sqlalchemy import Engine
from standardwebhooks import Webhook
from test_webhooks_api import Receiver, fast, subscribe, wait_for

from service.auth.models import Role
from service.main import create_app
from service.settings import Settings


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    endpoint = Receiver()
    yield endpoint
    endpoint.close()


@pytest.fixture
def app(settings: Settings) -> FastAPI:
    return create_app(fast(settings))


@pytest.fixture
def run(app: FastAPI, client: TestClient, engine: Engine) -> Iterator[Run]:
    yield start_run(app, client, engine)
    app.dependency_overrides.clear()


def test_decisions_and_the_release_are_announced_after_commit(
    run: Run, engine: Engine, receiver: Receiver
) -> None:
    client = run.client
    admin = make_principal_headers(client, engine, Role.admin)
    hook = subscribe(client, admin, receiver.url, ["portion.decided", "cable.released"])
    for seq in range(9):
        assert run.claim(seq).status_code == 200
        assert run.decide(seq, {"action": "release"}).status_code == 200
        assert run.approve(seq).status_code == 200
    refused = run.decide(0, {"action": "release"})  # not the assignee's turn: nothing announced
    assert refused.status_code in (403, 409)
    final = client.post(f"/api/v1/cables/{SEED_REF_ID}/finalize", headers=run.sue)
    assert final.status_code == 200, final.text

    wait_for(lambda: len(receiver.requests) == 10)
    verifier = Webhook(hook["secret"])
    payloads: list[Any] = [verifier.verify(body, headers) for headers, body in receiver.requests]
    kinds = sorted((p["type"], p["data"].get("seq", -1)) for p in payloads)
    assert kinds == [("cable.released", -1)] + [("portion.decided", seq) for seq in range(9)]
    released = next(p["data"] for p in payloads if p["type"] == "cable.released")
    assert (released["ref_id"], released["status"]) == (SEED_REF_ID, "released")
    assert released["links"] == {
        "cable": f"/api/v1/cables/{SEED_REF_ID}",
        "release": f"/api/v1/cables/{SEED_REF_ID}/release",
    }
    windows = windows_of([run.raw[i : i + 400] for i in range(0, len(run.raw), 400)])
    for _headers, body in receiver.requests:
        assert not windows & {body.decode()[i : i + 40] for i in range(len(body) - 39)}

    feed = client.get("/api/v1/releases", headers=run.uma).json()["items"]
    assert [(item["ref_id"], item["status"]) for item in feed] == [(SEED_REF_ID, "released")]
