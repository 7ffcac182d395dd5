"""What compiling the parser with mypyc would give, measured against the source tree in one run.

Usage: ``.venv/bin/python bench/parse_mypyc.py [--repeat N] [--rounds R] [--with-deps]
[--keep DIR]``

Copies ``service/`` and ``bench/parse_bench.py`` into a scratch directory,
compiles ``service/parsing/*.py`` there with mypyc (it ships with mypy, a dev
dependency; a C compiler and the Python headers are needed), checks that the
compiled parser returns exactly what the source tree returns for every corpus
file (the ``repr`` of each ``ParsedCable``, or the ``CableParseError`` text),
then runs ``parse_bench.py`` on the source tree and on the compiled copy, one
after the other. ``--with-deps`` also compiles the modules ``parse_cable``
calls outside the package (``service/markings.py``, ``service/decl.py``,
``service/schedule.py``). Nothing in the repository is built or changed.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus" / "cables"
DEPS = ("service/markings.py", "service/decl.py", "service/schedule.py")
# Run in a child process with the tree to import first on sys.path: prints one
# digest of every corpus file's parse result and the path of the parser module.
_DIGEST = """
import hashlib, sys
from pathlib import Path
sys.path.insert(0, sys.argv[1])
import service.parsing.cable as cable
from service.parsing import CableParseError, parse_cable
digest = hashlib.sha256()
for path in sorted(Path(sys.argv[2]).glob("*.txt")):
    try:
        result = repr(parse_cable(path.read_bytes()))
    except CableParseError as exc:
        result = "error: " + str(exc)
    digest.update(result.encode() + b"\\0")
print(digest.hexdigest(), cable.__file__)
"""


def _run(command: list[str], cwd: Path | None = None) -> str:
    """Run ``command`` and return its output; on failure, show its errors and stop."""
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.exit(f"{' '.join(command[:3])} ... failed:\n{done.stdout}{done.stderr}")
    return done.stdout


def _digest(tree: Path) -> tuple[str, str]:
    out = _run([sys.executable, "-c", _DIGEST, str(tree), str(CORPUS)]).split()
    return out[0], out[1]


def _compile(tree: Path, with_deps: bool) -> None:
    shutil.copytree(ROOT / "service", tree / "service", ignore=shutil.ignore_patterns("*.so"))
    (tree / "bench").mkdir()
    shutil.copy2(ROOT / "bench" / "parse_bench.py", tree / "bench" / "parse_bench.py")
    shutil.copy2(ROOT / "pyproject.toml", tree / "pyproject.toml")
    modules = sorted(
        str(p.relative_to(tree))
        for p in (tree / "service" / "parsing").glob("*.py")
        if p.name != "__init__.py"
    )
    if with_deps:
        modules.extend(DEPS)
    _run([sys.executable, "-m", "mypyc", *modules], cwd=tree)


def _bench(script: Path, repeat: int, rounds: int) -> str:
    return _run(
        [
            sys.executable,
            str(script),
            "--repeat",
            str(repeat),
            "--rounds",
            str(rounds),
            "--corpus",
            str(CORPUS),
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20, help="passes over the corpus per round")
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds; the best one counts")
    parser.add_argument(
        "--with-deps", action="store_true", help="also compile markings/decl/schedule"
    )
    parser.add_argument("--keep", type=Path, help="build here and keep it (default: a temp dir)")
    args = parser.parse_args()
    scratch = args.keep or Path(tempfile.mkdtemp(prefix="parse_mypyc_"))
    try:
        print(f"compiling the parser with mypyc in {scratch} ...", flush=True)
        _compile(scratch, args.with_deps)
        plain, plain_module = _digest(ROOT)
        compiled, compiled_module = _digest(scratch)
        print(f"source tree parser   {plain_module}")
        print(f"compiled parser      {compiled_module}")
        if not compiled_module.endswith(".so"):
            sys.exit("the compiled copy did not load its compiled modules")
        if plain != compiled:
            sys.exit(f"the compiled parser gives other results: {plain} != {compiled}")
        print(f"same results on every corpus file (sha256 {plain[:16]})")
        print("--- source tree")
        print(_bench(ROOT / "bench" / "parse_bench.py", args.repeat, args.rounds), end="")
        print("--- compiled with mypyc" + (" (with markings, decl, schedule)" * args.with_deps))
        print(_bench(scratch / "bench" / "parse_bench.py", args.repeat, args.rounds), end="")
    finally:
        if args.keep is None:
            shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
