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
_MAX_LINES = 40
_TRAILER = re.compile(
    r"[ \t]*(?:"
    r"(?:UNCLASSIFIED|CONFIDENTIAL|SECRET|LIMITED OFFICIAL USE|SENSITIVE(?: BUT UNCLASSIFIED)?"
    r"|UNCLAS)(?:[ \t]*//[ \t]*[A-Z ]+)?"
    r"|(?i:N{3,4}|SIPDIS|END CABLE TEXT)|[#>.\-=_* \t]*"
    r"|[A-Z][A-Z .]+\s0{2,}\d+\s+\d{3}(?:\.\d)?\s+OF\s+\d{3}"
    r")[ \t.#]*(?:<br>)?[ \t\r\\]*$"
    r"|[ \t]*(?:(?i:DECLASSIFIED/RELEASED|SYSTEMATIC REVIEW|REVIEW[ \t]+\d|NOTE\b|PAGE[ \t]+\d)"
    r"|\d{4}[A-Z]+\d+[ \t]*-)"
)
_WORDS = re.compile(r"[A-Z][A-Z'\-]*(?:[ \t]+[A-Z][A-Z'\-]*){0,2}")
_CAPITALISED = re.compile(r"[A-Z][a-z][A-Za-z'\-]+")
_AFTER_STOP = re.compile(
    r"[.:][ \t]+(?:END[ \t]+(?:OF[ \t]+)?(?:COMMENT|TEXT|SUMMARY|FYI)\.?[ \t]+)?"
    r"(?P<name>[A-Z][A-Z'\-]{2,})$"
)
_SHORT = 24
_SENTENCE_ENDS = (".", ":", ")", '"', "'", "!", "?", "-", "/", ";")
_LEAD_WORDS = frozenset({"END", "TEXT", "ENDS", "FYI", "QUOTE", "UNQUOTE", "COMMENT", "SUMMARY"})
_NOT_NAMES = frozenset(
    {"END", "TEXT", "END TEXT", "SUMMARY", "COMMENT", "END COMMENT", "UNQUOTE", "QUOTE",
     "REGARDS", "BT", "NNNN", "SIPDIS", "NOFORN", "FYI", "END FYI", "TEXT ENDS", "SECTION"}
)  # fmt: skip


def _ends_sentence(previous: str | None) -> bool:
    """True when the line before a signature cannot continue into it."""
    if previous is None:
        return True
    value = previous.replace("\\", " ").strip()
    return not value or len(value) <= _SHORT or value.endswith(_SENTENCE_ENDS)


def _signature(line: str, previous: str | None) -> list[str] | None:
    value = line.replace("\\", " ").replace("<br>", " ").strip()
    if value.endswith(".."):
        return None
    m = _AFTER_STOP.search(value.rstrip("#. "))
    if m and m.group("name") not in _NOT_NAMES and " " in value.strip():
        return [m.group("name")]
    if not _ends_sentence(previous):
        return None
    value = value.rstrip("#.").strip()
    if not value:
        return None
    words = value.split()
    for i, word in enumerate(words):
        if word in _LEAD_WORDS:
            value = " ".join(words[i + 1 :])
    if len(set(value.split())) == 1:
        value = value.split()[0]
    parts = [p.strip() for p in value.split(",") if p.strip()]
    if parts and all(_WORDS.fullmatch(p) and p not in _NOT_NAMES for p in parts):
        return parts
    if _CAPITALISED.fullmatch(value):
        return [value]
    return None


def extract_signers(text: str, *, c14n: bool = False) -> list[str]:
    """The signer names at the end of ``text`` (``[]`` when the cable ends otherwise)."""
    lines = text[-_TAIL:].replace("\r", "").rsplit("\n", _MAX_LINES)
    for i in range(len(lines) - 1, -1, -1):
        line = lines[i]
        if _TRAILER.match(line):
            continue
        names = _signature(line, lines[i - 1] if i > 0 else None) or []
        return [n.upper() for n in names] if c14n else names
    return []
