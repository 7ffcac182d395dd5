"""The input of the release renderers: a reviewed cable as plain frozen data.

PURE module: no database, no web framework. The workflow builds these from its
tables at finalize (and for ``?preview=true``); the renderers in this package
turn them into text, JSON and PDF.

Invariants, checked when an object is built (``ValueError`` otherwise, so a
renderer never sees a malformed document):

* A ``ReleaseSpan`` is non-empty and half-open: ``0 <= start < end``; offsets are
  character offsets (Python ``str`` indices) into its portion's text.
* Exemption codes are non-empty and contain no whitespace and no brackets, so the
  marker ``[REDACTED <codes>]`` always reads back unambiguously.
* A portion's spans are sorted, do not overlap (they may touch) and lie inside its
  text when the text is known. A portion whose ``text`` is ``None`` is above the
  viewer's clearance (previews only); its spans cannot be checked against a text
  and are never rendered.
* A ``release`` portion carries no spans: spans on it mean the caller confused
  two decisions, and guessing either way could publish redacted text.
* A document's portions have distinct ``seq``; renderers order them by ``seq``.
* A real release (``is_preview`` false) names at least one approver, and
  ``released_on`` is a ``date``, not a ``datetime``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

_CODE = re.compile(r"[^\s\[\]]+")


class PortionAction(StrEnum):
    """The final decision on a portion, as far as the release is concerned."""

    release = "release"
    redact = "redact"
    withhold = "withhold"


def check_codes(codes: Sequence[str]) -> None:
    """Raise ``ValueError`` unless every code is one non-empty word without brackets."""
    for code in codes:
        if not isinstance(code, str) or not _CODE.fullmatch(code):
            raise ValueError(f"invalid exemption code {code!r}")


@dataclass(frozen=True, slots=True)
class ReleaseSpan:
    """Characters ``[start, end)`` of a portion's text removed under ``codes``."""

    start: int
    end: int
    codes: tuple[str, ...]

    def __post_init__(self) -> None:
        if not 0 <= self.start < self.end:
            raise ValueError(f"span [{self.start}, {self.end}) must satisfy 0 <= start < end")
        check_codes(self.codes)


def check_spans(spans: Sequence[ReleaseSpan], length: int | None) -> None:
    """Raise ``ValueError`` unless ``spans`` are sorted, disjoint and end by ``length``.

    ``length`` ``None`` (text not visible) skips the bound; order and overlap are
    still checked. Touching spans (``a.end == b.start``) are allowed.
    """
    previous_end = 0
    for span in spans:
        if span.start < previous_end:
            raise ValueError(
                f"span [{span.start}, {span.end}) overlaps or precedes the span before it"
            )
        if length is not None and span.end > length:
            raise ValueError(
                f"span [{span.start}, {span.end}) ends past the portion text ({length} chars)"
            )
        previous_end = span.end


@dataclass(frozen=True, slots=True)
class ReleasePortion:
    """One portion (``seq`` 0 is the header) with its final decision.

    ``number`` is the paragraph number as written (``"3"`` renders as ``¶3.``).
    ``text`` ``None``: the viewer may not see this portion (previews only).
    ``spans`` apply to ``redact``; ``codes`` are the portion's codes (used by
    ``withhold``).
    """

    seq: int
    number: str | None
    text: str | None
    action: PortionAction
    spans: tuple[ReleaseSpan, ...] = ()
    codes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        # A plain "redact" from the caller becomes the enum; anything else is ValueError.
        object.__setattr__(self, "action", PortionAction(self.action))
        if self.action == PortionAction.release and self.spans:
            raise ValueError(f"portion {self.seq} is released whole but carries spans")
        check_codes(self.codes)
        check_spans(self.spans, None if self.text is None else len(self.text))


@dataclass(frozen=True, slots=True)
class ReleaseDocument:
    """A cable as it is released (or previewed) on ``released_on``.

    ``subject`` and ``origin`` come from the cable's own text; the renderers show
    them only where they occur verbatim in the released text (see
    ``redaction.disclosed``), so a subject line removed from the header cannot
    come back through them. ``sent_at`` is carried for callers and never printed.
    """

    ref_id: str
    subject: str | None
    classification: str
    origin: str | None
    sent_at: datetime | None
    portions: tuple[ReleasePortion, ...]
    approvers: tuple[str, ...]
    released_on: date
    is_preview: bool = False

    def __post_init__(self) -> None:
        seqs = [portion.seq for portion in self.portions]
        if len(set(seqs)) != len(seqs):
            raise ValueError(f"portions of {self.ref_id} repeat a seq: {sorted(seqs)}")
        if isinstance(self.released_on, datetime):
            raise ValueError("released_on must be a date, not a datetime")
        if not self.is_preview and not self.approvers:
            raise ValueError(f"the release of {self.ref_id} names no approver")

    def ordered(self) -> tuple[ReleasePortion, ...]:
        """The portions in ``seq`` order (header first)."""
        return tuple(sorted(self.portions, key=lambda portion: portion.seq))
