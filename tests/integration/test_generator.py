"""bench/generate.py: every synthetic cable parses, runs are reproducible, and the CSV and
NDJSON outputs have the cablegate shapes."""

from __future__ import annotations

import csv
import importlib.util
import json
import sys
from collections import Counter
from pathlib import Path
from types import ModuleType

import pytest

from service.parsing import parse_cable

BENCH = Path(__file__).resolve().parents[2] / "bench" / "generate.py"


@pytest.fixture(scope="module")
def generate() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_generate", BENCH)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_generate"] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


def test_500_generated_cables_parse_with_their_own_values(generate: ModuleType) -> None:
    kinds: Counter[str | None] = Counter()
    for cable in generate.generate(500, seed=11):
        parsed = parse_cable(cable.text)
        assert (parsed.ref_id, parsed.origin, parsed.subject) == (
            cable.ref_id,
            cable.origin,
            cable.subject,
        )
        assert parsed.classification is not None
        assert parsed.classification.value == cable.classification.split("//")[0]
        assert parsed.cable_date == cable.created.date()
        assert len(parsed.portions) >= 2
        kinds[parsed.decl.as_json()["kind"] if parsed.decl else None] += 1
        if cable.classification.startswith("UNCLASSIFIED"):
            assert parsed.declassify_on is None
        elif parsed.decl is not None and parsed.decl.kind.value != "not_applicable":
            assert parsed.declassify_on is not None
    # every DECL form of the generator shows up in a sample of 500
    assert {"date", "not_applicable", "oadr", "exemption"} <= set(kinds)


def test_runs_are_reproducible_and_cable_i_depends_only_on_seed_and_i(
    generate: ModuleType,
) -> None:
    first = [c.text for c in generate.generate(50, seed=3)]
    assert first == [c.text for c in generate.generate(50, seed=3)]
    assert first[20:] == [c.text for c in generate.generate(30, seed=3, start=20)]
    assert first != [c.text for c in generate.generate(50, seed=4)]
    assert len({c.ref_id for c in generate.generate(5000, seed=3)}) == 5000
    identities = [generate.cable_identity(i, 3) for i in range(50)]
    assert identities == [(c.ref_id, c.created) for c in generate.generate(50, seed=3)]


def test_csv_and_ndjson_outputs(generate: ModuleType, tmp_path: Path) -> None:
    out = tmp_path / "cables.csv"
    generate.write(30, seed=5, fmt="csv", out=str(out), jobs=1)
    with out.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == [
        "id",
        "date",
        "refid",
        "origin",
        "classification",
        "destination",
        "header",
        "content",
    ]
    cables = list(generate.generate(30, seed=5))
    assert [row[2] for row in rows[1:]] == [c.ref_id for c in cables]
    assert [row[6] + row[7] for row in rows[1:]] == [c.header + c.content for c in cables]
    ndjson = tmp_path / "cables.ndjson"
    generate.write(30, seed=5, fmt="ndjson", out=str(ndjson), jobs=2)
    lines = ndjson.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["text"] for line in lines] == [c.text for c in cables]
    folder = tmp_path / "text"
    generate.write(3, seed=5, fmt="text", out=str(folder), jobs=1)
    assert sorted(p.name for p in folder.iterdir()) == sorted(f"{c.ref_id}.txt" for c in cables[:3])
