"""Review API throughput: 16 concurrent clients each doing GET portion + PUT decision
(`{"action": "release"}`, `If-Match`) on distinct portions, against the real service and
against a bare FastAPI app (`bench/bare_app.py`) on the same server setup and database.

    .venv/bin/python bench/review_bench.py                          # SQLite
    .venv/bin/python bench/review_bench.py --database postgresql    # PostgreSQL
    .venv/bin/python bench/review_bench.py --database both --rounds 3

Per database: a fresh SQLite file (temp dir) or a fresh PostgreSQL database (created and
dropped here), migrated; `--clients` reviewers (TOP SECRET, every queue) and generated
cables (`bench/generate.py`, seed 7) ingested with `ingest_cable` until every reviewer has
enough assigned portions, each claimed with `review.service.claim` as its assignee (so it
is `in_review`). Then two servers on free 127.0.0.1 ports, one worker each: `declass
serve` (the service as shipped) and `bench/bare_app.py` (same `uvicorn.run` call, same
engine setup; `--baseline matched`, the default, runs the service's statements as plain
SQL, `--baseline minimal` only the portion read, update and decision insert; both servers
get `--worker-threads` when given). Each client logs in once (`POST /api/v1/auth/token`)
and keeps one keep-alive `httpx.Client`; the bare app ignores the token. A round gives each client
`--per-client` portions of its own reviewer (never reused) for each server; servers
alternate within a round, and the report gives the medians over rounds of decisions/s,
of the PUT's p50/p99 and of the server process's CPU time per decision (GET + PUT, from
/proc), and the ratio service / baseline.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from generate import generate  # noqa: E402

from service import migrations  # noqa: E402
from service.auth import service as auth  # noqa: E402
from service.auth.models import Role  # noqa: E402
from service.auth.principal import Principal, PrincipalKind, system_principal  # noqa: E402
from service.cables import service as cables  # noqa: E402
from service.db import make_engine, unit_of_work  # noqa: E402
from service.errors import Conflict  # noqa: E402
from service.markings import Level  # noqa: E402
from service.review import service as review  # noqa: E402
from service.routing.rules import known_queues  # noqa: E402
from service.settings import load_settings  # noqa: E402

PASSWORD = "bench-password-0123456789"
JWT_SECRET = "b" * 44
PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
PYTHON = sys.executable
DECLASS = str(Path(PYTHON).with_name("declass"))


@contextmanager
def fresh_database(kind: str, pg_admin: str = PG_ADMIN) -> Iterator[str]:
    """A new, empty database URL: a temp SQLite file, or a PostgreSQL database dropped after."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix="declass-bench-") as tmp:
            yield f"sqlite:///{tmp}/bench.db"
        return
    name = f"declass_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(pg_admin, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield pg_admin.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


SERVER_PIDS: dict[str, int] = {}


