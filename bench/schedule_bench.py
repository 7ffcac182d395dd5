"""Schedule query latency at archive scale, on SQLite and PostgreSQL (issue 7 / issue 10).

    .venv/bin/python bench/schedule_bench.py                  # 250,000 cables, both databases
    .venv/bin/python bench/schedule_bench.py --count 20000 --only sqlite

What it does (a benchmark setup, not the import feature):

1. Parses `--distinct` (default 5,000) cables of bench/generate.py with `parse_cable`, in
   one process per core, into cable rows exactly as `store_parsed` builds them.
2. Makes `--count` rows: row `i` is template `i % distinct` under the reference id and
   creation date of generated cable `i` (`generate.cable_identity`), with `cable_date`,
   `sent_at` and `declassify_on` shifted by the difference between the two dates, so
   dates keep the generator's distribution and each DECL rule's offset. Status: every 20th
   row `released`, every 10th (+1) `in_review`, the rest `received`. Tags go to `cable_tag`;
   portions are not loaded (no schedule query reads them).
3. Loads them into a fresh, migrated SQLite file (`executemany`, one transaction) and a
   fresh PostgreSQL database (`COPY`), then runs `ANALYZE`.
4. Times the service's own functions: `list_due` for a 90-day window (first page, limit 50,
   a TOP SECRET supervisor) and `summarize(group_by=year)` with no filter, `--runs` times
   each (default 25) on one warm session, and prints the medians and the plans
   (`EXPLAIN QUERY PLAN` on SQLite, `EXPLAIN ANALYZE` on PostgreSQL).

The PostgreSQL database and (unless --keep) the SQLite file are dropped at the end.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, Select, create_engine, text
from sqlmodel import Session

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import generate

from service import migrations
from service.auth.principal import system_principal
from service.cables.models import Cable
from service.cables.service import sha256_hex
from service.cables.store import cable_values
from service.db import make_engine
from service.parsing import parse_cable
from service.schedule_api import service
from service.schedule_api import summary as summaries
from service.settings import load_settings

TODAY = date(2019, 9, 1)
COLUMNS = (
    "id",
    "ref_id",
    "subject",
    "origin",
    "sent_at",
    "cable_date",
    "classification",
    "caveats",
    "eo",
    "decl",
    "decl_kind",
    "declassify_on",
    "declassify_basis",
    "classified_by",
    "reasons",
    "tags",
    "references",
    "signer",
    "warnings",
    "status",
    "version",
    "raw_text",
    "raw_sha256",
    "created_at",
    "updated_at",
)
JSON_COLUMNS = {"caveats", "decl", "reasons", "tags", "references", "warnings"}
Template = dict[str, Any]


def _template(index_seed: tuple[int, int]) -> Template:
    index, seed = index_seed
    pools = generate._POOLS.get(seed) or generate._POOLS.setdefault(seed, generate.Pools(seed))
    cable = generate.make_cable(index, seed, pools)
    text = cable.text
    row = Cable.model_validate(cable_values(parse_cable(text), text, sha256_hex(text))).model_dump()
    return {column: row[column] for column in COLUMNS if column != "id"}


def templates(distinct: int, seed: int) -> list[Template]:
    """`distinct` generated cables, parsed, as cable rows."""
    with multiprocessing.Pool(os.cpu_count() or 1) as pool:
        return pool.map(_template, [(i, seed) for i in range(distinct)], chunksize=100)


def rows(
    count: int, seed: int, parsed: list[Template]
) -> Iterator[tuple[dict[str, Any], list[str]]]:
    """The `count` cable rows (with ids 1..count) and their tags (see the module docstring)."""
    now = datetime.now(UTC)
    for index in range(count):
        template = parsed[index % len(parsed)]
        ref_id, created = generate.cable_identity(index, seed)
        shift = timedelta(days=(created.date() - template["cable_date"]).days)
        row = dict(template)
        row.update(id=index + 1, ref_id=ref_id, created_at=now, updated_at=now)
        row["cable_date"] = template["cable_date"] + shift
        if template["sent_at"] is not None:
            row["sent_at"] = template["sent_at"] + shift
        if template["declassify_on"] is not None:
            row["declassify_on"] = template["declassify_on"] + shift
        row["status"] = (
            "released" if index % 20 == 0 else "in_review" if index % 10 == 1 else "received"
        )
        row["raw_sha256"] = hashlib.sha256(
            f"{ref_id}:{template['raw_sha256']}".encode()
        ).hexdigest()
        yield row, [tag[:64] for tag in dict.fromkeys(row["tags"])]


def _plain(column: str, value: Any, *, sqlite: bool) -> Any:
    if column in JSON_COLUMNS:
        return json.dumps(value)
    if sqlite and isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")
    if sqlite and isinstance(value, date):
        return value.isoformat()
    return value


def load_sqlite(path: Path, count: int, seed: int, parsed: list[Template]) -> float:
    began = time.perf_counter()
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA synchronous=OFF")
    connection.execute("BEGIN")
    quoted = ", ".join(f'"{c}"' for c in COLUMNS)
    insert_cable = f"INSERT INTO cable ({quoted}) VALUES ({', '.join('?' * len(COLUMNS))})"
    batch: list[tuple[Any, ...]] = []
    tags: list[tuple[int, str]] = []
    for row, row_tags in rows(count, seed, parsed):
        batch.append(tuple(_plain(c, row[c], sqlite=True) for c in COLUMNS))
        tags.extend((row["id"], tag) for tag in row_tags)
        if len(batch) >= 5000:
            connection.executemany(insert_cable, batch)
            connection.executemany("INSERT INTO cable_tag (cable_id, tag) VALUES (?, ?)", tags)
            batch, tags = [], []
    connection.executemany(insert_cable, batch)
    connection.executemany("INSERT INTO cable_tag (cable_id, tag) VALUES (?, ?)", tags)
    connection.execute("COMMIT")
    connection.execute("ANALYZE")
    connection.close()
    return time.perf_counter() - began


def load_postgresql(engine: Engine, count: int, seed: int, parsed: list[Template]) -> float:
    began = time.perf_counter()
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        quoted = ", ".join(f'"{c}"' for c in COLUMNS)
        tags: list[tuple[int, str]] = []
        with cursor.copy(f"COPY cable ({quoted}) FROM STDIN") as copy:  # type: ignore[attr-defined]
            for row, row_tags in rows(count, seed, parsed):
                copy.write_row([_plain(c, row[c], sqlite=False) for c in COLUMNS])
                tags.extend((row["id"], tag) for tag in row_tags)
        with cursor.copy("COPY cable_tag (cable_id, tag) FROM STDIN") as copy:  # type: ignore[attr-defined]
            for tag_row in tags:
                copy.write_row(tag_row)
        cursor.execute("SELECT setval('cable_id_seq', %s)", (count,))
        raw.commit()
        driver = raw.driver_connection
        assert driver is not None
        driver.autocommit = True
        for table in ("cable", "cable_tag"):
            driver.execute(f"VACUUM ANALYZE {table}")
    finally:
        raw.close()
    return time.perf_counter() - began


def _backend_cpu(session: Session) -> Callable[[], float]:
    """CPU seconds used so far by this session's PostgreSQL backend (from /proc, when the
    server runs on this machine), else a function returning 0."""
    if session.get_bind().dialect.name != "postgresql":
        return lambda: 0.0
    pid = session.execute(text("SELECT pg_backend_pid()")).scalar_one()
    stat = Path(f"/proc/{pid}/stat")
    ticks = os.sysconf("SC_CLK_TCK")

    def used() -> float:
        if not stat.exists():
            return 0.0
        fields = stat.read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / ticks

    return used


def _timed(fn: Callable[[], object], runs: int, server_cpu: Callable[[], float]) -> str:
    """Median, min and p90 wall-clock ms over `runs`, and the mean CPU ms per run (this
    process plus the PostgreSQL backend): the machine is shared, so wall-clock includes
    waiting for a core."""
    fn()  # warm the cache
    times = []
    cpu_began, server_began = time.process_time(), server_cpu()
    for _ in range(runs):
        began = time.perf_counter()
        fn()
        times.append((time.perf_counter() - began) * 1000)
    cpu = (time.process_time() - cpu_began + server_cpu() - server_began) * 1000 / runs
    times.sort()
    median, p90 = statistics.median(times), times[int(len(times) * 0.9)]
    return f"median {median:.1f} ms (min {times[0]:.1f}, p90 {p90:.1f}), CPU {cpu:.1f} ms/run"


def explain(session: Session, statement: Select[Any]) -> str:
    connection = session.connection()
    compiled = statement.compile(
        dialect=connection.dialect, compile_kwargs={"render_postcompile": True}
    )
    sql = str(compiled)
    if connection.dialect.name == "sqlite":
        params: Any = tuple(compiled.params[name] for name in compiled.positiontup or ())
        params = tuple(p.isoformat() if isinstance(p, date) else p for p in params)
        result = connection.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, params)
        return "\n".join(f"{'  ' * (row[1] != 0)}{row[3]}" for row in result)
    result = connection.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + sql, compiled.params)
    return "\n".join(row[0] for row in result)


def measure(engine: Engine, label: str, runs: int) -> None:
    principal = system_principal("bench")
    filters = service.ScheduleFilters()
    with Session(engine) as session:
        count = session.execute(text("SELECT count(*) FROM cable")).scalar_one()

        def due() -> object:
            return service.list_due(
                session, principal=principal, filters=filters, today=TODAY, limit=50
            )

        def summary() -> object:
            return summaries.summarize(session, group_by=service.GroupBy.year, filters=filters)

        items, _ = service.list_due(
            session, principal=principal, filters=filters, today=TODAY, limit=50
        )
        in_window = session.execute(
            text("SELECT count(*) FROM cable WHERE declassify_on BETWEEN :a AND :b"),
            {"a": TODAY, "b": TODAY + timedelta(days=90)},
        ).scalar_one()
        print(f"\n== {label}: {count:,} cables, {in_window:,} in the window {TODAY} + 90 days")
        server_cpu = _backend_cpu(session)
        print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; {runs} runs each")
        for name, fn in (("due (90 days, first page of 50)", due), ("summary by year", summary)):
            print(f"{name}: {_timed(fn, runs, server_cpu)}")
        dialect = engine.dialect.name
        due_sql = service.page_statement(
            service.due_statement(principal=principal, filters=filters, today=TODAY),
            limit=50,
            cursor=None,
        )
        year_sql = summaries.summary_statement(
            dialect, group_by=service.GroupBy.year, filters=filters
        )
        print(f"-- plan: due\n{explain(session, due_sql)}")
        print(f"-- plan: summary by year\n{explain(session, year_sql)}")
        print(f"(first due item: {items[0].ref_id} on {items[0].declassify_on})" if items else "")


def main() -> None:
    parser = argparse.ArgumentParser(description="schedule query latency at scale")
    parser.add_argument("--count", type=int, default=250_000)
    parser.add_argument("--distinct", type=int, default=5_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--runs", type=int, default=25)
    parser.add_argument("--only", choices=("sqlite", "postgresql"))
    parser.add_argument(
        "--pg-admin",
        default=os.environ.get(
            "DECLASS_BENCH_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
        ),
    )
    parser.add_argument("--keep", action="store_true", help="keep the SQLite file and PG db")
    parser.add_argument("--reuse-sqlite", help="measure this kept SQLite file, load nothing")
    parser.add_argument("--reuse-pg", help="measure this kept PostgreSQL database, load nothing")
    args = parser.parse_args()
    if args.reuse_sqlite or args.reuse_pg:
        reuse(args)
        return
    began = time.perf_counter()
    parsed = templates(args.distinct, args.seed)
    print(
        f"parsed {len(parsed):,} distinct generated cables in {time.perf_counter() - began:.1f} s"
    )
    if args.only in (None, "sqlite"):
        folder = Path(tempfile.mkdtemp(prefix="declass-bench-"))
        path = folder / "bench.db"
        engine = make_engine(load_settings(database_url=f"sqlite:///{path}", environment="test"))
        migrations.upgrade(engine)
        engine.dispose()
        seconds = load_sqlite(path, args.count, args.seed, parsed)
        print(f"SQLite: loaded {args.count:,} rows in {seconds:.1f} s ({path})")
        engine = make_engine(load_settings(database_url=f"sqlite:///{path}", environment="test"))
        measure(engine, "SQLite", args.runs)
        engine.dispose()
        if not args.keep:
            for leftover in folder.iterdir():
                leftover.unlink()
            folder.rmdir()
    if args.only in (None, "postgresql"):
        name = f"declass_bench_{os.getpid()}"
        admin = create_engine(
            args.pg_admin.replace("postgresql://", "postgresql+psycopg://", 1),
            isolation_level="AUTOCOMMIT",
        )
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = args.pg_admin.rsplit("/", 1)[0] + "/" + name
        try:
            engine = make_engine(load_settings(database_url=url, environment="test"))
            migrations.upgrade(engine)
            seconds = load_postgresql(engine, args.count, args.seed, parsed)
            print(f"PostgreSQL: loaded {args.count:,} rows in {seconds:.1f} s ({name})")
            measure(engine, "PostgreSQL", args.runs)
            engine.dispose()
        finally:
            if not args.keep:
                with admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


def reuse(args: argparse.Namespace) -> None:
    """Measure databases kept by an earlier `--keep` run (after a migration, say)."""
    urls = []
    if args.reuse_sqlite:
        urls.append(("SQLite", f"sqlite:///{args.reuse_sqlite}"))
    if args.reuse_pg:
        urls.append(("PostgreSQL", args.pg_admin.rsplit("/", 1)[0] + "/" + args.reuse_pg))
    for label, url in urls:
        engine = make_engine(load_settings(database_url=url, environment="test"))
        migrations.upgrade(engine)
        measure(engine, label, args.runs)
        engine.dispose()


if __name__ == "__main__":
    main()
