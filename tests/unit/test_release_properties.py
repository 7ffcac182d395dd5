"""Properties: whatever the texts and spans, redacted characters never reach the output.

How the property is stated soundly: released text is drawn from one alphabet and every
redacted region (a span's characters, a withheld portion's whole text) from a disjoint
SECRET alphabet that the fixed markers (``[REDACTED <codes>]``, ``¶N.``,
``[WITHHELD FOR CLEARANCE]``) and the codes used here do not share either. Then "no
redacted substring leaks" becomes exact: no SECRET character appears in the output at all.
For the PDF, whose fixed furniture (headers, stamp, PDF syntax) uses many letters, each
redacted region is at least 6 SECRET letters long and must not occur anywhere in the file.
"""

from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass
from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st
from pypdf import PdfReader
from test_release_pdf import every_string

from service.release import (
    PortionAction,
    ReleaseDocument,
    ReleasePortion,
    ReleaseSpan,
    render_json,
    render_pdf,
    render_text,
)
from service.release.pdf_layout import Row, TextRun, layout

CODES = ("(b)(1)", "(b)(6)", "1.4(d)", "25X1", "50X1-HUM")
FIXED = "[REDACTED] WITHHELD FOR CLEARANCE ¶." + "".join(CODES) + "0123456789"
SECRET_LETTERS = "BGJKPQSVYZ"  # upper-case letters used by no marker and no code above
SECRET = SECRET_LETTERS + "αβγδεζηθλμπσφψω€§"
RELEASED = "abcdefghijklmnopqrstuvwxyz .,;:-()\n"
MARKER = re.compile(r"\[REDACTED[^\]]*\]")
assert not set(SECRET) & set(FIXED + RELEASED)


@dataclass(frozen=True, slots=True)
class Cut:
    text: str
    codes: tuple[str, ...]


Segment = str | Cut  # a str is released text


def codes() -> st.SearchStrategy[tuple[str, ...]]:
    return st.lists(st.sampled_from(CODES), max_size=3, unique=True).map(tuple)


def segments(secret: str, min_secret: int) -> st.SearchStrategy[list[Segment]]:
    keep = st.text(alphabet=RELEASED, max_size=30)
    cut = st.builds(Cut, st.text(alphabet=secret, min_size=min_secret, max_size=40), codes())
    return st.lists(st.one_of(keep, cut), max_size=8)


def redacted_portion(seq: int, parts: list[Segment]) -> ReleasePortion:
    text, spans = "", []
    for part in parts:
        if isinstance(part, Cut):
            spans.append(ReleaseSpan(len(text), len(text) + len(part.text), part.codes))
            part = part.text
        text += part
    action = PortionAction.redact if spans else PortionAction.release
    return ReleasePortion(seq, str(seq) if seq else None, text, action, tuple(spans))


@st.composite
def documents(draw: st.DrawFn, secret: str = SECRET, min_secret: int = 1) -> ReleaseDocument:
    """Portions of every kind; withheld texts are all secret, hidden ones have no text."""
    portions = []
    for seq in range(draw(st.integers(0, 5))):
        kind = draw(st.sampled_from(["redact", "withhold", "hidden"]))
        if kind == "redact":
            portions.append(redacted_portion(seq, draw(segments(secret, min_secret))))
        else:
            text = (
                draw(st.text(alphabet=secret, min_size=min_secret)) if kind == "withhold" else None
            )
            action = PortionAction.withhold if kind == "withhold" else PortionAction.release
            number = draw(st.sampled_from([None, str(seq)]))
            portions.append(ReleasePortion(seq, number, text, action, codes=draw(codes())))
    subject = draw(st.text(alphabet=secret + RELEASED, max_size=12))
    return ReleaseDocument(
        ref_id="07test1",  # lower case: the metadata shares no letter with SECRET
        subject=subject or None,
        classification="confidential",
        origin=None,
        sent_at=None,
        portions=tuple(draw(st.permutations(portions))),
        approvers=("a. approver",),
        released_on=date(2025, 6, 1),
        is_preview=draw(st.booleans()),
    )


@given(documents())
def test_text_and_json_contain_no_secret_character(doc: ReleaseDocument) -> None:
    assert not set(render_text(doc)) & set(SECRET)
    out = render_json(doc)
    assert not set(json.dumps(out, ensure_ascii=False)) & set(SECRET)
    portions = out["portions"]
    assert isinstance(portions, list)
    for portion in portions:
        assert portion["text"] is None or not set(portion["text"]) & set(SECRET)


@given(segments(SECRET, 1))
def test_released_text_is_exactly_the_kept_text_between_one_marker_per_span(
    parts: list[Segment],
) -> None:
    kept, current = [], ""
    for part in parts:
        if isinstance(part, Cut):
            kept.append(current)
            current = ""
        else:
            current += part
    kept.append(current)
    doc = ReleaseDocument(
        "X", None, "SECRET", None, None, (redacted_portion(1, parts),), ("a",), date(2025, 1, 1)
    )
    portions = render_json(doc)["portions"]
    assert isinstance(portions, list)
    [portion] = portions
    assert MARKER.split(portion["text"]) == kept
    assert render_text(doc) == portion["text"]


@given(st.text(), st.data())
def test_any_text_and_valid_spans_match_a_slicing_reference(text: str, data: st.DataObject) -> None:
    bounds = data.draw(st.lists(st.integers(0, len(text)), unique=True, max_size=8).map(sorted))
    pairs = [(a, b) for a, b in zip(bounds[::2], bounds[1::2], strict=False) if a < b]
    spans = tuple(ReleaseSpan(a, b, ("25X1",)) for a, b in pairs)
    action = PortionAction.redact if spans else PortionAction.release
    doc = ReleaseDocument(
        "X",
        None,
        "SECRET",
        None,
        None,
        (ReleasePortion(0, None, text, action, spans),),
        ("a",),
        date(2025, 1, 1),
    )
    expected, cursor = "", 0
    for a, b in pairs:
        expected += text[cursor:a] + "[REDACTED 25X1]"
        cursor = b
    expected += text[cursor:]
    assert render_text(doc) == expected


@given(st.lists(st.text(), max_size=6))
def test_all_released_renders_as_the_exact_concatenation(texts: list[str]) -> None:
    portions = tuple(
        ReleasePortion(seq, None, text, PortionAction.release) for seq, text in enumerate(texts)
    )
    doc = ReleaseDocument("X", None, "SECRET", None, None, portions, ("a",), date(2025, 1, 1))
    assert render_text(doc) == "".join(texts)


def _secret_regions(doc: ReleaseDocument) -> list[str]:
    regions = []
    for portion in doc.portions:
        if portion.text is None:
            continue
        if portion.action == PortionAction.withhold:
            regions.append(portion.text)
        regions.extend(portion.text[span.start : span.end] for span in portion.spans)
    return regions


@settings(max_examples=40, deadline=None)
@given(documents(secret=SECRET_LETTERS, min_secret=6))
def test_the_pdf_contains_no_redacted_region(doc: ReleaseDocument) -> None:
    pdf = render_pdf(doc)
    strings = every_string(pdf)
    extracted = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    drawn = "".join(
        run.text
        for line in layout(doc)
        if isinstance(line, Row)
        for run in line.runs
        if isinstance(run, TextRun)
    )
    assert not set(drawn) & set(SECRET_LETTERS)  # the body text drawn holds no secret letter
    for region in _secret_regions(doc):
        assert region.encode("latin-1") not in pdf
        assert region not in extracted
        assert not [s for s in strings if region in s]
