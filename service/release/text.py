"""Plain-text release: the cable's text with the release conventions applied.

PURE module (``DOMAIN.md`` section 8). Invariants:

* Redacted characters never reach the output: portion text is read only through
  ``redaction.released_text`` (see that module).
* Portions are joined in ``seq`` order, header (``seq`` 0) included, with nothing
  added between visible portions: a document whose every portion is ``release``
  renders as the exact concatenation of its portion texts.
* Each span becomes ``[REDACTED <codes>]`` in place.
* A withheld portion, or one above the viewer's clearance, becomes one line of
  its own (``¶6. [REDACTED 1.4(d)]``, ``¶6. [WITHHELD FOR CLEARANCE]``): a line
  break is added before it when the text so far does not end one, and a blank
  line after it when another portion follows. Nothing of its text, not even its
  trailing whitespace, is kept.
"""

from __future__ import annotations

from service.release.model import ReleaseDocument
from service.release.redaction import is_visible, released_text


def render_text(doc: ReleaseDocument) -> str:
    """The released (or previewed) text of ``doc``; ``ValueError`` on malformed spans."""
    ordered = doc.ordered()
    out: list[str] = []
    at_line_start = True
    for index, portion in enumerate(ordered):
        shown = released_text(portion)
        if is_visible(portion):
            out.append(shown)
            if shown:
                at_line_start = shown.endswith("\n")
            continue
        if not at_line_start:
            out.append("\n")
        out.append(shown + "\n")
        if index < len(ordered) - 1:
            out.append("\n")
        at_line_start = True
    return "".join(out)
