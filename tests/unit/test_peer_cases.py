"""The peer test cases (converted from heuer/cablemap's test suite) as one
parametrised test per case, for the fields this parser extracts.

Snippet cases feed ``input`` to the field-level functions of
``service.parsing``; ``by_cable_id`` cases parse the whole corpus file, and are
skipped when the cable is not in the corpus. Cases we decide not to follow are
listed in ``DELIBERATE_DIFFERENCES`` with the reason, and run as strict xfails
so that they cannot start passing unnoticed.

``python tests/unit/test_peer_cases.py`` prints the pass rate per field.
"""

from __future__ import annotations

import sys
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from corpus import CORPUS, peer_cases

from service.parsing import (
    CableParseError,
    extract_classified_by,
    extract_decl_date,
    extract_info_recipients,
    extract_recipients,
    extract_references,
    extract_signers,
    extract_subject,
    extract_tags,
    normalise_name,
    parse_cable,
)

FIELDS = (
    "classified_by",
    "decl_date",
    "tags",
    "references",
    "subject",
    "signers",
    "recipients",
    "info_recipients",
)

DELIBERATE_DIFFERENCES: dict[str, str] = {
    "classified_by-0101-09ASTANA184": (
        "names are kept as written: we do not correct the misspelt 'RICAHRD' to 'Richard'"
    ),
    "classified_by-0269-09KABUL3161": (
        "the corpus text is damaged ('CooQnator Hoyt Y ee'); we do not repair it from a "
        "table of known names, so the name read is 'Hoyt Y'"
    ),
    "subject-0707": (
        "a page-break classification line ('CONFIDENTIAL' before 'PAGE 02') is not part of "
        "the subject; cablemap keeps it"
    ),
    "subject-0885-10STATE284": (
        "the cable has no SUBJECT line; cablemap takes the subject from its own fix table, "
        "we take values from the text only (the other 10STATE284 case expects '')"
    ),
}


class NotInCorpus(Exception):
    """A by_cable_id case whose cable is not in the shared corpus."""


def case_key(index: int, case: dict[str, Any]) -> str:
    """A stable key: field, position in peer-cases.json, reference id."""
    suffix = f"-{case['reference_id']}" if case.get("reference_id") else ""
    return f"{case['field']}-{index:04d}{suffix}"


def _year(case: dict[str, Any]) -> int:
    params = case.get("params") or {}
    if params.get("year"):
        return int(params["year"])
    ref_id = case.get("reference_id") or ""
    yy = int(ref_id[:2]) if ref_id[:2].isdigit() else 0
    return (1900 if yy >= 60 else 2000) + yy


def _cable_value(case: dict[str, Any]) -> object:
    ref_id = case["reference_id"]
    path = CORPUS / "cables" / f"{ref_id}.txt"
    if not case.get("cable_in_corpus") or not path.is_file():
        raise NotInCorpus(f"cable {ref_id} is not in the shared corpus")
    cable = parse_cable(path.read_bytes())
    params = case.get("params") or {}
    field = case["field"]
    if field == "classified_by":
        return [normalise_name(n) for n in cable.classified_by_names]
    if field == "subject":
        return cable.subject or ""
    if field == "signers":
        return [s.upper() for s in cable.signers] if params.get("c14n") else list(cable.signers)
    if field == "tags":
        return list(cable.tags)
    if field == "references":
        return list(cable.reference_ids)
    raise AssertionError(f"no whole-cable comparison for {field}")


def actual(case: dict[str, Any]) -> object:
    """What this parser gives for a case (raises ``NotInCorpus`` when it cannot run)."""
    if case.get("kind") == "by_cable_id":
        return _cable_value(case)
    text: str = case["input"]
    params = case.get("params") or {}
    field = case["field"]
    if field == "classified_by":
        return extract_classified_by(text, normalize=bool(params.get("normalize")))
    if field == "decl_date":
        found: date | None = extract_decl_date(text)
        return found.isoformat() if found else None
    if field == "tags":
        return extract_tags(text, canonicalize=params.get("canonicalize", True))
    if field == "references":
        refs = extract_references(text, _year(case), own_id=case.get("reference_id"))
        if params.get("match") == "contains" and set(case["expected"]) <= set(refs):
            return case["expected"]
        return refs
    if field == "subject":
        return extract_subject(text, clean=params.get("clean", True))
    if field == "signers":
        return extract_signers(text, c14n=bool(params.get("c14n")))
    if field == "recipients":
        return [r.as_json() for r in extract_recipients(text)]
    if field == "info_recipients":
        return [r.as_json() for r in extract_info_recipients(text)]
    raise AssertionError(f"unsupported field {field}")


def _params() -> list[Any]:
    out = []
    for index, case in enumerate(peer_cases()):
        if case["field"] not in FIELDS or case.get("kind") not in (None, "by_cable_id"):
            continue
        key = case_key(index, case)
        marks: list[Any] = []
        if case.get("kind") == "by_cable_id" and not case.get("cable_in_corpus"):
            marks.append(pytest.mark.skip(reason=f"cable {case['reference_id']} not in the corpus"))
        elif key in DELIBERATE_DIFFERENCES:
            marks.append(pytest.mark.xfail(strict=True, reason=DELIBERATE_DIFFERENCES[key]))
        out.append(pytest.param(case, id=key, marks=marks))
    return out


PARAMS = _params()


@pytest.mark.corpus
@pytest.mark.parametrize("case", PARAMS or [pytest.param(None, id="no-corpus")])
def test_peer_case(case: dict[str, Any] | None) -> None:
    if case is None:
        pytest.skip("shared corpus not found beside the clone")
    try:
        got = actual(case)
    except NotInCorpus as missing:  # pragma: no cover - marked skip above
        pytest.skip(str(missing))
    except CableParseError as error:  # pragma: no cover - reported as a failure
        pytest.fail(f"the cable was rejected: {error}")
    assert got == case["expected"]


def test_deliberate_differences_name_real_cases() -> None:
    if not PARAMS:
        pytest.skip("shared corpus not found beside the clone")
    keys = {case_key(i, c) for i, c in enumerate(peer_cases())}
    assert set(DELIBERATE_DIFFERENCES) <= keys


def pass_rates() -> list[tuple[str, int, int, int]]:
    """``(field, cases run, passed, deliberate differences)`` per field, then the total."""
    run: Counter[str] = Counter()
    passed: Counter[str] = Counter()
    deliberate: Counter[str] = Counter()
    for index, case in enumerate(peer_cases()):
        field = case["field"]
        if field not in FIELDS or case.get("kind") not in (None, "by_cable_id"):
            continue
        try:
            got = actual(case)
        except NotInCorpus:
            continue
        run[field] += 1
        if got == case["expected"]:
            passed[field] += 1
        elif case_key(index, case) in DELIBERATE_DIFFERENCES:
            deliberate[field] += 1
    rows = [(f, run[f], passed[f], deliberate[f]) for f in FIELDS if run[f]]
    rows.append(("all", sum(run.values()), sum(passed.values()), sum(deliberate.values())))
    return rows


def main() -> None:
    """Print the pass-rate table (Markdown) used in docs/parser.md."""
    print("| field | cases run | passed | % | deliberate differences |")
    print("|---|---:|---:|---:|---:|")
    for field, run, passed, deliberate in pass_rates():
        print(f"| {field} | {run} | {passed} | {100 * passed / run:.1f} | {deliberate} |")


if __name__ == "__main__":
    main()
