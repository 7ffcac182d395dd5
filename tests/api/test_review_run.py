"""A full review of the seed cable through the HTTP API: ingest, claim, decide every
portion (one with redacted spans), a self-approval refused, approvals, finalize, and the
release as text, JSON and PDF. Each write is checked for exactly one audit event."""

from __future__ import annotations

import io
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from factories import assert_no_secret_text, auth_headers, create_user, windows_of
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pypdf import PdfReader
from review_factories import SEED_REF_ID, Run, if_match, start_run
from sqlalchemy import Engine

from service.auth.models import Role
from service.markings import Level

REF_ID = SEED_REF_ID
CABLE = f"/api/v1/cables/{REF_ID}"
RELEASE = f"{CABLE}/release"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
REDACTED = ("Michiko Makino", "Takuma Kajita")  # both in paragraph 2, "Michiko"/"Takuma" once


@pytest.fixture
def run(app: FastAPI, client: TestClient, engine: Engine) -> Iterator[Run]:
    yield start_run(app, client, engine)
    app.dependency_overrides.clear()


def test_seed_cable_review_to_release(run: Run) -> None:
    client = run.client
    portions = client.get(CABLE, headers=run.rita).json()["portions"]
    assert len(portions) == 9
    assert {(p["status"], p["assignee"]) for p in portions} == {("assigned", "rita")}
    assert "".join(p["text"] for p in portions) == run.raw

    for seq in range(9):
        claimed = run.one_event(lambda seq=seq: run.claim(seq), "portion.claimed")
        assert (claimed.status_code, claimed.json()["status"]) == (200, "in_review")

    paragraph = portions[2]["text"]
    redactions = [
        {"start": paragraph.index(n), "end": paragraph.index(n) + len(n), "exemption": "(b)(6)"}
        for n in REDACTED
    ]
    for seq in range(9):
        body = {"action": "redact", "redactions": redactions} if seq == 2 else {"action": "release"}
        decided = run.one_event(lambda seq=seq, body=body: run.decide(seq, body), "portion.decided")
        assert decided.status_code == 200, decided.text
        assert (decided.json()["status"], decided.json()["auto_approved"]) == ("decided", False)
    assert [d["redactions"] for d in run.portion(2)["decisions"]] == [
        [{"start": r["start"], "end": r["end"], "exemption": ["(b)(6)"]} for r in redactions]
    ]

    own = run.no_event(lambda: run.approve(2, headers=run.rita))
    assert (own.status_code, own.json()["detail"]) == (
        403,
        "the decider may not approve their own decision",
    )

    queue = client.get("/api/v1/queue", headers=run.alan).json()["items"]
    assert [(i["kind"], i["seq"], i["decided_by"]) for i in queue] == [
        ("approval", seq, "rita") for seq in range(9)
    ]
    assert client.get("/api/v1/queue", headers=run.rita).json()["items"] == []

    early = run.no_event(lambda: client.post(f"{CABLE}/finalize", headers=run.sue))
    assert early.status_code == 409
    assert early.json()["detail"].startswith("9 of 9 portions are not approved yet (9 decided)")

    for seq in range(9):
        approved = run.one_event(lambda seq=seq: run.approve(seq), "portion.approved")
        assert approved.status_code == 200, approved.text
    assert client.get(CABLE, headers=run.sue).json()["status"] == "ready"

    not_yet = client.get(RELEASE, headers=run.uma)
    assert (not_yet.status_code, not_yet.json()["detail"]) == (
        404,
        f"{REF_ID} has not been released",
    )

    final = run.one_event(
        lambda: client.post(f"{CABLE}/finalize", headers=run.sue), "cable.finalized"
    )
    assert final.status_code == 200, final.text
    assert (final.json()["status"], final.json()["finalized_by"]) == ("released", "sue")
    again = run.no_event(lambda: client.post(f"{CABLE}/finalize", headers=run.sue))
    assert (again.status_code, again.json()["detail"]) == (
        409,
        f"{REF_ID} was already finalized (released)",
    )
    assert client.get(CABLE, headers=run.sue).json()["status"] == "released"

    # Text, for any user: the spans replaced in place, the rest is the cable exactly.
    text = client.get(RELEASE, headers={**run.uma, "Accept": "text/plain"})
    assert (text.status_code, text.headers["content-type"]) == (200, "text/plain; charset=utf-8")
    offset = len(portions[0]["text"]) + len(portions[1]["text"])
    expected = run.raw
    for span in reversed(redactions):
        start, end = offset + span["start"], offset + span["end"]
        expected = expected[:start] + "[REDACTED (b)(6)]" + expected[end:]
    assert text.text == expected
    assert "Michiko" not in text.text
    assert "Takuma" not in text.text

    # JSON (the default): portions and spans as data.
    document = client.get(RELEASE, headers=run.uma).json()
    assert document["approvers"] == ["alan"]
    assert [p["action"] for p in document["portions"]] == ["release"] * 2 + ["redact"] + [
        "release"
    ] * 6
    assert document["portions"][2]["redactions"] == [
        {"start": r["start"], "end": r["end"], "codes": ["(b)(6)"]} for r in redactions
    ]
    assert "Michiko" not in str(document)

    # PDF: the released words are there; the redacted ones are nowhere in the file.
    pdf = client.get(RELEASE, headers={**run.uma, "Accept": "application/pdf"})
    assert (pdf.status_code, pdf.headers["content-type"]) == (200, "application/pdf")
    reader = PdfReader(io.BytesIO(pdf.content))
    extracted = "\n".join(page.extract_text() for page in reader.pages)
    for word in ("CCW", "Oslo", "Conventional Arms Division", "SCHIEFFER", "DECLASSIFIED"):
        assert word in extracted, word
    assert "By: alan" in extracted
    for word in ("Michiko", "Takuma"):
        assert word not in extracted
        assert word.encode() not in pdf.content
    assert "Michiko" not in str(reader.metadata or {})
    _render_pngs(pdf.content)

    # Stored once: it reads back byte for byte, whoever asks.
    assert client.get(RELEASE, headers={**run.rita, "Accept": "application/pdf"}).content == (
        pdf.content
    )


