"""The one place where a portion's text is cut into released and removed pieces.

PURE module. Every renderer (text, JSON, PDF) reads portion text only through
``pieces``, ``released_text`` and ``disclosed``; none of them slices
``ReleasePortion.text`` itself.

Invariants:

* Redacted characters never reach the output: ``pieces`` returns ``Kept`` pieces
  holding exactly the characters outside every span and ``Removed`` pieces that
  hold only the span's length and codes, never its characters.
* The ``Kept`` texts, in order, are the portion text with the span ranges cut out;
  ``Kept`` and ``Removed`` alternate as the spans dictate (touching spans give two
  consecutive ``Removed`` pieces, a span at either end gives no empty ``Kept``).
* A ``withhold`` portion and a portion hidden from the viewer's clearance
  contribute a fixed marker line and nothing of their text, not even its length.
* Spans are re-checked here (sorted, disjoint, inside the text): ``ValueError``
  even if a malformed portion got past its constructor.
"""

from __future__ import annotations

from dataclasses import dataclass

from service.release.model import PortionAction, ReleasePortion, check_spans

HIDDEN = "[WITHHELD FOR CLEARANCE]"
"""The line shown for a portion above the viewer's clearance (previews only)."""


@dataclass(frozen=True, slots=True)
class Kept:
    """Released characters, exactly as written."""

    text: str


@dataclass(frozen=True, slots=True)
class Removed:
    """A redacted span: how many characters were removed and under which codes."""

    length: int
    codes: tuple[str, ...]


Piece = Kept | Removed


def marker(codes: tuple[str, ...]) -> str:
    """``[REDACTED (b)(1) 1.4(d)]``: the codes in the order given, space-joined."""
    return f"[REDACTED {' '.join(codes)}]" if codes else "[REDACTED]"


def paragraph_label(number: str | None) -> str:
    """``¶3.`` for paragraph ``"3"``; empty for the header and unnumbered portions."""
    return f"¶{number}." if number else ""


def is_visible(portion: ReleasePortion) -> bool:
    """True when the portion's own text (possibly redacted) is shown."""
    return portion.text is not None and portion.action != PortionAction.withhold


def pieces(portion: ReleasePortion) -> tuple[Piece, ...]:
    """The portion cut at its spans; only for visible portions (``is_visible``).

    Raises ``ValueError`` for a hidden or withheld portion, or malformed spans.
    """
    text = portion.text
    if text is None or portion.action == PortionAction.withhold:
        raise ValueError(f"portion {portion.seq} is not shown; it has no pieces")
    spans = portion.spans if portion.action == PortionAction.redact else ()
    check_spans(spans, len(text))
    out: list[Piece] = []
    cursor = 0
    for span in spans:
        if span.start > cursor:
            out.append(Kept(text[cursor : span.start]))
        out.append(Removed(span.end - span.start, span.codes))
        cursor = span.end
    if cursor < len(text):
        out.append(Kept(text[cursor:]))
    return tuple(out)


def withheld_line(portion: ReleasePortion) -> str:
    """The one line standing for a withheld or hidden portion, number kept.

    ``¶6. [REDACTED 1.4(d)]``, ``[REDACTED 1.4(d)]`` (no number) or
    ``¶6. [WITHHELD FOR CLEARANCE]``.
    """
    label = paragraph_label(portion.number)
    body = HIDDEN if portion.text is None else marker(portion.codes)
    return f"{label} {body}" if label else body


def released_text(portion: ReleasePortion) -> str:
    """What the release shows for this portion, without any layout around it.

    Visible portions: the text with each span replaced by its ``marker``.
    Withheld and hidden portions: their ``withheld_line``.
    """
    if not is_visible(portion):
        return withheld_line(portion)
    return "".join(
        piece.text if isinstance(piece, Kept) else marker(piece.codes) for piece in pieces(portion)
    )


def disclosed(value: str | None, released: str) -> str | None:
    """``value`` when it occurs verbatim in ``released``, else ``None``.

    Used for metadata copied from the cable's text (subject, origin): showing it
    can then add no character the released text does not already show.
    """
    if value and value in released:
        return value
    return None
