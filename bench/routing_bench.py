"""What routing adds to ingest: the whole corpus ingested with routing and without, in the
same process on the same machine, alternating runs on fresh databases.

    .venv/bin/python bench/routing_bench.py                      # SQLite files in a temp dir
    .venv/bin/python bench/routing_bench.py --rounds 5
    .venv/bin/python bench/routing_bench.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres

Each run ingests every file of ../shared/corpus/cables the way `declass ingest` does
(`service.cables.batch_ingest.ingest_files`: 200 files per unit of work, one router loaded
per batch with the loads carried from cable to cable, the CLI's system principal) into a
freshly migrated database holding the default rules and three reviewers per queue
(TOP SECRET, SECRET, CONFIDENTIAL). "Without routing" replaces the batch's router (its
two reads and its placing) by one that places nothing (the portions are inserted
`pending` in no queue, and the `cable.ingested` events list no routing); "with routing"
is the service as shipped. The report gives the median of each and the ratio, and for
the routed runs how many portions were assigned and how many audit events were written.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, func, select, text
from sqlmodel import col

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from service import migrations  # noqa: E402
from service.audit.models import AuditEvent  # noqa: E402
from service.auth import service as auth  # noqa: E402
from service.auth.models import Role  # noqa: E402
from service.auth.principal import system_principal  # noqa: E402
from service.cables import batch_ingest  # noqa: E402
from service.cables.models import Portion  # noqa: E402
from service.db import make_engine, unit_of_work  # noqa: E402
from service.markings import Level  # noqa: E402
from service.routing.matcher import CableFacts  # noqa: E402
from service.routing.placement import Placement, PortionKey  # noqa: E402
from service.routing.rules import known_queues  # noqa: E402
from service.settings import load_settings  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpus" / "cables"
CLEARANCES = (Level.TOP_SECRET, Level.SECRET, Level.CONFIDENTIAL)


@contextmanager
def fresh_database(base_url: str | None) -> Iterator[str]:
    """A migrated, empty database URL; dropped afterwards (PostgreSQL) or a temp file."""
    if base_url is None:
        with tempfile.TemporaryDirectory() as tmp:
            yield f"sqlite:///{tmp}/bench.db"
        return
    name = f"declass_routing_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield base_url.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


class _NoRouter:
    """A batch's router that places nothing (and reads nothing)."""

    def place(self, facts: CableFacts, portions: Iterable[PortionKey]) -> list[Placement]:
        return []


def _no_routing(*_args: Any, **_kw: Any) -> Any:
    return _NoRouter()


def one_run(url: str, files: list[Path], *, routing: bool) -> dict[str, float]:
    settings = load_settings(database_url=url, environment="test", jwt_secret="b" * 44)
    engine = make_engine(settings)
    migrations.upgrade(engine)
    actor = system_principal("cli")
    with unit_of_work(engine) as session:
        for queue in sorted(known_queues(session)):
            for clearance in CLEARANCES:
                auth.create_user(
                    session,
                    actor=actor,
                    username=f"{queue}-{clearance.value.replace(' ', '-').lower()}",
                    password="bench-password-0123456789",  # noqa: S106
                    roles=[Role.reviewer],
                    clearance=clearance,
                    queues=[queue],
                )
    original: Callable[..., Any] = batch_ingest.load_router  # type: ignore[attr-defined]
    batch_ingest.load_router = original if routing else _no_routing  # type: ignore[attr-defined]
    gc.collect()  # neither kind of run pays for the garbage the previous one left
    try:
        started, cpu_started = time.perf_counter(), time.process_time()
        results = batch_ingest.ingest_files(engine, files, actor=actor)
        elapsed = time.perf_counter() - started
        cpu = time.process_time() - cpu_started
    finally:
        batch_ingest.load_router = original  # type: ignore[attr-defined]
    stored = sum(r.outcome is batch_ingest.Outcome.stored for r in results)
    if stored != len(files):
        raise SystemExit(f"{len(files) - stored} of {len(files)} files not stored")
    with unit_of_work(engine, write=False) as session:
        assigned = session.execute(
            select(func.count()).where(col(Portion.assignee).is_not(None))
        ).scalar_one()
        portions = session.execute(select(func.count()).select_from(Portion)).scalar_one()
        events = session.execute(select(func.count()).select_from(AuditEvent)).scalar_one()
    engine.dispose()
    return {
        "seconds": elapsed,
        "cpu": cpu,
        "portions": portions,
        "assigned": assigned,
        "events": events,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="a PostgreSQL server URL (default: SQLite)")
    parser.add_argument("--rounds", type=int, default=3, help="runs of each kind (alternating)")
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    args = parser.parse_args()
    files = sorted(args.corpus.glob("*.txt"))
    if not files:
        raise SystemExit(f"no cables in {args.corpus}")
    results: dict[bool, list[dict[str, float]]] = {True: [], False: []}
    with fresh_database(args.database_url) as url:
        one_run(url, files[:20], routing=True)  # warm imports and caches; not counted
    for _ in range(args.rounds):
        for routing in (False, True):
            with fresh_database(args.database_url) as url:
                results[routing].append(one_run(url, files, routing=routing))
    plain = statistics.median(r["seconds"] for r in results[False])
    routed = statistics.median(r["seconds"] for r in results[True])
    plain_cpu = statistics.median(r["cpu"] for r in results[False])
    routed_cpu = statistics.median(r["cpu"] for r in results[True])
    backend = "PostgreSQL" if args.database_url else "SQLite"
    last = results[True][-1]
    print(f"backend: {backend}; cables: {len(files)}; portions: {int(last['portions'])}")
    print(f"runs of each: {args.rounds} (alternating, fresh database each)")
    print(f"without routing: median {plain:.3f} s  ({plain / len(files) * 1000:.2f} ms/cable)")
    print(f"with routing:    median {routed:.3f} s  ({routed / len(files) * 1000:.2f} ms/cable)")
    print(f"routing adds: {(routed / plain - 1) * 100:+.1f}%  (ratio {routed / plain:.3f})")
    print(
        f"this process's CPU: {plain_cpu:.3f} s without, {routed_cpu:.3f} s with "
        f"({(routed_cpu / plain_cpu - 1) * 100:+.1f}%)"
    )
    print(f"assigned portions: {int(last['assigned'])}; audit events: {int(last['events'])}")
    print(f"audit events without routing: {int(results[False][-1]['events'])}")


if __name__ == "__main__":
    main()
