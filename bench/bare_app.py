"""The review API's baseline: a bare FastAPI app doing the same reads and writes as
`GET .../portions/{seq}` + `PUT .../portions/{seq}/decision` on the same tables, without
the service's logic (no auth, no audit, no validation, no state machine, no history).

    .venv/bin/python bench/bare_app.py --database-url sqlite:////tmp/x.db --port 8123

It is served exactly like `declass serve` serves the service (`uvicorn.run(app, host, port,
log_config=None)`, one worker, sync routes on the thread pool) with the service's own
engine setup (`service.db.make_engine`: pool size, SQLite WAL, `synchronous=FULL`,
`BEGIN IMMEDIATE` and the in-process writer lock), so the difference measured by
`review_bench.py` is the service's code, not the server or the database configuration.

- GET: one SELECT of the portion row (joined to its cable by reference id), ETag header.
- PUT: If-Match parsed; in one write transaction: SELECT the portion row, `UPDATE portion
  SET status, version = version + 1 WHERE id AND version` (412 when no row), INSERT one
  `decision` row; commit.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Header, Response
from fastapi.responses import JSONResponse
from sqlalchemy import text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from service.db import make_engine, open_session  # noqa: E402
from service.settings import load_settings  # noqa: E402

SELECT_PORTION = text(
    "SELECT p.id, p.seq, p.level, p.text, p.status, p.assignee, p.version "
    "FROM portion p JOIN cable c ON c.id = p.cable_id WHERE c.ref_id = :ref_id AND p.seq = :seq"
)
UPDATE_PORTION = text(
    "UPDATE portion SET status = 'decided', version = version + 1, updated_at = :now "
    "WHERE id = :id AND version = :version"
)
INSERT_DECISION = text(
    "INSERT INTO decision (portion_id, action, spans, codes, decided_by, decided_at, "
    "portion_version, text_sha256) VALUES (:portion_id, :action, '[]', '[]', :decided_by, "
    ":decided_at, :portion_version, :text_sha256)"
)


def create_app(database_url: str) -> FastAPI:
    settings = load_settings(database_url=database_url, environment="test", jwt_secret="b" * 44)
    engine = make_engine(settings)
    app = FastAPI()

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/api/v1/cables/{ref_id}/portions/{seq}", response_model=None)
    def read_portion(ref_id: str, seq: int, response: Response) -> Any:
        session = open_session(engine, write=False)
        try:
            row = session.execute(SELECT_PORTION, {"ref_id": ref_id, "seq": seq}).first()
            session.commit()
        finally:
            session.close()
        if row is None:
            return JSONResponse({"detail": "not found"}, status_code=404)
        response.headers["ETag"] = f'"{row.version}"'
        return {
            "seq": row.seq,
            "level": row.level,
            "text": row.text,
            "status": row.status,
            "assignee": row.assignee,
            "version": row.version,
        }

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
        session = open_session(engine, write=True)
        try:
            row = session.execute(SELECT_PORTION, {"ref_id": ref_id, "seq": seq}).first()
            if row is None:
                session.rollback()
                return JSONResponse({"detail": "not found"}, status_code=404)
            now = datetime.now(UTC)
            updated = session.execute(
                UPDATE_PORTION, {"id": row.id, "version": expected, "now": now}
            ).rowcount
            if updated != 1:
                session.rollback()
                return JSONResponse({"detail": "stale"}, status_code=412)
            session.execute(
                INSERT_DECISION,
                {
                    "portion_id": row.id,
                    "action": str(body.get("action", "release")),
                    "decided_by": row.assignee or "bare",
                    "decided_at": now,
                    "portion_version": expected,
                    "text_sha256": hashlib.sha256(row.text.encode()).hexdigest(),
                },
            )
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
    args = parser.parse_args()
    uvicorn.run(create_app(args.database_url), host=args.host, port=args.port, log_config=None)


if __name__ == "__main__":
    main()
