"""Routing in a bulk import: a batch places each cable exactly as ingesting the cables one
by one would, with the reviewers' loads carried from cable to cable and batch to batch."""

from __future__ import annotations

import json
from collections import Counter
from concurrent.futures import Executor, ProcessPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from factories import create_user
from sqlalchemy import Engine, select
from sqlmodel import Session, col

from service.audit.models import AuditAction, AuditEvent
from service.audit.verify import verify_chain
from service.auth.models import Role
from service.auth.principal import system_principal
from service.cables.models import Cable, Portion
from service.cables.service import ingest_cable
from service.db import unit_of_work
from service.integrations import imports
from service.integrations.csv_source import ImportFormat, read_rows
from service.integrations.import_models import ImportJob, ImportRunner
from service.integrations.import_runner import RunnerOptions, run_job
from service.markings import Level
from service.routing.data import reviewer_loads

SEED = Path(__file__).resolve().parents[2] / "service" / "demo" / "07TOKYO5624.txt"
SHARED = Path(__file__).resolve().parents[2].parent / "shared"
ACTOR = system_principal("tests")
Placed = tuple[str, int, str, str | None, str | None]


def options(batch_size: int) -> RunnerOptions:
    return RunnerOptions(
        batch_size=batch_size, lease_seconds=30, max_line_bytes=1 << 24, parse_workers=0
    )


def import_file(
    engine: Engine, path: Path, *, batch_size: int, pool: Executor | None = None
) -> ImportJob:
    data = path.read_bytes()
    with unit_of_work(engine) as session:
        job, _ = imports.create_import(
            session,
            actor=ACTOR,
            import_id=imports.new_import_id(),
            fmt=ImportFormat.ndjson if path.suffix == ".ndjson" else ImportFormat.csv,
            spool_path=path,
            size_bytes=len(data),
            body_sha256="0" * 64,
            idempotency_key=None,
            idempotency_ttl_seconds=86400,
            runner=ImportRunner.cli,
        )
    with unit_of_work(engine) as session:
        claimed = imports.claim_job(
            session, owner="w", lease_seconds=30, runner=ImportRunner.cli, import_id=job.id
        )
    assert claimed is not None
    return run_job(engine, job=claimed, owner="w", options=options(batch_size), pool=pool)


def placements(session: Session) -> list[Placed]:
    """(ref_id, seq, status, queue, assignee) of every portion, in ingest order."""
    rows = session.execute(
        select(Cable.ref_id, Portion.seq, Portion.status, Portion.queue, Portion.assignee)
        .join(Cable, col(Cable.id) == col(Portion.cable_id))
        .order_by(col(Cable.id), col(Portion.seq))
    )
    return [tuple(row) for row in rows]  # type: ignore[misc]


def routing_details(session: Session) -> dict[str, Any]:
    events = session.execute(
        select(AuditEvent).where(col(AuditEvent.action) == AuditAction.cable_ingested.value)
    ).scalars()
    return {e.entity_id: e.detail["routing"] for e in events}


class RolledBack(Exception):
    pass


def ingest_then_roll_back(engine: Engine, texts: list[str], seen: dict[str, Any]) -> None:
    with unit_of_work(engine) as session:
        for text in texts:
            assert ingest_cable(session, text=text, actor=ACTOR).created
        seen["placements"] = placements(session)
        seen["status"] = dict(session.execute(select(Cable.ref_id, Cable.status)).all())
        raise RolledBack


