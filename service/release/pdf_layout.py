"""Fixed-width page layout of a release, before any drawing: rows of runs.

PURE module (no reportlab here; ``pdf.py`` draws what this computes). The body
of the PDF is the text release (``text.py``) laid out in a fixed-width grid of
``WIDTH`` cells, with each ``[REDACTED ...]`` marker replaced by a box as many
cells wide as the span it stands for. Invariants:

* Redacted characters never reach the layout: it is built from
  ``redaction.pieces`` only, so a box knows its width and codes, never its text.
  What a box reveals is the span's length, as a black bar on paper does; line
  breaks inside a span are not reproduced (the row simply continues).
* Rows hold at most ``WIDTH`` cells. Long lines wrap at the last released space
  that fits or inside or before a box, else mid-word; never by dropping a
  redacted character, whose nature (space or not) would otherwise show.
* Each span's codes are noted once, on the row where its box starts, in the
  order the boxes appear; touching spans stay separate boxes.
* A withheld portion, or one hidden from the viewer, is a ``Banner`` on a row of
  its own, followed by a blank row when another portion follows (as in the text).
* Characters the PDF's standard Courier font cannot show are drawn as ``?``,
  control characters as spaces, carriage returns not at all: a substitution
  that never turns a released character into a redacted-looking one.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from itertools import groupby

from service.release.model import ReleaseDocument
from service.release.redaction import Kept, is_visible, paragraph_label, pieces

WIDTH = 80
"""Cells per row: cables are fixed-width telegrams of at most 69 characters a line."""


@dataclass(frozen=True, slots=True)
class TextRun:
    """Released characters starting at ``column``."""

    column: int
    text: str


@dataclass(frozen=True, slots=True)
class BoxRun:
    """A redaction box ``width`` cells wide starting at ``column``."""

    column: int
    width: int


Run = TextRun | BoxRun


@dataclass(frozen=True, slots=True)
class Row:
    """One body line: its runs left to right, and the codes of the boxes starting on it."""

    runs: tuple[Run, ...] = ()
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Banner:
    """A whole portion not shown: ``label`` ``¶6.`` or empty; ``codes`` space-joined.

    ``hidden`` is true for a portion above the viewer's clearance (no codes then).
    """

    label: str
    codes: str
    hidden: bool


Line = Row | Banner


def displayable(text: str) -> str:
    """``text`` as the standard PDF fonts can draw it (the substitutions above)."""
    return "".join(_display(char) for char in text)


def _display(char: str) -> str:
    if char == "\r":
        return ""
    if unicodedata.category(char) == "Cc":
        return " "
    try:
        char.encode("cp1252")
    except UnicodeEncodeError:
        return "?"
    return char


def _codes_note(codes: tuple[str, ...]) -> str:
    return " ".join(codes) if codes else "REDACTED"


@dataclass(slots=True)
class _Builder:
    width: int
    lines: list[Line] = field(default_factory=list)
    cells: list[str | int] = field(default_factory=list)  # a released char, or a span's ordinal
    notes: list[str] = field(default_factory=list)  # codes note per span ordinal
    noted: set[int] = field(default_factory=set)

    def kept(self, text: str) -> None:
        for char in text:
            if char == "\n":
                self.end_line()
            else:
                self.cells.extend(_display(char))

    def removed(self, length: int, codes: tuple[str, ...]) -> None:
        ordinal = len(self.notes)
        self.notes.append(_codes_note(codes))
        self.cells.extend([ordinal] * length)

    def banner(self, banner: Banner, *, more: bool) -> None:
        if self.cells:
            self.end_line()
        self.lines.append(banner)
        if more:
            self.lines.append(Row())

    def end_line(self) -> None:
        cells = self.cells
        self.cells = []
        while len(cells) > self.width:
            cut = self._break(cells)
            self.lines.append(self._row(cells[:cut]))
            cells = cells[cut + 1 :] if cells[cut] == " " else cells[cut:]
        self.lines.append(self._row(cells))

    def finish(self) -> tuple[Line, ...]:
        if self.cells:
            self.end_line()
        return tuple(self.lines)

    def _break(self, cells: list[str | int]) -> int:
        # A row may end at a released space (dropped) or just before a box cell (a box
        # splits anywhere: its cells are all alike); else it is cut mid-word.
        for index in range(self.width, 0, -1):
            if cells[index] == " " or isinstance(cells[index], int):
                return index
        return self.width

    def _row(self, cells: list[str | int]) -> Row:
        runs: list[Run] = []
        notes: list[str] = []
        column = 0
        for key, group in groupby(cells, key=_span_of):
            run = list(group)
            if key is None:
                runs.append(TextRun(column, "".join(str(cell) for cell in run)))
            else:
                runs.append(BoxRun(column, len(run)))
                if key not in self.noted:
                    self.noted.add(key)
                    notes.append(self.notes[key])
            column += len(run)
        last = runs[-1] if runs else None
        if isinstance(last, TextRun):
            runs.pop()
            if last.text.rstrip():
                runs.append(TextRun(last.column, last.text.rstrip()))
        return Row(tuple(runs), tuple(notes))


def _span_of(cell: str | int) -> int | None:
    return cell if isinstance(cell, int) else None


def layout(doc: ReleaseDocument, *, width: int = WIDTH) -> tuple[Line, ...]:
    """The body lines of ``doc``'s release; ``ValueError`` on malformed spans."""
    builder = _Builder(width)
    ordered = doc.ordered()
    for index, portion in enumerate(ordered):
        if not is_visible(portion):
            hidden = portion.text is None
            codes = "" if hidden else _codes_note(portion.codes)
            banner = Banner(paragraph_label(portion.number), codes, hidden)
            builder.banner(banner, more=index < len(ordered) - 1)
            continue
        for piece in pieces(portion):
            if isinstance(piece, Kept):
                builder.kept(piece.text)
            else:
                builder.removed(piece.length, piece.codes)
    return builder.finish()


def paginate(lines: tuple[Line, ...], *, first: int, rest: int) -> tuple[tuple[Line, ...], ...]:
    """Split ``lines`` into pages of ``first`` then ``rest`` lines; blank rows do not
    open a page. Always at least one (possibly empty) page."""
    if first < 1 or rest < 1:
        raise ValueError("a page holds at least one line")
    pages: list[tuple[Line, ...]] = []
    current: list[Line] = []
    capacity = first
    for line in lines:
        if len(current) == capacity:
            pages.append(tuple(current))
            current = []
            capacity = rest
        if not current and pages and isinstance(line, Row) and not line.runs:
            continue
        current.append(line)
    pages.append(tuple(current))
    return tuple(pages)
