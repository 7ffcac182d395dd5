"""JSON release: the released text portion by portion, with the spans as data.

PURE module. The result is plain ``dict``/``list``/``str``/``int``/``bool``/``None``
ready for ``json.dumps``. Invariants:

* Redacted characters never reach the output: each portion's ``"text"`` is
  ``redaction.released_text`` (spans replaced by ``[REDACTED <codes>]``), and
  ``"redactions"`` carry only offsets and codes.
* ``"redactions"`` offsets are half-open offsets into the ORIGINAL portion text
  (metadata for the reader, not content); they are listed only for ``redact``
  portions, since a withheld portion is one marker line whatever its spans.
* A ``withhold`` portion's ``"text"`` is its marker line (``¶6. [REDACTED 1.4(d)]``).
* A portion above the viewer's clearance (``text`` ``None``, previews only) shows
  its ``seq``, ``number`` and ``action``; its ``"text"`` is ``null`` and its codes
  and span offsets are not disclosed (``[]``).
* ``"subject"`` is given only when it occurs verbatim in the released text
  (``redaction.disclosed``), else ``null``.
"""

from __future__ import annotations

from service.release.model import PortionAction, ReleaseDocument, ReleasePortion
from service.release.redaction import disclosed, released_text
from service.release.text import render_text


def _portion(portion: ReleasePortion) -> dict[str, object]:
    hidden = portion.text is None
    redactions: list[dict[str, object]] = []
    if not hidden and portion.action == PortionAction.redact:
        redactions = [
            {"start": span.start, "end": span.end, "codes": list(span.codes)}
            for span in portion.spans
        ]
    return {
        "seq": portion.seq,
        "number": portion.number,
        "action": portion.action.value,
        "codes": [] if hidden else list(portion.codes),
        "text": None if hidden else released_text(portion),
        "redactions": redactions,
    }


def render_json(doc: ReleaseDocument) -> dict[str, object]:
    """``{ref_id, subject, classification, released_on, approvers, preview, portions}``.

    ``ValueError`` on malformed spans.
    """
    return {
        "ref_id": doc.ref_id,
        "subject": disclosed(doc.subject, render_text(doc)),
        "classification": doc.classification,
        "released_on": doc.released_on.isoformat(),
        "approvers": list(doc.approvers),
        "preview": doc.is_preview,
        "portions": [_portion(portion) for portion in doc.ordered()],
    }