@pytest.mark.corpus
def test_a_batch_import_routes_exactly_like_single_ingests(
    engine: Engine, shared_corpus_csv: Path
) -> None:
    # Reviewers of mixed clearances and queues; nobody in `intelligence-equities`.
    for name, clearance, queues in [
        ("ada", Level.TOP_SECRET, ["general", "foreign-government"]),
        ("bo", Level.SECRET, ["general", "foreign-government"]),
        ("cy", Level.CONFIDENTIAL, ["general", "foreign-government", "noforn"]),
        ("di", Level.SECRET, ["general", "defense-wmd"]),
    ]:
        create_user(
            engine, username=name, roles=[Role.reviewer], clearance=clearance, queues=queues
        )
    with shared_corpus_csv.open("rb") as stream:
        texts = [row.text for row in read_rows(stream, fmt=ImportFormat.csv, offset=0)]
    # One by one through `ingest_cable` (each sees the loads its predecessors left), then
    # rolled back, so the import below starts from the same database.
    seen: dict[str, Any] = {}
    with pytest.raises(RolledBack):
        ingest_then_roll_back(engine, [t for t in texts if t is not None], seen)
    alone, alone_status = seen["placements"], seen["status"]
    job = import_file(engine, shared_corpus_csv, batch_size=7)
    assert (job.status, job.imported, job.batches) == ("completed", len(texts), 6)
    with Session(engine) as session:
        assert placements(session) == alone
        assert dict(session.execute(select(Cable.ref_id, Cable.status)).all()) == alone_status
        # Each cable's one `cable.ingested` event lists where each of its portions went.
        details = routing_details(session)
        assert verify_chain(session).valid
    assert sorted(
        (ref, seq, r["queue"], r["assignee"])
        for ref, rs in details.items()
        for r in rs
        for seq in r["seqs"]
    ) == sorted((ref, seq, queue, assignee) for ref, seq, _, queue, assignee in alone)
    assert len(alone) > 300
    assert {a for _, _, _, _, a in alone} == {"ada", "bo", "cy", "di", None}
    assert {q for _, _, _, q, _ in alone} == {
        "general",
        "foreign-government",
        "intelligence-equities",
    }
    assert {(q, s) for _, _, s, q, a in alone if a is None} == {
        ("intelligence-equities", "pending")
    }
    assert set(alone_status.values()) == {"received"}


@pytest.fixture
def shared_corpus_csv(tmp_path: Path) -> Path:
    """The first 40 rows of the shared corpus CSV (header included)."""
    lines: list[bytes] = []
    source = SHARED / "corpus" / "cables.csv"
    if not source.exists():
        pytest.skip(f"{source} not found: the shared corpus is not beside this clone")
    with source.open("rb") as stream:
        rows = read_rows(stream, fmt=ImportFormat.csv, offset=0)
        end = [row.end for _, row in zip(range(40), rows, strict=False)][-1]
        stream.seek(0)
        lines.append(stream.read(end))
    path = tmp_path / "first40.csv"
    path.write_bytes(b"".join(lines))
    return path


def seed_variants(count: int) -> list[str]:
    """`count` copies of the seed cable with their own reference ids and 8 portions each
    (its last paragraph dropped), all routed to `foreign-government`."""
    text = SEED.read_text(encoding="utf-8")
    text = text[: text.index("¶8. (C)")] + text[text.index("SCHIEFFER") :]
    return [text.replace("07TOKYO5624", f"07TOKYO{7000 + i}") for i in range(count)]


def test_1000_portions_over_5_reviewers_in_one_import_end_within_one(
    engine: Engine, tmp_path: Path
) -> None:
    names = ["r1", "r2", "r3", "r4", "r5"]
    for name in names:
        create_user(
            engine,
            username=name,
            roles=[Role.reviewer],
            clearance=Level.TOP_SECRET,
            queues=["foreign-government"],
        )
    path = tmp_path / "seeds.ndjson"
    path.write_text("".join(json.dumps({"text": t}) + "\n" for t in seed_variants(125)))
    job = import_file(engine, path, batch_size=50)
    assert (job.status, job.imported, job.batches) == ("completed", 125, 3)
    with Session(engine) as session:
        rows = placements(session)
        loads = {
            entry.reviewer.username: entry.open_assignments for entry in reviewer_loads(session)
        }
    assert len(rows) == 1000
    assert Counter(a for *_, a in rows) == dict.fromkeys(names, 200)
    assert loads == dict.fromkeys(names, 200)
    # Each cable stays with one reviewer (cable affinity).
    assert all(len({a for r, *_, a in rows if r == ref}) == 1 for ref in {r[0] for r in rows})


@pytest.mark.corpus
def test_a_pipelined_import_parses_ahead_in_a_worker_and_stores_the_same(
    engine: Engine, shared_corpus_csv: Path
) -> None:
    create_user(
        engine,
        username="ada",
        roles=[Role.reviewer],
        clearance=Level.TOP_SECRET,
        queues=["general"],
    )
    with shared_corpus_csv.open("rb") as stream:
        texts = [row.text for row in read_rows(stream, fmt=ImportFormat.csv, offset=0)]
    seen: dict[str, Any] = {}
    with pytest.raises(RolledBack):
        ingest_then_roll_back(engine, [t for t in texts if t is not None], seen)
    with ProcessPoolExecutor(max_workers=1) as pool:
        job = import_file(engine, shared_corpus_csv, batch_size=15, pool=pool)
    assert (job.status, job.rows_done, job.imported, job.batches) == ("completed", 40, 40, 3)
    with Session(engine) as session:
        assert placements(session) == seen["placements"]
        assert verify_chain(session).valid
