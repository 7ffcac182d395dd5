"""The review API's baseline: a bare FastAPI app doing the reads and writes of
`GET .../portions/{seq}` + `PUT .../portions/{seq}/decision` on the same tables, without
the service's logic (no token check, no validation, no state machine, no ORM, no history,
no audit chain check, no middleware, no access log).

    .venv/bin/python bench/bare_app.py --database-url sqlite:////tmp/x.db --port 8123 \
        [--baseline matched|minimal]

It is served exactly like `declass serve` serves the service (`uvicorn.run(app, host, port,
log_config=None)`, one worker, sync routes on a thread pool of `DECLASS_WORKER_THREADS`)
with the service's own engine setup (`service.db.make_engine`: pool size, SQLite WAL,
`synchronous=FULL`, `BEGIN IMMEDIATE` and the in-process writer lock), so the difference
measured by `review_bench.py` is the service's code, not the server or the database
configuration.

`matched` (the default; issue #10: "the same number of reads and writes on the same
tables") runs the statements the service runs, as plain SQL, in the same transactions:

- GET, one read transaction (autocommit on PostgreSQL, as the service): SELECT the caller's
  `user` row; SELECT the portion row joined to its cable by reference id. ETag header.
- PUT: If-Match parsed. A read transaction: the caller's `user` row, the portion row, the
  `review_policy` row. Then one write transaction: INSERT the `decision` row (RETURNING
  id), `UPDATE portion SET status, version = version + 1 WHERE id AND version` (412 when no
  row), SELECT the active `webhook_subscription` rows, on PostgreSQL
  `pg_advisory_xact_lock` (the audit chain's), SELECT the `audit_event` head, INSERT one
  `audit_event` row (seq + 1, SHA-256 of the previous hash and the event); commit.

`minimal` (the baseline of the first three review-API passes, docs/benchmarks.md): GET
reads the portion row only; PUT, in one write transaction, reads the portion row, updates
it and inserts the decision.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import anyio
from fastapi import FastAPI, Header, Response
from fastapi.responses import JSONResponse
from sqlalchemy import Row, text
from sqlmodel import Session

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from service.audit.models import GENESIS_HASH  # noqa: E402
from service.audit.service import AUDIT_CHAIN_LOCK  # noqa: E402
from service.db import (  # noqa: E402
    autocommit_reads,
    make_engine,
    open_session,
    read_phase,
    write_phase,
)
from service.settings import load_settings  # noqa: E402

Baseline = Literal["matched", "minimal"]
SELECT_USER = text(
    'SELECT username, roles, clearance, queues, is_active FROM "user" WHERE id = :id'
)
SELECT_PORTION = text(
    "SELECT p.id, p.seq, p.level, p.text, p.status, p.assignee, p.version "
    "FROM portion p JOIN cable c ON c.id = p.cable_id WHERE c.ref_id = :ref_id AND p.seq = :seq"
)
SELECT_POLICY = text(
    "SELECT id, sampling_enabled, sample_rate, updated_by, updated_at FROM review_policy "
    "WHERE id = 1"
)
UPDATE_PORTION = text(
    "UPDATE portion SET status = 'decided', version = version + 1, updated_at = :now "
    "WHERE id = :id AND version = :version"
)
INSERT_DECISION = text(
    "INSERT INTO decision (portion_id, action, spans, codes, decided_by, decided_at, "
    "portion_version, text_sha256) VALUES (:portion_id, :action, '[]', '[]', :decided_by, "
    ":decided_at, :portion_version, :text_sha256) RETURNING id"
)
SELECT_SUBSCRIPTIONS = text("SELECT id, events FROM webhook_subscription WHERE is_active = :on")
LOCK_CHAIN = text("SELECT pg_advisory_xact_lock(:key)")
AUDIT_HEAD = text("SELECT seq, hash, at FROM audit_event ORDER BY seq DESC LIMIT 1")
INSERT_AUDIT = text(
    "INSERT INTO audit_event (seq, at, actor, actor_sub, action, entity, entity_id, ref_id, "
    "detail, request_id, prev_hash, hash) VALUES (:seq, :at, :actor, NULL, "
    "'portion.decided', 'portion', :entity_id, :ref_id, :detail, NULL, :prev_hash, :hash)"
)
CALLER_ID = 1  # the bare app checks no token: it reads one account row, as the service does


def _not_found() -> JSONResponse:
    return JSONResponse({"detail": "not found"}, status_code=404)


def _portion_body(row: Row[Any]) -> dict[str, Any]:
    return {
        "seq": row.seq,
        "level": row.level,
        "text": row.text,
        "status": row.status,
        "assignee": row.assignee,
        "version": row.version,
    }


def _append_audit(session: Session, *, ref_id: str, seq: int, decision_id: int) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(LOCK_CHAIN, {"key": AUDIT_CHAIN_LOCK})
    head = session.execute(AUDIT_HEAD).first()
    last, prev_hash = (int(head.seq), str(head.hash)) if head is not None else (0, GENESIS_HASH)
    detail = json.dumps({"seq": seq, "decision_id": decision_id})
    session.execute(
        INSERT_AUDIT,
        {
            "seq": last + 1,
            "at": datetime.now(UTC),
            "actor": "bare",
            "entity_id": f"{ref_id}#{seq}",
            "ref_id": ref_id,
            "detail": detail,
            "prev_hash": prev_hash,
            "hash": hashlib.sha256((prev_hash + detail).encode()).hexdigest(),
        },
    )


def create_app(database_url: str, baseline: Baseline = "matched") -> FastAPI:
    settings = load_settings(database_url=database_url, environment="test", jwt_secret="b" * 44)
    engine = make_engine(settings)
    matched = baseline == "matched"

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # The service's thread pool, set the same way (service/main.py).
        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.worker_threads
        yield
        engine.dispose()

    app = FastAPI(lifespan=lifespan)

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/api/v1/cables/{ref_id}/portions/{seq}", response_model=None)
    def read_portion(ref_id: str, seq: int, response: Response) -> Any:
        session = open_session(engine, write=False)
        try:
            if matched:
                autocommit_reads(session)
                session.execute(SELECT_USER, {"id": CALLER_ID}).first()
            row = session.execute(SELECT_PORTION, {"ref_id": ref_id, "seq": seq}).first()
            session.commit()
        finally:
            session.close()
        if row is None:
            return _not_found()
        response.headers["ETag"] = f'"{row.version}"'
        return _portion_body(row)

    @app.put("/api/v1/cables/{ref_id}/portions/{seq}/decision", response_model=None)
    def decide(
        ref_id: str,
        seq: int,
        body: dict[str, Any],
        response: Response,
        if_match: str | None = Header(default=None),
    ) -> Any:
        if not if_match:
            return JSONResponse({"detail": "If-Match required"}, status_code=428)
        expected = int(if_match.strip('"'))
        session = open_session(engine, write=True, lazy=matched)
        try:
            if matched:
                read_phase(session)
                session.execute(SELECT_USER, {"id": CALLER_ID}).first()
            row = session.execute(SELECT_PORTION, {"ref_id": ref_id, "seq": seq}).first()
            if row is None:
                session.rollback()
                return _not_found()
            if matched:
                session.execute(SELECT_POLICY).first()
                write_phase(session)
            now = datetime.now(UTC)
            decision_id = session.execute(
                INSERT_DECISION,
                {
                    "portion_id": row.id,
                    "action": str(body.get("action", "release")),
                    "decided_by": row.assignee or "bare",
                    "decided_at": now,
                    "portion_version": expected,
                    "text_sha256": hashlib.sha256(row.text.encode()).hexdigest(),
                },
            ).scalar_one()
            updated = session.execute(
                UPDATE_PORTION, {"id": row.id, "version": expected, "now": now}
            ).rowcount
            if updated != 1:
                session.rollback()
                return JSONResponse({"detail": "stale"}, status_code=412)
            if matched:
                session.execute(SELECT_SUBSCRIPTIONS, {"on": True}).all()
                _append_audit(session, ref_id=ref_id, seq=seq, decision_id=decision_id)
            session.commit()
        finally:
            session.close()
        response.headers["ETag"] = f'"{expected + 1}"'
        return {"seq": row.seq, "status": "decided", "version": expected + 1}

    return app


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--baseline", choices=["matched", "minimal"], default="matched")
    args = parser.parse_args()
    uvicorn.run(
        create_app(args.database_url, args.baseline),
        host=args.host,
        port=args.port,
        log_config=None,
    )


if __name__ == "__main__":
    main()
