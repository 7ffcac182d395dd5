"""The signature: the signer's surname alone on one of the last lines.

Invariants: only the last lines are read, from the end, skipping blank lines
and trailers that follow a signature (classification lines, ``NNNN``,
``SIPDIS``, page headers, ``Declassified/Released ...`` stamps, ``NOTE ...``
lines, ``2004CARACA01540 - UNCLASSIFIED``); the first other line is the
signature only when it is one to three upper-case words (or one capitalised
word) or ends with such a word after a full stop (``END OF TEXT. BAKER``);
otherwise the cable has no signer (it is cut off). Names are kept as written
except for trailing ``.`` and ``#``; ``c14n`` upper-cases them.
"""

from __future__ import annotations

import re

__all__ = ["extract_signers"]

_TAIL = 2000
_TRAILER = re.compile(
    r"[ \t]*(?:"
    r"(?:UNCLASSIFIED|CONFIDENTIAL|SECRET|LIMITED OFFICIAL USE|SENSITIVE(?: BUT UNCLASSIFIED)?"
    r"|UNCLAS)(?:[ \t]*//[ \t]*[A-Z ]+)?"
    r"|N{3,4}|SIPDIS|[#>.\-=_* \t]*"
    r"|[A-Z][A-Z .]+\s0{2,}\d+\s+\d{3}(?:\.\d)?\s+OF\s+\d{3}"
    r")[ \t.#]*(?:<br>)?[ \t\r\\]*$"
    r"|[ \t]*(?:(?i:DECLASSIFIED/RELEASED|SYSTEMATIC REVIEW|REVIEW[ \t]+\d|NOTE\b|PAGE[ \t]+\d)"
    r"|\d{4}[A-Z]+\d+[ \t]*-)"
)
_WORDS = re.compile(r"[A-Z][A-Z'\-]*(?:[ \t]+[A-Z][A-Z'\-]*){0,2}")
_CAPITALISED = re.compile(r"[A-Z][a-z][A-Za-z'\-]+")
_AFTER_STOP = re.compile(r"[.:][ \t]+(?P<name>[A-Z][A-Z'\-]{2,})$")
_NOT_NAMES = frozenset(
    {"END", "TEXT", "END TEXT", "SUMMARY", "COMMENT", "END COMMENT", "UNQUOTE", "QUOTE",
     "REGARDS", "BT", "NNNN", "SIPDIS", "NOFORN", "FYI", "END FYI", "TEXT ENDS", "SECTION"}
)  # fmt: skip


def _signature(line: str) -> list[str] | None:
    value = line.strip().rstrip("#.").strip()
    if not value:
        return None
    parts = [p.strip() for p in value.split(",") if p.strip()]
    if parts and all(_WORDS.fullmatch(p) and p not in _NOT_NAMES for p in parts):
        return parts
    if _CAPITALISED.fullmatch(value):
        return [value]
    m = _AFTER_STOP.search(value)
    if m and m.group("name") not in _NOT_NAMES:
        return [m.group("name")]
    return None


def extract_signers(text: str, *, c14n: bool = False) -> list[str]:
    """The signer names at the end of ``text`` (``[]`` when the cable ends otherwise)."""
    lines = text[-_TAIL:].replace("\r", "").split("\n")
    for line in reversed(lines):
        if _TRAILER.match(line):
            continue
        names = _signature(line) or []
        return [n.upper() for n in names] if c14n else names
    return []