def server_cpu_seconds(base: str) -> float:
    """User + system CPU time so far of the server process answering at `base` (Linux)."""
    fields = Path(f"/proc/{SERVER_PIDS[base]}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def server(argv: list[str], port: int, env: dict[str, str], workdir: str) -> Iterator[str]:
    """Run `argv` until /healthz answers; yield the base URL; stop it afterwards."""
    log = open(Path(workdir) / f"server-{port}.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen(
        argv, env={**os.environ, **env}, cwd=workdir, stdout=log, stderr=subprocess.STDOUT
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                log.flush()
                tail = (Path(workdir) / f"server-{port}.log").read_text()[-3000:]
                raise SystemExit(f"server {argv} exited:\n{tail}")
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit(f"server {argv} did not start")
            time.sleep(0.2)
        SERVER_PIDS[base] = proc.pid
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@contextmanager
def service_server(url: str, workdir: str, threads: dict[str, str]) -> Iterator[str]:
    port = free_port()
    env = {
        **threads,
        "DECLASS_DATABASE_URL": url,
        "DECLASS_JWT_SECRET": JWT_SECRET,
        "DECLASS_ENVIRONMENT": "production",
        "DECLASS_LOG_FORMAT": "json",
        "DECLASS_IMPORT_SPOOL_DIR": str(Path(workdir) / "imports"),
    }
    argv = [DECLASS, "serve", "--host", "127.0.0.1", "--port", str(port), "--no-migrate"]
    with server(argv, port, env, workdir) as base:
        yield base


@contextmanager
def bare_server(url: str, workdir: str, threads: dict[str, str], baseline: str) -> Iterator[str]:
    port = free_port()
    argv = [PYTHON, str(ROOT / "bench" / "bare_app.py"), "--database-url", url]
    argv += ["--baseline", baseline]
    with server([*argv, "--port", str(port)], port, threads, workdir) as base:
        yield base


def migrate_and_users(url: str, users: dict[str, tuple[list[Role], Level]]) -> None:
    """Migrate `url` and create `users` (name -> roles, clearance) in every queue."""
    settings = load_settings(database_url=url, environment="test", jwt_secret=JWT_SECRET)
    engine = make_engine(settings)
    migrations.upgrade(engine)
    actor = system_principal("bench")
    with unit_of_work(engine) as session:
        queues = sorted(known_queues(session))
        for name, (roles, clearance) in users.items():
            auth.create_user(
                session,
                actor=actor,
                username=name,
                password=PASSWORD,
                roles=roles,
                clearance=clearance,
                queues=queues,
            )
    engine.dispose()


def ingest(url: str, texts: list[str]) -> None:
    settings = load_settings(database_url=url, environment="test", jwt_secret=JWT_SECRET)
    engine = make_engine(settings)
    actor = system_principal("bench")
    for raw in texts:
        try:
            with unit_of_work(engine) as session:
                cables.ingest_cable(session, text=raw, actor=actor)
        except Conflict:
            continue
    engine.dispose()


def claim_all(url: str, reviewers: list[str]) -> dict[str, list[tuple[str, int]]]:
    """Claim every assigned portion as its assignee; (ref_id, seq) per reviewer."""
    settings = load_settings(database_url=url, environment="test", jwt_secret=JWT_SECRET)
    engine = make_engine(settings)
    query = text(
        "SELECT c.ref_id, p.seq, p.assignee FROM portion p JOIN cable c ON c.id = p.cable_id "
        "WHERE p.status = 'assigned' ORDER BY p.id"
    )
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    principals = {
        name: Principal(
            name=name,
            sub=f"user:{name}",
            kind=PrincipalKind.user,
            roles=frozenset({Role.reviewer}),
            clearance=Level.TOP_SECRET,
        )
        for name in reviewers
    }
    work: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for ref_id, seq, assignee in rows:
        if assignee not in principals:
            continue
        with unit_of_work(engine) as session:
            review.claim(
                session, ref_id=ref_id, seq=seq, actor=principals[assignee], expected_version=None
            )
        work[assignee].append((ref_id, seq))
    engine.dispose()
    return work


def login(base: str, username: str) -> str:
    response = httpx.post(
        f"{base}/api/v1/auth/token",
        data={"grant_type": "password", "username": username, "password": PASSWORD},
        timeout=60,
    )
    response.raise_for_status()
    token: str = response.json()["access_token"]
    return token


@dataclass
class Load:
    seconds: float
    decisions: int
    errors: int
    put_ms: list[float]
    cpu_seconds: float = 0.0  # the server process's CPU time during the load

    @property
    def cpu_ms(self) -> float:
        """Server CPU per decision (its GET and its PUT)."""
        return 1000 * self.cpu_seconds / max(1, self.decisions)

    @property
    def rate(self) -> float:
        return self.decisions / self.seconds

    def pct(self, q: float) -> float:
        ordered = sorted(self.put_ms)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def run_load(base: str, tokens: list[str], slices: list[list[tuple[str, int]]]) -> Load:
    """One thread per client: GET then PUT decision with If-Match on each of its portions."""
    barrier = threading.Barrier(len(tokens) + 1)
    put_ms: list[list[float]] = [[] for _ in tokens]
    errors = [0] * len(tokens)
    done = [0] * len(tokens)

    def client(i: int) -> None:
        headers = {"Authorization": f"Bearer {tokens[i]}"}
        with httpx.Client(base_url=base, headers=headers, timeout=60) as http:
            http.get("/healthz")  # open the keep-alive connection before the clock starts
            barrier.wait()
            for ref_id, seq in slices[i]:
                path = f"/api/v1/cables/{ref_id}/portions/{seq}"
                got = http.get(path)
                if got.status_code != 200:
                    errors[i] += 1
                    continue
                started = time.perf_counter()
                put = http.put(
                    f"{path}/decision",
                    json={"action": "release"},
                    headers={"If-Match": got.headers["etag"]},
                )
                put_ms[i].append((time.perf_counter() - started) * 1000)
                if put.status_code == 200:
                    done[i] += 1
                else:
                    errors[i] += 1
                    if errors[i] <= 2:
                        print(f"  client {i}: PUT {put.status_code} {put.text[:200]}")

    threads = [threading.Thread(target=client, args=(i,)) for i in range(len(tokens))]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    cpu_before = server_cpu_seconds(base)
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    cpu = server_cpu_seconds(base) - cpu_before
    return Load(elapsed, sum(done), sum(errors), [ms for part in put_ms for ms in part], cpu)


def bench_database(kind: str, args: argparse.Namespace) -> dict[str, list[Load]]:
    clients, per = args.clients, args.per_client
    reviewers = [f"reviewer{i:02d}" for i in range(clients)]
    # Each reviewer needs per-client portions per round per server, plus one warm-up each.
    need = (args.rounds + 1) * 2 * per
    results: dict[str, list[Load]] = {"bare": [], "service": []}
    with fresh_database(kind, args.pg_admin) as url, tempfile.TemporaryDirectory() as workdir:
        started = time.perf_counter()
        migrate_and_users(url, {name: ([Role.reviewer], Level.TOP_SECRET) for name in reviewers})
        # About 9 portions a cable; routing spreads them over the reviewers by load.
        count = max(50, need * clients // 8)
        ingest(url, [c.text for c in generate(count, seed=7)])
        work = claim_all(url, reviewers)
        short = min(len(work[name]) for name in reviewers)
        if short < need:
            raise SystemExit(f"only {short} portions for a reviewer, {need} needed")
        portions = sum(len(v) for v in work.values())
        print(
            f"{kind}: {count} cables, {portions} portions claimed by {clients} reviewers "
            f"in {time.perf_counter() - started:.0f} s"
        )
        queues = {name: iter(work[name]) for name in reviewers}

        def take() -> list[list[tuple[str, int]]]:
            return [[next(queues[name]) for _ in range(per)] for name in reviewers]

        # Both servers get the same worker-thread pool (the service's default unless set).
        threads = (
            {}
            if args.worker_threads is None
            else {"DECLASS_WORKER_THREADS": str(args.worker_threads)}
        )
        with (
            service_server(url, workdir, threads) as svc,
            bare_server(url, workdir, threads, args.baseline) as bare,
        ):
            tokens = [login(svc, name) for name in reviewers]
            bases = {"service": svc, "bare": bare}
            for name in ("bare", "service"):  # warm-up round, not counted
                run_load(bases[name], tokens, take())
            for round_no in range(args.rounds):
                order = ("bare", "service") if round_no % 2 == 0 else ("service", "bare")
                for name in order:
                    load = run_load(bases[name], tokens, take())
                    results[name].append(load)
                    print(
                        f"  round {round_no + 1} {name:7s}: {load.rate:6.1f} decisions/s, "
                        f"PUT p50 {load.pct(0.5):6.1f} ms p99 {load.pct(0.99):6.1f} ms, "
                        f"server CPU {load.cpu_ms:5.2f} ms a decision, errors {load.errors}"
                    )
    return results


def report(kind: str, results: dict[str, list[Load]], args: argparse.Namespace) -> None:
    def med(name: str, attr: str) -> float:
        loads = results[name]
        if attr == "rate":
            return statistics.median(load.rate for load in loads)
        if attr == "cpu":
            return statistics.median(load.cpu_ms for load in loads)
        return statistics.median(load.pct(float(attr)) for load in loads)

    ratios = [s.rate / b.rate for s, b in zip(results["service"], results["bare"], strict=True)]
    svc_rate, bare_rate = med("service", "rate"), med("bare", "rate")
    print(
        f"\n{kind}: {args.clients} clients x {args.per_client} decisions, "
        f"medians of {args.rounds} rounds"
    )
    print(
        f"{'':10s} {'decisions/s':>12s} {'PUT p50 ms':>11s} {'PUT p99 ms':>11s} "
        f"{'CPU ms/decision':>16s}"
    )
    for name in ("bare", "service"):
        print(
            f"{name:10s} {med(name, 'rate'):12.1f} {med(name, '0.5'):11.1f} "
            f"{med(name, '0.99'):11.1f} {med(name, 'cpu'):16.2f}"
        )
    print(
        f"ratio service / baseline: {svc_rate / bare_rate:.2f} (median of the per-round "
        f"ratios: {statistics.median(ratios):.2f}; target >= 0.5)"
    )
    p99 = med("service", "0.99")
    print(
        f"targets: >= 300 decisions/s {'met' if svc_rate >= 300 else 'MISSED'} "
        f"({svc_rate:.0f}); p99 <= 100 ms {'met' if p99 <= 100 else 'MISSED'} ({p99:.0f} ms); "
        f">= 0.5x baseline {'met' if svc_rate / bare_rate >= 0.5 else 'MISSED'}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="sqlite")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--per-client", type=int, default=25, help="decisions per client a run")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--pg-admin", default=PG_ADMIN)
    parser.add_argument(
        "--baseline",
        choices=["matched", "minimal"],
        default="matched",
        help="the bare app's statements (bench/bare_app.py)",
    )
    parser.add_argument(
        "--worker-threads", type=int, help="both servers' thread pool (DECLASS_WORKER_THREADS)"
    )
    args = parser.parse_args()
    kinds = ["sqlite", "postgresql"] if args.database == "both" else [args.database]
    print(f"load average at start: {os.getloadavg()[0]:.1f} ({os.cpu_count()} cores)")
    for kind in kinds:
        report(kind, bench_database(kind, args), args)
    print(f"load average at end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
