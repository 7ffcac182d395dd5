"""Parse benchmark: cables per second of ``parse_cable`` on one core, against a baseline.

Usage: ``.venv/bin/python bench/parse_bench.py [--repeat N] [--corpus DIR] [--rounds R]
[--stages]``

Both loops read every corpus file from disk ``N`` times (default 20); the
baseline only decodes each file and runs one regular-expression pass over it
(the kind of scan any reader of these files needs), the parse loop runs
``parse_cable`` on the same bytes. Each loop is timed ``R`` times (default 3)
and the best round is reported. The process is pinned to one CPU where the OS
allows it, and both wall-clock and CPU-time rates are printed: on a shared,
busy machine the CPU-time rate is what one core actually does.

``--stages`` then prints the CPU time per cable of each stage of
``parse_cable``, each re-run alone on the inputs it gets inside the parser (the
best of ``R`` rounds of ``N`` passes); stages run alone are warmer than in
sequence, so they add up to less than a whole ``parse_cable``.
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


def _stages(files: list[Path], repeat: int, rounds: int) -> None:
    """Print the CPU time per cable of each stage of ``parse_cable`` (see the docstring)."""
    from service.parsing import (
        cable,
        header,
        metadata,
        recipients,
        references,
        signers,
        source,
        subject,
        tags,
    )

    inputs = []
    for path in files:
        raw = path.read_bytes()
        text = raw.decode("utf-8")
        meta = metadata.read_metadata(text)
        near = meta.created_on if meta else None
        layout = header.locate(text, meta.end if meta else 0, near=near)
        zone = text[layout.zone_start : layout.fields_end]
        routing = text[layout.routing_start : layout.routing_end]
        inputs.append((raw, text, meta, near, layout, zone, routing))

    def refs(zone: str) -> None:
        region = references.find_ref_region(zone)
        if region:
            references.reference_items(region)
            references.cable_ids(region, 2000)

    stages: list[tuple[str, Callable[..., object]]] = [
        ("whole parse_cable", lambda raw, t, m, near, lay, z, r: cable.parse_cable(raw)),
        ("decode + metadata", lambda raw, t, m, near, lay, z, r: metadata.read_metadata(
            source.decode(raw))),
        ("locate (DTG, banner, labels, header end)", lambda raw, t, m, near, lay, z, r:
            header.locate(t, m.end if m else 0, near=near)),
        ("portions (starts, marks, headings)", lambda raw, t, m, near, lay, z, r:
            cable._portions(t, lay, None, [])),
        ("Classified By", lambda raw, t, m, near, lay, z, r: cable._classified_by(t, lay, z)),
        ("E.O. line + decl", lambda raw, t, m, near, lay, z, r: cable._decl(z, near, [])),
        ("tags", lambda raw, t, m, near, lay, z, r: tags.extract_tags(z)),
        ("subject", lambda raw, t, m, near, lay, z, r: subject.extract_subject(z)),
        ("references", lambda raw, t, m, near, lay, z, r: refs(z)),
        ("caveats", lambda raw, t, m, near, lay, z, r: cable._caveats(t, lay, ())),
        ("signers", lambda raw, t, m, near, lay, z, r: signers.extract_signers(t[-2000:])),
        ("recipients (TO + INFO)", lambda raw, t, m, near, lay, z, r: (
            recipients.extract_recipients(r), recipients.extract_info_recipients(r))),
    ]  # fmt: skip
    print("stage                                      CPU µs per cable")
    for name, run in stages:
        best = float("inf")
        for _ in range(rounds):
            start = time.process_time()
            for _ in range(repeat):
                for args in inputs:
                    run(*args)
            best = min(best, time.process_time() - start)
        print(f"{name:42s} {best / repeat / len(inputs) * 1e6:8.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20, help="passes over the corpus per round")
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds; the best one counts")
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="directory of .txt")
    parser.add_argument("--stages", action="store_true", help="also time each parser stage")
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
    if args.stages:
        _stages(files, max(1, args.repeat // 2), args.rounds)


if __name__ == "__main__":
    main()
