"""The PDF's fixed-width layout (pure): boxes where spans were, wrapping, banners, pages."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from test_release_pdf import seed_document
from test_release_text import document, portion

from service.release import PortionAction, ReleaseSpan
from service.release.pdf_layout import Banner, BoxRun, Row, TextRun, layout, paginate

RELEASE_PACKAGE = Path(__file__).resolve().parents[2] / "service" / "release"


def rows_of(text: str, *spans: ReleaseSpan, width: int = 80) -> tuple[Row | Banner, ...]:
    action = PortionAction.redact if spans else PortionAction.release
    return layout(document(portion(1, text, action, spans=spans)), width=width)


def test_the_seed_name_becomes_a_box_of_its_length_in_place() -> None:
    rows = [line for line in layout(seed_document()) if isinstance(line, Row)]
    [row] = [r for r in rows if any(isinstance(run, BoxRun) for run in r.runs)]
    assert row == Row(
        (TextRun(0, "December 19 with MOFA officials "), BoxRun(32, 14), TextRun(46, " of the")),
        ("(b)(6)",),
    )
    banners = [line for line in layout(seed_document()) if isinstance(line, Banner)]
    assert banners == [Banner("¶6.", "(b)(1) 1.4(d)", hidden=False)]


def test_touching_spans_are_two_boxes_with_their_codes_in_order() -> None:
    assert rows_of(
        "Alpha Bravo\n", ReleaseSpan(0, 5, ("25X1",)), ReleaseSpan(5, 11, ("(b)(6)",))
    ) == (Row((BoxRun(0, 5), BoxRun(5, 6)), ("25X1", "(b)(6)")),)


def test_lines_wrap_at_a_released_space_or_a_box_never_dropping_a_redacted_space() -> None:
    text = "aaaa bbbb cccc dddd\n"
    # The space at 9 is redacted: it is kept as a box cell, and the row may end before it.
    assert rows_of(text, ReleaseSpan(9, 10, ("25X1",)), width=12) == (
        Row((TextRun(0, "aaaa bbbb"),)),
        Row((BoxRun(0, 1), TextRun(1, "cccc dddd")), ("25X1",)),
    )
    assert rows_of(text, width=12) == (
        Row((TextRun(0, "aaaa bbbb"),)),
        Row((TextRun(0, "cccc dddd"),)),
    )
    assert rows_of("abcdefghijklmn\n", width=6) == (
        Row((TextRun(0, "abcdef"),)),
        Row((TextRun(0, "ghijkl"),)),
        Row((TextRun(0, "mn"),)),
    )


def test_a_box_splits_rather_than_wrapping_to_the_next_row_whole() -> None:
    assert rows_of("(S) " + "x" * 12 + "\n", ReleaseSpan(4, 16, ("25X1",)), width=10) == (
        Row((TextRun(0, "(S) "), BoxRun(4, 6)), ("25X1",)),
        Row((BoxRun(0, 6),)),
    )


def test_a_long_span_continues_across_rows_and_is_noted_once() -> None:
    assert rows_of("ab" + "x" * 25 + "\n", ReleaseSpan(2, 27, ("25X1",)), width=10) == (
        Row((TextRun(0, "ab"), BoxRun(2, 8)), ("25X1",)),
        Row((BoxRun(0, 10),)),
        Row((BoxRun(0, 7),)),
    )


def test_a_span_across_a_line_break_does_not_reproduce_the_break() -> None:
    assert rows_of("one\ntwo\n", ReleaseSpan(2, 5, ("25X1",))) == (
        Row((TextRun(0, "on"), BoxRun(2, 3), TextRun(5, "wo")), ("25X1",)),
    )


def test_characters_courier_cannot_show_are_substituted_visibly() -> None:
    assert rows_of("a\tb 日本 ¶ é\r\n") == (Row((TextRun(0, "a b ?? ¶ é"),)),)


def test_withheld_and_hidden_portions_are_banners_on_their_own_rows() -> None:
    doc = document(
        portion(0, "head"),
        portion(1, "secret\n", PortionAction.withhold, number="1", codes=("25X1", "(b)(1)")),
        portion(2, None, number="2"),
        portion(3, "tail\n", PortionAction.withhold),
    )
    assert layout(doc) == (
        Row((TextRun(0, "head"),)),
        Banner("¶1.", "25X1 (b)(1)", hidden=False),
        Row(),
        Banner("¶2.", "", hidden=True),
        Row(),
        Banner("", "REDACTED", hidden=False),
    )


def test_pages_fill_to_capacity_and_never_open_on_a_blank_row() -> None:
    text = Row((TextRun(0, "x"),))
    blank = Row()
    lines = (text, text, blank, text, blank, blank, text)
    assert paginate(lines, first=2, rest=3) == ((text, text), (text, blank, blank), (text,))
    assert paginate((), first=2, rest=3) == ((),)
    with pytest.raises(ValueError, match="at least one line"):
        paginate(lines, first=0, rest=3)


@pytest.mark.parametrize("path", sorted(RELEASE_PACKAGE.glob("*.py")), ids=lambda p: p.name)
def test_release_modules_import_no_web_framework_and_no_database(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    imported = {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    }
    imported |= {
        node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module
    }
    forbidden = {"fastapi", "starlette", "sqlalchemy", "sqlmodel", "alembic", "psycopg"}
    assert {name.split(".")[0] for name in imported} & forbidden == set()
