"""Text release conventions (DOMAIN.md section 8), table-driven, and input validation."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from typing import Any, cast

import pytest

from service.release import (
    PortionAction,
    ReleaseDocument,
    ReleasePortion,
    ReleaseSpan,
    render_text,
)

RELEASE = PortionAction.release
REDACT = PortionAction.redact
WITHHOLD = PortionAction.withhold
TEXT = "Alpha Bravo Charlie\n"  # offsets: Alpha 0-5, Bravo 6-11, Charlie 12-19, newline 19


def span(start: int, end: int, *codes: str) -> ReleaseSpan:
    return ReleaseSpan(start, end, codes or ("(b)(6)",))


def portion(
    seq: int = 1,
    text: str | None = TEXT,
    action: PortionAction = RELEASE,
    *,
    number: str | None = None,
    spans: tuple[ReleaseSpan, ...] = (),
    codes: tuple[str, ...] = (),
) -> ReleasePortion:
    return ReleasePortion(seq, number, text, action, spans, codes)


def document(*portions: ReleasePortion, is_preview: bool = False) -> ReleaseDocument:
    return ReleaseDocument(
        ref_id="07TEST1",
        subject="TEST",
        classification="CONFIDENTIAL",
        origin="Embassy Test",
        sent_at=None,
        portions=portions,
        approvers=("A. Approver",),
        released_on=date(2025, 6, 1),
        is_preview=is_preview,
    )


SPAN_CASES = [
    ("start", (span(0, 5),), "[REDACTED (b)(6)] Bravo Charlie\n"),
    ("middle", (span(6, 11),), "Alpha [REDACTED (b)(6)] Charlie\n"),
    ("end of the words", (span(12, 19),), "Alpha Bravo [REDACTED (b)(6)]\n"),
    ("end of the text", (span(12, 20),), "Alpha Bravo [REDACTED (b)(6)]"),
    ("whole text", (span(0, 20),), "[REDACTED (b)(6)]"),
    ("one character", (span(6, 7),), "Alpha [REDACTED (b)(6)]ravo Charlie\n"),
    (
        "adjacent",
        (span(0, 5, "(b)(6)"), span(5, 11, "1.4(d)")),
        "[REDACTED (b)(6)][REDACTED 1.4(d)] Charlie\n",
    ),
    (
        "two apart",
        (span(0, 5), span(12, 19, "25X1")),
        "[REDACTED (b)(6)] Bravo [REDACTED 25X1]\n",
    ),
    (
        "several codes",
        (span(6, 11, "(b)(1)", "1.4(d)"),),
        "Alpha [REDACTED (b)(1) 1.4(d)] Charlie\n",
    ),
    (
        "codes in the order given",
        (span(6, 11, "1.4(d)", "(b)(1)"),),
        "Alpha [REDACTED 1.4(d) (b)(1)] Charlie\n",
    ),
    ("no codes", (ReleaseSpan(6, 11, ()),), "Alpha [REDACTED] Charlie\n"),
    ("redact without spans keeps the text", (), TEXT),
]


@pytest.mark.parametrize(
    ("spans", "expected"), [c[1:] for c in SPAN_CASES], ids=[c[0] for c in SPAN_CASES]
)
def test_each_span_becomes_a_marker_in_place(spans: tuple[ReleaseSpan, ...], expected: str) -> None:
    assert render_text(document(portion(action=REDACT, spans=spans))) == expected


HEAD = "07TEST1\nSUBJECT: TEST\n"
P1 = "¶1. (C) First paragraph.\n \n"
P3 = "¶3. (U) Third paragraph.\n"
WITHHELD_CODES = ("(b)(1)", "1.4(d)")

DOCUMENT_CASES = [
    (
        "withheld with its number",
        [portion(2, "¶2. (C) Secret words.\n \n", WITHHOLD, number="2", codes=WITHHELD_CODES)],
        HEAD + P1 + "¶2. [REDACTED (b)(1) 1.4(d)]\n\n" + P3,
    ),
    (
        "withheld without a number",
        [portion(2, "(C) Secret words.\n \n", WITHHOLD, codes=WITHHELD_CODES)],
        HEAD + P1 + "[REDACTED (b)(1) 1.4(d)]\n\n" + P3,
    ),
    (
        "withheld without codes",
        [portion(2, "¶2. (C) Secret words.\n", WITHHOLD, number="2")],
        HEAD + P1 + "¶2. [REDACTED]\n\n" + P3,
    ),
    (
        "withheld ignores its spans",
        [portion(2, "¶2. Secret.\n", WITHHOLD, number="2", spans=(span(4, 10),), codes=("25X1",))],
        HEAD + P1 + "¶2. [REDACTED 25X1]\n\n" + P3,
    ),
    (
        "above clearance with its number",
        [portion(2, None, RELEASE, number="2")],
        HEAD + P1 + "¶2. [WITHHELD FOR CLEARANCE]\n\n" + P3,
    ),
    (
        "above clearance without a number",
        [portion(2, None, REDACT, spans=(span(400, 500),), codes=("25X1",))],
        HEAD + P1 + "[WITHHELD FOR CLEARANCE]\n\n" + P3,
    ),
    (
        "above clearance and withheld",
        [portion(2, None, WITHHOLD, number="2", codes=WITHHELD_CODES)],
        HEAD + P1 + "¶2. [WITHHELD FOR CLEARANCE]\n\n" + P3,
    ),
]


@pytest.mark.parametrize(
    ("middle", "expected"), [c[1:] for c in DOCUMENT_CASES], ids=[c[0] for c in DOCUMENT_CASES]
)
def test_a_portion_not_shown_is_one_line_with_its_number(
    middle: list[ReleasePortion], expected: str
) -> None:
    doc = document(
        portion(0, HEAD), portion(1, P1, number="1"), *middle, portion(3, P3, number="3")
    )
    assert render_text(doc) == expected


HEADER_CASES = [
    (
        "redacted span",
        portion(0, HEAD, REDACT, spans=(span(17, 21, "1.4(b)"),)),
        "07TEST1\nSUBJECT: [REDACTED 1.4(b)]\n" + P1,
    ),
    (
        "withheld whole",
        portion(0, HEAD, WITHHOLD, codes=("1.4(b)",)),
        "[REDACTED 1.4(b)]\n\n" + P1,
    ),
    ("above clearance", portion(0, None, RELEASE), "[WITHHELD FOR CLEARANCE]\n\n" + P1),
    ("released", portion(0, HEAD), HEAD + P1),
]


@pytest.mark.parametrize(
    ("header", "expected"), [c[1:] for c in HEADER_CASES], ids=[c[0] for c in HEADER_CASES]
)
def test_the_header_follows_the_same_rules(header: ReleasePortion, expected: str) -> None:
    assert render_text(document(header, portion(1, P1, number="1"))) == expected


def test_a_withheld_line_starts_its_own_line_and_ends_the_text_without_a_blank() -> None:
    doc = document(
        portion(0, "no newline at the end"),
        portion(1, "¶1. Secret.\n", WITHHOLD, number="1", codes=("25X1",)),
    )
    assert render_text(doc) == "no newline at the end\n¶1. [REDACTED 25X1]\n"


def test_a_span_swallowing_the_newline_glues_the_next_portion() -> None:
    doc = document(
        portion(0, "Alpha\n", REDACT, spans=(span(0, 6),)), portion(1, "Bravo\n"), portion(2, None)
    )
    assert render_text(doc) == "[REDACTED (b)(6)]Bravo\n[WITHHELD FOR CLEARANCE]\n"


def test_all_released_is_the_exact_concatenation_in_seq_order() -> None:
    texts = {
        0: "07TEST1 \r\n",
        1: "¶1. (C) tab\there ¶ “quotes” 日本 ",
        2: "",
        3: "\n \n",
        4: "end",
    }
    # Given out of order: rendering orders by seq.
    doc = document(*(portion(seq, texts[seq]) for seq in (3, 0, 4, 1, 2)))
    assert render_text(doc) == "".join(texts[seq] for seq in sorted(texts))


def test_empty_document_renders_empty() -> None:
    assert render_text(document()) == ""


BAD_SPANS = [
    ("inverted", lambda: ReleaseSpan(5, 3, ("(b)(6)",))),
    ("empty", lambda: ReleaseSpan(3, 3, ("(b)(6)",))),
    ("negative", lambda: ReleaseSpan(-1, 3, ("(b)(6)",))),
    ("code with a space", lambda: ReleaseSpan(0, 3, ("(b) (6)",))),
    ("code with a bracket", lambda: ReleaseSpan(0, 3, ("(b)(6)]",))),
    ("empty code", lambda: ReleaseSpan(0, 3, ("",))),
    ("past the end", lambda: portion(action=REDACT, spans=(span(15, 21),))),
    ("unsorted", lambda: portion(action=REDACT, spans=(span(6, 11), span(0, 5)))),
    ("overlapping", lambda: portion(action=REDACT, spans=(span(0, 7), span(6, 11)))),
    ("released with spans", lambda: portion(action=RELEASE, spans=(span(0, 5),))),
    ("unknown action", lambda: portion(action=cast(PortionAction, "refer"))),
    ("bad portion code", lambda: portion(action=WITHHOLD, codes=("25 X1",))),
    ("repeated seq", lambda: document(portion(1), portion(1))),
    ("release without approver", lambda: replace(document(), approvers=())),
    ("released_on a datetime", lambda: replace(document(), released_on=datetime(2025, 6, 1))),
]


@pytest.mark.parametrize("build", [c[1] for c in BAD_SPANS], ids=[c[0] for c in BAD_SPANS])
def test_malformed_input_is_a_value_error(build: object) -> None:
    assert callable(build)
    with pytest.raises(ValueError):  # noqa: PT011 - each case has its own message
        build()


def test_a_preview_needs_no_approver_and_a_plain_action_string_is_accepted() -> None:
    plain: Any = "redact"  # as a caller holding the database's string might pass it
    doc = replace(
        document(portion(action=plain, spans=(span(0, 5),))), approvers=(), is_preview=True
    )
    assert doc.portions[0].action is REDACT
    assert render_text(doc) == "[REDACTED (b)(6)] Bravo Charlie\n"


def test_the_renderer_rechecks_spans_that_bypassed_the_constructor() -> None:
    bad = portion(action=REDACT, spans=(span(0, 5),))
    object.__setattr__(bad, "spans", (span(6, 11), span(0, 5)))
    with pytest.raises(ValueError, match="overlaps or precedes"):
        render_text(document(bad))
    object.__setattr__(bad, "spans", (span(6, 40),))
    with pytest.raises(ValueError, match="past the portion text"):
        render_text(document(bad))