def _render_pngs(pdf: bytes) -> None:
    """Page images in test-artifacts/ to look at: the boxes must cover the names (page 2)."""
    if shutil.which("pdftoppm") is None:
        return
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{REF_ID}-api-release.pdf"
    path.write_bytes(pdf)
    prefix = str(path.with_suffix(""))
    subprocess.run(["pdftoppm", "-png", "-r", "110", str(path), prefix], check=True)


def test_preview_goes_through_the_clearance_filter(run: Run, engine: Engine) -> None:
    client = run.client
    run.claim(1)
    assert run.decide(1, {"action": "withhold", "exemptions": ["1.4(b)"]}).status_code == 200

    preview = client.get(f"{RELEASE}?preview=true", headers={**run.sue, "Accept": "text/plain"})
    assert preview.status_code == 200
    assert "¶1. [REDACTED 1.4(b)]" in preview.text
    assert "¶2. [REDACTED UNDECIDED]" in preview.text
    assert "Per reftel" not in preview.text

    _, password = create_user(
        engine, username="lou", roles=[Role.supervisor], clearance=Level.UNCLASSIFIED
    )
    low = auth_headers(client, "lou", password)
    texts = [p["text"] for p in client.get(CABLE, headers=run.sue).json()["portions"]]
    windows = windows_of(texts)
    for accept in ("text/plain", "application/json", "application/pdf"):
        hidden = client.get(f"{RELEASE}?preview=true", headers={**low, "Accept": accept})
        assert hidden.status_code == 200
        assert_no_secret_text(hidden.content, windows, where=accept)
    hidden_text = client.get(f"{RELEASE}?preview=true", headers={**low, "Accept": "text/plain"})
    assert hidden_text.text.count("[WITHHELD FOR CLEARANCE]") == 9

    refused = client.get(f"{RELEASE}?preview=true", headers=run.rita)
    assert (refused.status_code, refused.json()["detail"]) == (
        403,
        "Only supervisors may preview a release",
    )
    assert client.get(RELEASE, headers={**run.sue, "Accept": "image/png"}).status_code == 406


def test_portion_above_clearance_has_null_text_and_notes(run: Run) -> None:
    run.claim(3)
    assert run.decide(3, {"action": "release", "note": "Kajita quote is public"}).status_code == 200
    seen = run.portion(3, headers=run.uma)
    assert (seen["text"], seen["withheld_for_clearance"]) == (None, True)
    assert [d["note"] for d in seen["decisions"]] == [None]
    assert [d["note"] for d in run.portion(3)["decisions"]] == ["Kajita quote is public"]
    unknown = run.client.get(f"{CABLE}/portions/99", headers=run.uma)
    assert (unknown.status_code, unknown.json()["detail"]) == (
        404,
        f"No portion 99 of cable {REF_ID}",
    )
    acting = run.post(3, "claim", {**run.uma, **if_match(1)})
    assert (acting.status_code, acting.json()["detail"]) == (
        403,
        "Your clearance does not cover this portion",
    )
