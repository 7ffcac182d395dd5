"""Idempotency-Key overhead on `POST /api/v1/webhooks`, in process (FastAPI TestClient, one
thread), against the same route without a key, in the same run and database.

    .venv/bin/python bench/idempotency_bench.py                        # SQLite (temp file)
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/DB .venv/bin/python bench/idempotency_bench.py

Three kinds of request alternate in blocks of `--block`, `--rounds` times: no key (the
baseline), a fresh key each time (claim + savepoint + stored outcome), and the replay of a
key already used (no handler). Reported: the median requests/s of each kind over its blocks
and the ratio to the baseline. The database must be empty (a fresh SQLite file is made when
DATABASE_URL is unset).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from factories import make_principal_headers  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402

from service import migrations  # noqa: E402
from service.auth.models import Role  # noqa: E402
from service.main import create_app  # noqa: E402
from service.settings import load_settings  # noqa: E402

HOOK = {"url": "http://127.0.0.1:9/hooks", "events": ["cable.released"]}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--block", type=int, default=40)
    args = parser.parse_args()
    tmp = tempfile.mkdtemp()
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{tmp}/bench.db")
    settings = load_settings(
        webhook_allowed_hosts=["127.0.0.1"],
        webhook_worker_enabled=False,
        import_worker_enabled=False,
    )
    app = create_app(settings)
    migrations.upgrade(app.state.engine)
    rates: dict[str, list[float]] = {"no key": [], "fresh key": [], "replay": []}
    with TestClient(app) as client:
        admin = make_principal_headers(client, app.state.engine, Role.admin)
        used = "replayed-" + uuid.uuid4().hex
        assert (
            client.post(
                "/api/v1/webhooks", json=HOOK, headers={**admin, "Idempotency-Key": used}
            ).status_code
            == 201
        )
        for _ in range(args.rounds):
            for kind in rates:
                started = time.perf_counter()
                for _ in range(args.block):
                    headers = dict(admin)
                    if kind == "fresh key":
                        headers["Idempotency-Key"] = uuid.uuid4().hex
                    elif kind == "replay":
                        headers["Idempotency-Key"] = used
                    status = client.post("/api/v1/webhooks", json=HOOK, headers=headers).status_code
                    assert status == 201, status
                rates[kind].append(args.block / (time.perf_counter() - started))
    base = statistics.median(rates["no key"])
    print(f"database: {settings.database_url.split('://')[0]}; load average: {os.getloadavg()}")
    for kind, values in rates.items():
        rate = statistics.median(values)
        print(f"{kind:10} {rate:8.1f} req/s  ratio {rate / base:.2f}")


if __name__ == "__main__":
    main()
