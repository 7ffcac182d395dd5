"""Regular expressions shared by the header and body scanners.

Invariants: every pattern is compiled once at import; line patterns use
``re.MULTILINE`` and never consume the line end, so a match start is always a
line start (or, for ``PARA_START``, the first non-blank character after it).
"""

from __future__ import annotations

import re

__all__ = [
    "CAPTION_LINE",
    "CAVEAT_WORD",
    "DASH_LINE",
    "HEADER_LABEL",
    "PAGE_LINE",
    "PARA_START",
    "may_hold_page_line",
]

PARA_START = re.compile(r"^[ \t]*(?:¶[ \t]*)?(?P<num>\d{1,3})[ \t]*\.(?![\d.])", re.MULTILINE)
"""A numbered paragraph: ``¶1. (C)``, ``1.(C)``, ``  ¶12.  (S)`` (not ``1.4`` or ``1..``)."""

DASH_LINE = re.compile(r"[ \t]*(?:[-=_][ \t]*){3,}\\?[ \t]*\r?")
"""A line of dashes framing a heading (use with ``fullmatch`` on one line)."""

_CAVEATS = (
    r"SIPDIS|NOFORN|EXDIS|NODIS|STADIS|LIMDIS|ROGER|CHEROKEE|NOT FOR INTERNET DISTRIBUTION"
    r"|SENSITIVE(?: BUT UNCLASSIFIED)?|LIMITED OFFICIAL USE|FOR OFFICIAL USE ONLY"
)
CAVEAT_WORD = re.compile(rf"\b(?=[ceflnrs])(?:{_CAVEATS})\b", re.IGNORECASE)
"""A caveat caption word or phrase (the look-ahead class, the words' first letters,
only lets the search skip positions where none can start)."""

CAPTION_LINE = re.compile(
    rf"^[ \t]*(?:(?:UNCLASSIFIED|CONFIDENTIAL|SECRET)//[A-Z/ ]+|(?:{_CAVEATS})"
    rf"(?:[ \t]*[,;/]?[ \t]*(?:{_CAVEATS}))*)[ \t.,;\\]*(?:<br>)?[ \t]*\r?$",
    re.MULTILINE | re.IGNORECASE,
)
"""A line holding only caveat captions (``SIPDIS``, ``NOFORN, NOT FOR INTERNET ...``)."""

PAGE_LINE = re.compile(
    r"(?:\b(?:UNCLASSIFIED|CONFIDENTIAL|SECRET|LIMITED OFFICIAL USE)\s+)?"
    r"PAGE\s+\d{2,3}\s+[A-Z][A-Z ]*?\s+\d{4,8}\s+(?:\d{2}\s+OF\s+\d{2}\s+)?\d{6}Z"
    r"|\b[A-Z][A-Z ]*?\s+0{2,}\d{2,6}\s+\d{3}(?:\.\d)?\s+OF\s+\d{3}\b",
)
"""Page-break junk of printed copies and HTML pages (``PAGE 02 ROME 01196 01 OF 02 082030Z``,
``MADRID 00000869  001.2 OF 004``)."""


def may_hold_page_line(text: str) -> bool:
    """False when ``PAGE_LINE`` cannot match anywhere in ``text``.

    Every match holds ``PAGE`` or ``00``; the lazy ``[A-Z ]*?`` of the second
    form makes a search over an all-capitals line (a TAGS value) slow, so the
    two substring tests go first.
    """
    return "PAGE" in text or "00" in text


HEADER_LABEL = re.compile(
    r"(?P<eo>(?<![A-Za-z])E\.?[ \t]?O\.?[ \t]*\d{4,5}\b)"
    r"|(?P<tags>(?<![A-Za-z])(?:TAGS?|TAS|TABS|TGS|TAGES)(?:[ \t]*[:;,]|[ \t]+(?=[A-Za-z(])))"
    r"|(?P<subject>(?<![A-Za-z(])(?:S?UBJ(?:ECT)?[ \t]*:|(?-i:S?UBJ(?:ECT)?)[ \t]+(?=\S)))"
    r"|(?P<ref>(?<![A-Za-z])(?:REF(?:S|TELS?|\(S\))?[ \t]*[:.]|(?-i:REFS?)[ \t]+(?=[A-Z(\[]\S)))"
    r"|(?P<cby>(?<![A-Za-z])CLASSIFIED[ \t]+BY(?![ \t]+LINE))",
    re.IGNORECASE,
)
"""The labels of the header fields, wherever they stand on a line."""
