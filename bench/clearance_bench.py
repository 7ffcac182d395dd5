"""Clearance filter: cable detail latency (`GET /api/v1/cables/{ref_id}`) for a
CONFIDENTIAL reviewer against an admin (TOP SECRET), on the same cables, interleaved.

    .venv/bin/python bench/clearance_bench.py                        # SQLite
    .venv/bin/python bench/clearance_bench.py --database postgresql --requests 600

A fresh database (as in `review_bench.py`), the SECRET and CONFIDENTIAL cables of
../shared/corpus/cables ingested with `ingest_cable` (generated ones from
`bench/generate.py` when the corpus is absent), two users, and the real service
(`declass serve`, one worker, a free 127.0.0.1 port). One keep-alive `httpx.Client` per
user, each logged in once. Requests alternate admin / CONFIDENTIAL on the same cable (the
first of each pair alternates too), over the cables in a shuffled cycle; the report gives
each user's median and p99 and the ratio CONFIDENTIAL / admin, per round and the median
over rounds.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from generate import generate
from review_bench import (
    fresh_database,
    ingest,
    login,
    migrate_and_users,
    service_server,
)

from service.auth.models import Role
from service.markings import Level

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus" / "cables"
USERS = {
    "admin": ([Role.admin, Role.reviewer], Level.TOP_SECRET),
    "confidential": ([Role.reviewer], Level.CONFIDENTIAL),
}


def corpus_texts(limit: int) -> list[str]:
    """SECRET and CONFIDENTIAL cables (any caveats), from the corpus or generated."""
    texts = []
    if CORPUS.is_dir():
        texts = [p.read_text(encoding="utf-8") for p in sorted(CORPUS.glob("*.txt"))]
    if not texts:
        texts = [c.text for c in generate(limit * 2, seed=3)]
    keep = []
    for raw in texts:
        lines = raw.splitlines()
        # 5 metadata lines (ref id, subject, date, classification, origin).
        level = lines[3].upper() if len(lines) > 3 else ""
        if level.startswith(("SECRET", "CONFIDENTIAL")):
            keep.append(raw)
    return keep[:limit]


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def one_round(
    base: str, tokens: dict[str, str], refs: list[str], requests: int, rng: random.Random
) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {name: [] for name in tokens}
    statuses: dict[str, dict[int, int]] = {name: {} for name in tokens}
    clients = {
        name: httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"})
        for name, token in tokens.items()
    }
    try:
        order = list(refs)
        for i in range(requests):
            if i % len(order) == 0:
                rng.shuffle(order)
            ref = order[i % len(order)]
            names = list(tokens) if i % 2 == 0 else list(reversed(tokens))
            for name in names:
                started = time.perf_counter()
                response = clients[name].get(f"/api/v1/cables/{ref}")
                times[name].append((time.perf_counter() - started) * 1000)
                statuses[name][response.status_code] = (
                    statuses[name].get(response.status_code, 0) + 1
                )
    finally:
        for client in clients.values():
            client.close()
    print(f"  statuses: {statuses}")
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--cables", type=int, default=200)
    parser.add_argument("--requests", type=int, default=400, help="per user per round")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print(f"load average at start: {os.getloadavg()[0]:.1f} ({os.cpu_count()} cores)")
    texts = corpus_texts(args.cables)
    rng = random.Random(1)
    with fresh_database(args.database) as url, tempfile.TemporaryDirectory() as workdir:
        migrate_and_users(url, USERS)
        ingest(url, texts)
        from sqlalchemy import create_engine, text

        engine = create_engine(url)
        with engine.connect() as conn:
            rows = conn.execute(
                text("SELECT ref_id, classification FROM cable ORDER BY ref_id")
            ).all()
        engine.dispose()
        refs = [r for r, level in rows if level in ("SECRET", "CONFIDENTIAL")]
        levels = {level: sum(1 for _, lv in rows if lv == level) for _, level in rows}
        print(f"{args.database}: {len(refs)} cables measured ({levels})")
        with service_server(url, workdir) as base:
            tokens = {name: login(base, name) for name in USERS}
            one_round(base, tokens, refs, min(100, args.requests), rng)  # warm-up
            per_round = []
            for round_no in range(args.rounds):
                times = one_round(base, tokens, refs, args.requests, rng)
                admin, conf = times["admin"], times["confidential"]
                ratio = statistics.median(conf) / statistics.median(admin)
                per_round.append((admin, conf, ratio))
                print(
                    f"  round {round_no + 1}: admin median {statistics.median(admin):.2f} ms "
                    f"p99 {pct(admin, 0.99):.2f}; CONFIDENTIAL median "
                    f"{statistics.median(conf):.2f} ms p99 {pct(conf, 0.99):.2f}; "
                    f"ratio {ratio:.2f}"
                )
    admin_med = statistics.median(statistics.median(a) for a, _, _ in per_round)
    conf_med = statistics.median(statistics.median(c) for _, c, _ in per_round)
    admin_p99 = statistics.median(pct(a, 0.99) for a, _, _ in per_round)
    conf_p99 = statistics.median(pct(c, 0.99) for _, c, _ in per_round)
    ratio = statistics.median(r for _, _, r in per_round)
    print(f"\n{args.database}: {args.requests} requests per user per round, {args.rounds} rounds")
    print(f"admin (TOP SECRET):  median {admin_med:.2f} ms, p99 {admin_p99:.2f} ms")
    print(f"CONFIDENTIAL user:   median {conf_med:.2f} ms, p99 {conf_p99:.2f} ms")
    print(
        f"ratio CONFIDENTIAL / admin (median of per-round ratios): {ratio:.2f} "
        f"(target <= 1.2: {'met' if ratio <= 1.2 else 'MISSED'})"
    )
    print(f"load average at end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
