"""Import benchmark: `declass import` of generated cables on SQLite and PostgreSQL, against a
baseline that stores the same parsed rows with plain executemany (SQLite) / COPY (PostgreSQL).

Usage: ``.venv/bin/python bench/import_bench.py -n 250000 [--db sqlite] [--db postgresql]
[--parse-workers 1] [--profile]``

For each database, in the same run and on the same generated CSV (bench/generate.py):

1. ``declass import FILE`` in a child process on a fresh, migrated database: wall time, the
   child's CPU time and peak RSS (``os.wait4`` rusage, parse workers included);
2. the baseline in a child process on another fresh database: read the same CSV with the
   same reader, parse every row with the same parser, and insert the cable, portion and tag
   rows ``store_parsed`` would write, 500 cables per transaction, with executemany / COPY;
   no audit, no routing, no job bookkeeping. Its parse and insert times are reported apart.
3. with ``--profile``: the import in-process under cProfile on a slice, to attribute time to
   parsing, storing, auditing and routing.

Both wall-clock and CPU figures are printed: on a shared, busy machine the CPU figures
say what the code costs. PostgreSQL: DECLASS_BENCH_PG (default the local server).
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import json
import os
import pstats
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
BIN = Path(sys.executable).parent
PG_ADMIN = os.environ.get("DECLASS_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
JWT = "bench-secret-0123456789abcdef0123456789abcdef"
BATCH = 500


def fresh_database(kind: str, work: Path, name: str) -> str:
    """A new, migrated database: a SQLite file or a PostgreSQL database named `name`."""
    if kind == "sqlite":
        path = work / f"{name}.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        url = f"sqlite:///{path}"
    else:
        import psycopg

        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
        url = PG_ADMIN.rsplit("/", 1)[0] + "/" + name
    env = {**os.environ, "DATABASE_URL": url, "DECLASS_JWT_SECRET": JWT}
    subprocess.run(
        [str(BIN / "declass"), "db", "upgrade"], env=env, check=True, capture_output=True
    )
    return url


def drop_database(kind: str, work: Path, name: str) -> None:
    """Remove a database `fresh_database` made (the figures are taken already)."""
    if kind == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            Path(f"{work / name}.db{suffix}").unlink(missing_ok=True)
        return
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run_child(argv: list[str], env: dict[str, str]) -> dict[str, Any]:
    """Run a child; wall time, CPU time and peak RSS (MB) from its rusage; its stdout."""
    began = time.perf_counter()
    child = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert child.stdout is not None
    out = child.stdout.read()
    _pid, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - began
    if status != 0:
        raise SystemExit(f"{argv[:3]} failed with status {status}")
    return {
        "wall_s": round(wall, 2),
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 2),
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
        "stdout": out.decode(errors="replace"),
    }


def job_counts(url: str) -> dict[str, int]:
    from sqlalchemy import create_engine, text

    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.connect() as conn:
        row = conn.execute(
            text("SELECT rows_done, imported, duplicates, rejected FROM import_job")
        ).one()
        cables = conn.execute(text("SELECT count(*) FROM cable")).scalar_one()
        events = conn.execute(text("SELECT count(*) FROM audit_event")).scalar_one()
    engine.dispose()
    return {
        "rows": row[0],
        "imported": row[1],
        "duplicates": row[2],
        "rejected": row[3],
        "cables": cables,
        "audit_events": events,
    }


# --- the baseline (runs in its own process: `--baseline URL FILE`) ---------------------


def _rows_of(file: Path) -> Iterator[Any]:
    from service.integrations.csv_source import detect_format, read_rows
    from service.integrations.import_runner import prepare

    with file.open("rb") as stream:
        fmt = detect_format(stream.read(4096))
        for row in read_rows(stream, fmt=fmt):
            yield prepare(row)


def _records(prepared: list[Any], first_id: int) -> tuple[list[dict[str, Any]], ...]:
    from service.cables.store import cable_values

    cables, portions, tags = [], [], []
    for offset, row in enumerate(prepared):
        values = cable_values(row.parsed, row.text, row.sha)
        values["id"] = cable_id = first_id + offset
        cables.append(values)
        tags += [{"cable_id": cable_id, "tag": tag[:64]} for tag in values["tags"]]
        portions += [
            {
                "cable_id": cable_id,
                "seq": p.seq,
                "number": p.number,
                "marking": p.marking,
                "level": p.level.value,
                "text": p.text,
                "status": "pending",
                "version": 1,
                "created_at": values["created_at"],
                "updated_at": values["created_at"],
            }
            for p in row.parsed.portions
        ]
    return cables, portions, tags


def _insert_sqlite(url: str, batches: Iterator[tuple[list[dict[str, Any]], ...]]) -> None:
    from sqlalchemy import create_engine, insert

    from service.cables.models import Cable, CableTag, Portion

    engine = create_engine(url)
    with engine.connect() as conn:
        for cables, portions, tags in batches:
            with conn.begin():
                conn.execute(insert(Cable.__table__), cables)  # type: ignore[arg-type]
                conn.execute(insert(Portion.__table__), portions)  # type: ignore[arg-type]
                if tags:
                    conn.execute(insert(CableTag.__table__), tags)  # type: ignore[arg-type]
    engine.dispose()


def _copy_rows(cursor: Any, table: str, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    columns = list(rows[0])
    quoted = ", ".join(f'"{c}"' for c in columns)
    with cursor.copy(f"COPY {table} ({quoted}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(
                [json.dumps(v) if isinstance(v, list | dict) else v for v in row.values()]
            )


def _insert_postgresql(url: str, batches: Iterator[tuple[list[dict[str, Any]], ...]]) -> None:
    import psycopg

    with psycopg.connect(url) as conn:
        for cables, portions, tags in batches:
            with conn.transaction(), conn.cursor() as cursor:
                _copy_rows(cursor, "cable", cables)
                _copy_rows(cursor, "portion", portions)
                _copy_rows(cursor, "cable_tag", tags)


def baseline(url: str, file: Path) -> None:
    parse_s = build_s = 0.0
    first_id = 1

    def batches() -> Iterator[tuple[list[dict[str, Any]], ...]]:
        nonlocal parse_s, build_s, first_id
        rows = _rows_of(file)
        while True:
            began = time.perf_counter()
            prepared = [row for _, row in zip(range(BATCH), rows, strict=False) if row.parsed]
            parse_s += time.perf_counter() - began
            if not prepared:
                return
            began = time.perf_counter()
            records = _records(prepared, first_id)
            build_s += time.perf_counter() - began
            first_id += len(prepared)
            yield records

    began = time.perf_counter()
    if url.startswith("sqlite"):
        _insert_sqlite(url, batches())
    else:
        _insert_postgresql(url, batches())
    total = time.perf_counter() - began
    print(
        json.dumps(
            {
                "cables": first_id - 1,
                "read_parse_s": round(parse_s, 2),
                "build_rows_s": round(build_s, 2),
                "insert_s": round(total - parse_s - build_s, 2),
            }
        )
    )


# --- the import with routing stubbed out (measurement only: `--no-routing URL FILE`) ----


def import_without_routing(url: str, file: Path) -> None:
    """`declass import` with `Router.place` replaced by a function that places nothing, to
    measure what routing costs. The product never skips routing; only this measurement does."""
    os.environ.update({"DATABASE_URL": url, "DECLASS_JWT_SECRET": JWT})
    from service.cli import app
    from service.routing.placement import Router

    Router.place = lambda *_a, **_k: []  # type: ignore[method-assign]
    with contextlib.suppress(SystemExit):
        app(["import", str(file)], standalone_mode=False)
    print("{}")


# --- the profile (in-process, on a slice) ----------------------------------------------


def profile(url: str, file: Path, out: Path) -> dict[str, float]:
    os.environ.update({"DATABASE_URL": url, "DECLASS_JWT_SECRET": JWT})
    from service.cli import app
    from service.settings import get_settings

    get_settings.cache_clear()

    profiler = cProfile.Profile()
    profiler.enable()
    with contextlib.suppress(SystemExit):
        app(["import", str(file)], standalone_mode=False)
    profiler.disable()
    profiler.dump_stats(str(out))
    stats = pstats.Stats(str(out))
    parts = {
        "parse": ("import_runner.py", "prepare"),
        "insert_cables": ("store.py", "insert_cables"),
        "audit_record": ("service.py", "record"),
        "routing": ("placement.py", "place"),
        "load_router": ("placement.py", "load_router"),
        "store_batch": ("imports.py", "store_batch"),
    }
    found: dict[str, float] = {}
    for (path, _line, name), entry in stats.stats.items():  # type: ignore[attr-defined]
        for part, (suffix, function) in parts.items():
            if name == function and path.endswith(suffix):
                found[part] = found.get(part, 0.0) + entry[3]  # cumulative time
    return {k: round(v, 2) for k, v in found.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--count", type=int, default=250_000)
    parser.add_argument("--db", action="append", choices=("sqlite", "postgresql"))
    parser.add_argument("--parse-workers", type=int, default=0)
    parser.add_argument("--batch-size", type=int, default=BATCH)
    parser.add_argument("--work", type=Path, default=ROOT / "var" / "bench")
    parser.add_argument("--profile", type=int, default=0, help="profile a slice of N cables")
    parser.add_argument(
        "--skip-stubbed", action="store_true", help="no run with routing stubbed out"
    )
    parser.add_argument("--baseline", nargs=2, metavar=("URL", "FILE"), help=argparse.SUPPRESS)
    parser.add_argument("--no-routing", nargs=2, metavar=("URL", "FILE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.baseline:
        baseline(args.baseline[0], Path(args.baseline[1]))
        return
    if args.no_routing:
        import_without_routing(args.no_routing[0], Path(args.no_routing[1]))
        return
    args.work.mkdir(parents=True, exist_ok=True)
    file = args.work / f"cables-{args.count}.csv"
    if not file.exists():
        subprocess.run(
            [
                sys.executable,
                str(ROOT / "bench" / "generate.py"),
                "-n",
                str(args.count),
                "--format",
                "csv",
                "--out",
                str(file),
            ],
            check=True,
        )
    results: dict[str, Any] = {"count": args.count, "file_mb": round(file.stat().st_size / 1e6)}
    results["load_before"] = os.getloadavg()[0]
    for kind in args.db or ["sqlite", "postgresql"]:
        url = fresh_database(kind, args.work, f"declass_bench_import_{os.getpid()}")
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "DECLASS_JWT_SECRET": JWT,
            "DECLASS_IMPORT_BATCH_SIZE": str(args.batch_size),
        }
        argv = [
            str(BIN / "declass"),
            "import",
            str(file),
            "--parse-workers",
            str(args.parse_workers),
        ]
        imported = run_child(argv, env)
        imported.pop("stdout")
        imported.update(job_counts(url))
        imported["cables_per_s"] = round(imported["cables"] / imported["wall_s"], 1)
        imported["cables_per_cpu_s"] = round(imported["cables"] / max(imported["cpu_s"], 1e-9), 1)
        base_url = fresh_database(kind, args.work, f"declass_bench_baseline_{os.getpid()}")
        base = run_child([sys.executable, __file__, "--baseline", base_url, str(file)], env)
        base.update(json.loads(base.pop("stdout")))
        base["cables_per_s"] = round(base["cables"] / base["wall_s"], 1)
        entry = {
            "import": imported,
            "baseline": base,
            "ratio_wall": round(imported["wall_s"] / base["wall_s"], 2),
            "ratio_cpu": round(imported["cpu_s"] / max(base["cpu_s"], 1e-9), 2),
        }
        if not args.skip_stubbed:
            bare_url = fresh_database(kind, args.work, f"declass_bench_no_routing_{os.getpid()}")
            bare = run_child([sys.executable, __file__, "--no-routing", bare_url, str(file)], env)
            bare.pop("stdout")
            bare.update(job_counts(bare_url))
            entry["import_without_routing"] = bare
            entry["ratio_without_routing_wall"] = round(bare["wall_s"] / base["wall_s"], 2)
            entry["ratio_without_routing_cpu"] = round(bare["cpu_s"] / max(base["cpu_s"], 1e-9), 2)
        if args.profile:
            slice_file = args.work / f"cables-{args.profile}.csv"
            if not slice_file.exists():
                subprocess.run(
                    [
                        sys.executable,
                        str(ROOT / "bench" / "generate.py"),
                        "-n",
                        str(args.profile),
                        "--format",
                        "csv",
                        "--out",
                        str(slice_file),
                    ],
                    check=True,
                )
            prof_url = fresh_database(kind, args.work, f"declass_bench_profile_{os.getpid()}")
            entry["profile_cumulative_s"] = profile(
                prof_url, slice_file, args.work / f"{kind}.prof"
            )
        results[kind] = entry
        print(json.dumps({kind: entry}, indent=2), file=sys.stderr)
        for part in ("import", "baseline", "no_routing", "profile"):
            drop_database(kind, args.work, f"declass_bench_{part}_{os.getpid()}")
    results["load_after"] = os.getloadavg()[0]
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
