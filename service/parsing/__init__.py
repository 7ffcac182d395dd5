"""The PURE cable parser: cable text in, ``ParsedCable`` out (no database, no web).

``parse_cable`` is the entry point; the ``extract_*`` functions read one field
from a snippet of cable text (they are what ``parse_cable`` uses on the header,
exposed for tests and for callers that only have a fragment).

Invariants kept by the package: portions rejoin to the input exactly; only
unusable input raises (``CableParseError``); values come from the text only.
"""

from __future__ import annotations

from .cable import extract_decl_date, parse_cable
from .classified_by import extract_classified_by, normalise_name
from .errors import CableParseError, Problem
from .model import ParsedCable, ParsedPortion, Recipient
from .recipients import extract_info_recipients, extract_recipients
from .references import extract_references
from .signers import extract_signers
from .subject import extract_subject
from .tags import extract_tags

__all__ = [
    "CableParseError",
    "ParsedCable",
    "ParsedPortion",
    "Problem",
    "Recipient",
    "extract_classified_by",
    "extract_decl_date",
    "extract_info_recipients",
    "extract_recipients",
    "extract_references",
    "extract_signers",
    "extract_subject",
    "extract_tags",
    "normalise_name",
    "parse_cable",
]
