"""Properties: for any text, parse_cable returns a cable whose portions rejoin to
the input exactly, or raises CableParseError; it never raises anything else. Inputs:
arbitrary text and bytes, the seed cable with lines spliced in or cut anywhere, and real
cables (the seed and every 15th corpus cable) with lines dropped, duplicated, moved,
re-ended (CRLF, CR) or garbage inserted."""

from __future__ import annotations

from pathlib import Path

from corpus import cable_paths
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from service.markings import Level
from service.parsing import CableParseError, ParsedCable, parse_cable

SEED = (Path(__file__).resolve().parents[2] / "service" / "demo" / "07TOKYO5624.txt").read_text(
    encoding="utf-8"
)
SEED_LINES = SEED.splitlines(keepends=True)

# Lines that look like parts of a cable, to splice into the seed.
CABLE_LIKE = st.sampled_from(
    [
        "",
        " \n",
        "\r\n",
        "¶9. (S//NF) Inserted paragraph.\n",
        "1. CONFIDENTIAL - ENTIRE TEXT.\n",
        "(X) unknown mark\n",
        "(U.S.) not a mark\n",
        "E.O. 12958: DECL: 13/45/2010\n",
        "E.O. 12356: DECL: OADR\n",
        "TAGS: PREL, PGOV\n",
        "SUBJECT: (C) ANOTHER SUBJECT\n",
        "REF: A. STATE 123 B. 07 TOKYO 456\n",
        "Classified By: Ambassador J. Thomas Schieffer for reasons 1.4 (b) a \n",
        "S E C R E T SECTION 01 OF 02 TOKYO 005624\n",
        "R 200753Z DEC 07\n",
        "FM AMEMBASSY TOKYO\n",
        "------------------------------\n",
        "SIPDIS\n",
        "PAGE 02 TOKYO 05624 01 OF 02 200753Z\n",
        "SCHIEFFER\n",
        "\\\n",
        "<br>\n",
    ]
)


def _parse(data: str | bytes) -> ParsedCable | None:
    """The cable, or ``None`` when it is rejected (with at least one problem)."""
    try:
        return parse_cable(data)
    except CableParseError as error:
        problems = error.problems
    assert problems
    return None


def _check(text: str) -> ParsedCable | None:
    cable = _parse(text)
    if cable is None:
        return None
    assert "".join(p.text for p in cable.portions) == text
    assert [p.seq for p in cable.portions] == list(range(len(cable.portions)))
    assert all(isinstance(p.level, Level) for p in cable.portions)
    assert all(p.text for p in cable.portions)
    return cable


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text())
def test_arbitrary_text_parses_or_is_rejected(text: str) -> None:
    _check(text)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary())
def test_arbitrary_bytes_parse_or_are_rejected(data: bytes) -> None:
    cable = _parse(data)
    if cable is None:
        return
    assert "".join(p.text for p in cable.portions) == data.decode("utf-8")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=len(SEED_LINES)),
            st.one_of(CABLE_LIKE, st.text(max_size=80)),
        ),
        max_size=8,
    ),
    st.booleans(),
)
def test_seed_with_spliced_lines(splices: list[tuple[int, str]], crlf: bool) -> None:
    lines = list(SEED_LINES)
    for position, line in sorted(splices, reverse=True):
        lines.insert(position, line)
    text = "".join(lines)
    if crlf:
        text = text.replace("\n", "\r\n")
    cable = _check(text)
    if cable is not None and not splices:
        assert cable.ref_id == "07TOKYO5624"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.integers(min_value=0, max_value=len(SEED)),
    st.integers(min_value=0, max_value=len(SEED)),
)
def test_seed_cut_anywhere(start: int, length: int) -> None:
    _check(SEED[start : start + length])
    _check(SEED[:start])


# Real cables mutated line by line: lines dropped, duplicated, moved, their endings turned
# to CRLF or CR, garbage inserted. The seed is always there; the corpus cables (295 real
# cables, shared material) join it when present.
CABLES = [SEED] + [path.read_bytes().decode("utf-8") for path in cable_paths()[::15]]
GARBAGE = st.one_of(
    CABLE_LIKE,
    st.text(max_size=40),
    st.binary(max_size=40).map(lambda b: b.decode("latin-1")),
    st.sampled_from(["\x00", "\ufeff", "\u2028", "\x0c", "\t\t", "\r", "(S//NF)", "¶"]),
)


@st.composite
def mutated_cable(draw: st.DrawFn) -> str:
    lines = draw(st.sampled_from(CABLES)).splitlines(keepends=True)
    for _ in range(draw(st.integers(0, 6))):
        if not lines:
            break
        at = draw(st.integers(0, len(lines) - 1))
        edit = draw(st.sampled_from(["drop", "duplicate", "move", "crlf", "cr", "garbage"]))
        if edit == "drop":
            del lines[at]
        elif edit == "duplicate":
            lines.insert(at, lines[at])
        elif edit == "move":
            lines.insert(draw(st.integers(0, len(lines) - 1)), lines.pop(at))
        elif edit in ("crlf", "cr"):
            ending = "\r\n" if edit == "crlf" else "\r"
            lines[at] = lines[at].rstrip("\r\n") + ending
        else:
            lines.insert(at, draw(GARBAGE))
    return "".join(lines)


@settings(max_examples=300)
@given(mutated_cable())
def test_mutated_real_cables_parse_or_are_rejected(text: str) -> None:
    _check(text)


@settings(max_examples=100)
@given(mutated_cable())
def test_mutated_real_cables_as_bytes(text: str) -> None:
    data = text.encode("utf-8")
    cable = _parse(data)
    if cable is not None:
        assert "".join(p.text for p in cable.portions) == text
