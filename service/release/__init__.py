"""Rendering a reviewed cable for release: text, JSON and PDF (PURE: no database, no web).

Build a ``ReleaseDocument`` and call ``render_text``, ``render_json`` or
``render_pdf``. Whatever the format, redacted characters never reach the output;
see ``redaction`` for how that is kept and ``docs/release.md`` for the conventions.
"""

from service.release.jsondoc import render_json
from service.release.model import PortionAction, ReleaseDocument, ReleasePortion, ReleaseSpan
from service.release.pdf import render_pdf
from service.release.text import render_text

__all__ = [
    "PortionAction",
    "ReleaseDocument",
    "ReleasePortion",
    "ReleaseSpan",
    "render_json",
    "render_pdf",
    "render_text",
]
