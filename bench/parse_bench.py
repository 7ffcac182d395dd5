"""Parse benchmark: cables per second of ``parse_cable`` on one core, against a baseline.

Usage: ``.venv/bin/python bench/parse_bench.py [--repeat N] [--corpus DIR] [--rounds R]``

Both loops read every corpus file from disk ``N`` times (default 20); the
baseline only decodes each file and runs one regular-expression pass over it
(the kind of scan any reader of these files needs), the parse loop runs
``parse_cable`` on the same bytes. Each loop is timed ``R`` times (default 3)
and the best round is reported. The process is pinned to one CPU where the OS
allows it, and both wall-clock and CPU-time rates are printed: on a shared,
busy machine the CPU-time rate is what one core actually does.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from service.parsing import parse_cable  # noqa: E402

DEFAULT_CORPUS = ROOT.parent / "shared" / "corpus" / "cables"
BASELINE_PATTERN = re.compile(r"\(([A-Z/ -]{1,12})\)")


def _baseline(paths: list[Path]) -> None:
    for path in paths:
        BASELINE_PATTERN.findall(path.read_bytes().decode("utf-8"))


def _parse(paths: list[Path]) -> None:
    for path in paths:
        parse_cable(path.read_bytes())


def _best_rates(
    run: Callable[[list[Path]], None], paths: list[Path], rounds: int
) -> tuple[float, float]:
    """``(wall-clock, CPU-time)`` cables per second, each the best of ``rounds``."""
    wall = cpu = float("inf")
    for _ in range(rounds):
        start, start_cpu = time.perf_counter(), time.process_time()
        run(paths)
        cpu = min(cpu, time.process_time() - start_cpu)
        wall = min(wall, time.perf_counter() - start)
    return len(paths) / wall, len(paths) / max(cpu, 1e-9)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20, help="passes over the corpus per round")
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds; the best one counts")
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="directory of .txt")
    args = parser.parse_args()
    files = sorted(args.corpus.glob("*.txt"))
    if not files:
        sys.exit(f"no cable files in {args.corpus}")
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    paths = files * args.repeat
    _parse(files)  # warm up caches and imports
    _baseline(files)
    base_wall, base_cpu = _best_rates(_baseline, paths, args.rounds)
    parse_wall, parse_cpu = _best_rates(_parse, paths, args.rounds)
    size = sum(p.stat().st_size for p in files)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"date      {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, load average {load:.1f}")
    print(f"python    {platform.python_version()} on {platform.machine()}, {os.cpu_count()} cores")
    print(
        f"corpus    {len(files)} files, {size / 1e6:.2f} MB, x{args.repeat}, best of {args.rounds}"
    )
    print("          wall-clock  CPU time   (cables/s)")
    print(f"baseline  {base_wall:10.0f}  {base_cpu:8.0f}   read + one regex pass")
    print(f"parse     {parse_wall:10.0f}  {parse_cpu:8.0f}   read + parse_cable")
    print(
        f"ratio     {base_wall / parse_wall:10.2f}  {base_cpu / parse_cpu:8.2f}   baseline / parse"
    )


if __name__ == "__main__":
    main()
