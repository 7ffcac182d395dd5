"""PDF release: the cable laid out in Courier, black boxes where text was removed.

PURE module: bytes in memory, no database, no web framework; reportlab's canvas
draws the rows that ``pdf_layout`` computed. Invariants:

* Redacted characters never reach the PDF: not in the text layer, the metadata or
  any outline. Each row is drawn from its released runs only and a filled box of
  the removed length is drawn where the text was; nothing is ever drawn and then
  covered. Metadata is the ``ref_id`` (title), ``Declass`` (author and creator) and
  a fixed subject; no outline or bookmark is created.
* Each box's codes are printed in the right margin beside the row where it
  starts. A withheld portion is a full-width black bar after its paragraph number
  with its codes in the margin; a portion above the viewer's clearance is a grey
  bar reading ``WITHHELD FOR CLEARANCE``.
* A release carries on its first page the stamp ``DECLASSIFIED`` /
  ``Authority: E.O. 13526`` / ``By: <approvers>`` / ``Date: <released_on>``, and
  its original classification lined through in every page header. A preview
  never says ``DECLASSIFIED``: it carries a ``PREVIEW - NOT RELEASED`` stamp,
  footer and diagonal watermark, and its classification stays unstruck.
* The same document always gives the same bytes (reportlab ``invariant``).
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from reportlab.lib.pagesizes import letter
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from service.release.model import ReleaseDocument
from service.release.pdf_layout import (
    WIDTH,
    Banner,
    BoxRun,
    Line,
    Row,
    TextRun,
    displayable,
    layout,
    paginate,
)
from service.release.redaction import disclosed
from service.release.text import render_text

PAGE_WIDTH, PAGE_HEIGHT = letter
LEFT = 54.0
BOTTOM = 54.0
BODY_FONT = "Courier"
BODY_SIZE = 9.0
CELL = BODY_SIZE * 0.6  # Courier advances every glyph by 600/1000 em
LEADING = 11.5
BODY_RIGHT = LEFT + WIDTH * CELL
NOTE_X = BODY_RIGHT + 8
NOTE_WIDTH = PAGE_WIDTH - NOTE_X - 14
NOTE_FONT = "Helvetica"
NOTE_SIZE = 7.5
HEADER_Y = PAGE_HEIGHT - 36
BODY_TOP = HEADER_Y - 22  # baseline of the first row on a continuation page
STAMP_WIDTH = 190.0
PREVIEW = "PREVIEW - NOT RELEASED"
AUTHORITY = "Authority: E.O. 13526"


@dataclass(frozen=True, slots=True)
class _StampLine:
    text: str
    font: str
    size: float


def _stamp_lines(doc: ReleaseDocument) -> list[_StampLine]:
    inner = STAMP_WIDTH - 16
    if doc.is_preview:
        lines = [_StampLine(PREVIEW, "Helvetica-Bold", 10.5)]
        lines.append(_StampLine("Not declassified: for review only", "Helvetica", 8.5))
        lines.append(_StampLine(f"Rendered for: {doc.released_on.isoformat()}", "Helvetica", 8.5))
        return lines
    lines = [
        _StampLine("DECLASSIFIED", "Helvetica-Bold", 12),
        _StampLine(AUTHORITY, "Helvetica", 9),
    ]
    by = displayable(f"By: {', '.join(doc.approvers)}")
    lines.extend(
        _StampLine(part, "Helvetica", 9) for part in simpleSplit(by, "Helvetica", 9, inner)
    )
    lines.append(_StampLine(f"Date: {doc.released_on.isoformat()}", "Helvetica", 9))
    return lines


def _stamp_height(lines: list[_StampLine]) -> float:
    return 10 + sum(line.size + 3.5 for line in lines)


def _draw_stamp(canvas: Canvas, lines: list[_StampLine], top: float) -> None:
    height = _stamp_height(lines)
    x = PAGE_WIDTH - LEFT - STAMP_WIDTH
    canvas.setLineWidth(1.4)
    canvas.rect(x, top - height, STAMP_WIDTH, height, stroke=1, fill=0)
    y = top - 6
    for line in lines:
        y -= line.size + 1
        canvas.setFont(line.font, line.size)
        canvas.drawString(x + 8, y, line.text)
        y -= 2.5


def _title_lines(doc: ReleaseDocument) -> list[str]:
    """Subject and origin, each only when the released text shows it, wrapped."""
    released = render_text(doc)
    width = PAGE_WIDTH - 2 * LEFT - STAMP_WIDTH - 16
    lines: list[str] = []
    for label, value in (
        ("Subject", disclosed(doc.subject, released)),
        ("Origin", disclosed(doc.origin, released)),
    ):
        if value is not None:
            lines.extend(simpleSplit(displayable(f"{label}: {value}"), "Helvetica", 9, width))
    return lines


def _draw_title(canvas: Canvas, doc: ReleaseDocument, lines: list[str], top: float) -> None:
    y = top - 16
    canvas.setFont("Helvetica-Bold", 16)
    canvas.drawString(LEFT, y, displayable(doc.ref_id))
    canvas.setFont("Helvetica", 9)
    for line in lines:
        y -= 12
        canvas.drawString(LEFT, y, line)


def _title_height(lines: list[str]) -> float:
    return 16 + 12 * len(lines) + 4


def _draw_header(canvas: Canvas, doc: ReleaseDocument, page: int, pages: int) -> None:
    canvas.setFont("Helvetica-Bold", 9)
    canvas.drawString(LEFT, HEADER_Y, displayable(doc.ref_id))
    classification = displayable(doc.classification)
    canvas.drawCentredString(PAGE_WIDTH / 2, HEADER_Y, classification)
    if not doc.is_preview and classification.upper() != "UNCLASSIFIED":
        half = stringWidth(classification, "Helvetica-Bold", 9) / 2 + 2
        canvas.setLineWidth(0.9)
        canvas.line(PAGE_WIDTH / 2 - half, HEADER_Y + 3, PAGE_WIDTH / 2 + half, HEADER_Y + 3)
    canvas.setFont("Helvetica", 8)
    canvas.drawRightString(PAGE_WIDTH - LEFT, HEADER_Y, f"Page {page} of {pages}")
    canvas.setLineWidth(0.5)
    canvas.line(LEFT, HEADER_Y - 6, PAGE_WIDTH - LEFT, HEADER_Y - 6)


def _draw_preview_marks(canvas: Canvas) -> None:
    canvas.saveState()
    canvas.setFillGray(0.86)
    canvas.setFont("Helvetica-Bold", 54)
    canvas.translate(PAGE_WIDTH / 2, PAGE_HEIGHT / 2)
    canvas.rotate(45)
    canvas.drawCentredString(0, 0, PREVIEW)
    canvas.restoreState()
    canvas.setFont("Helvetica-Bold", 9)
    canvas.drawCentredString(PAGE_WIDTH / 2, 30, PREVIEW)


def _box(canvas: Canvas, column: int, cells: int, y: float, *, gray: float = 0.0) -> None:
    # Inset horizontally so that touching spans stay visibly separate boxes.
    canvas.setFillGray(gray)
    canvas.rect(LEFT + column * CELL + 0.6, y - 2.6, cells * CELL - 1.2, 10.2, stroke=0, fill=1)
    canvas.setFillGray(0)


def _draw_banner(canvas: Canvas, banner: Banner, y: float) -> list[str]:
    column = 0
    if banner.label:
        canvas.setFont(BODY_FONT, BODY_SIZE)
        canvas.drawString(LEFT, y, displayable(banner.label))
        column = len(banner.label) + 1
    if banner.hidden:
        _box(canvas, column, WIDTH - column, y, gray=0.82)
        canvas.setFont("Helvetica-Bold", 7)
        canvas.drawString(LEFT + column * CELL + 5, y, "WITHHELD FOR CLEARANCE")
        return []
    _box(canvas, column, WIDTH - column, y)
    canvas.setFillGray(1)
    canvas.setFont("Helvetica-Bold", 7)
    canvas.drawString(LEFT + column * CELL + 5, y, "PORTION WITHHELD")
    canvas.setFillGray(0)
    return [banner.codes]


def _draw_row(canvas: Canvas, row: Row, y: float) -> list[str]:
    for run in row.runs:
        if isinstance(run, TextRun):
            canvas.setFont(BODY_FONT, BODY_SIZE)
            canvas.drawString(LEFT + run.column * CELL, y, run.text)
        elif isinstance(run, BoxRun):
            _box(canvas, run.column, run.width, y)
    return list(row.notes)


def _draw_notes(canvas: Canvas, notes: list[str], y: float, floor: float) -> float:
    """Print ``notes`` in the margin from ``y`` down, never above ``floor`` (the
    bottom of the previous notes); return the new floor."""
    if not notes:
        return floor
    notes = [displayable(note) for note in notes]
    joined = " | ".join(notes)
    parts = (
        [joined]
        if stringWidth(joined, NOTE_FONT, NOTE_SIZE) <= NOTE_WIDTH
        else [p for note in notes for p in simpleSplit(note, NOTE_FONT, NOTE_SIZE, NOTE_WIDTH)]
    )
    y = min(y + 1, floor)
    canvas.setFont(NOTE_FONT, NOTE_SIZE)
    for part in parts:
        canvas.drawString(NOTE_X, y, part)
        y -= NOTE_SIZE + 1.5
    return y


def _draw_body(canvas: Canvas, lines: tuple[Line, ...], top: float) -> None:
    y = top
    floor = top + LEADING
    for line in lines:
        notes = (
            _draw_banner(canvas, line, y)
            if isinstance(line, Banner)
            else _draw_row(canvas, line, y)
        )
        floor = _draw_notes(canvas, notes, y, floor)
        y -= LEADING


def _rows(top: float) -> int:
    return int((top - BOTTOM) // LEADING) + 1


def render_pdf(doc: ReleaseDocument) -> bytes:
    """The release of ``doc`` as PDF bytes (US Letter); ``ValueError`` on malformed spans."""
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=letter, invariant=1, pageCompression=1)
    canvas.setTitle(doc.ref_id)
    canvas.setAuthor("Declass")
    canvas.setCreator("Declass")
    canvas.setSubject(
        "Release preview - not released" if doc.is_preview else "Declassified release"
    )

    stamp = _stamp_lines(doc)
    title = _title_lines(doc)
    block_top = HEADER_Y - 14
    first_top = block_top - max(_stamp_height(stamp), _title_height(title)) - 18
    pages = paginate(layout(doc), first=_rows(first_top), rest=_rows(BODY_TOP))
    for number, page in enumerate(pages, start=1):
        if doc.is_preview:
            _draw_preview_marks(canvas)
        _draw_header(canvas, doc, number, len(pages))
        if number == 1:
            _draw_stamp(canvas, stamp, block_top)
            _draw_title(canvas, doc, title, block_top)
        _draw_body(canvas, page, first_top if number == 1 else BODY_TOP)
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()
