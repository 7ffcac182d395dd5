"""The classification banner that opens the body: ``C O N F I D E N T I A L TOKYO 005624``.

The banner is often glued to the last routing line (``RHMFISS/USFJC O N F I D
E N T I A L TOKYO 005624``, ``TO SECSTATE WASHDC 4926UNCLAS HAVANA 007901``),
so it is found by its shape, not by a line start: a classification word
(spaced, plain, lower-case or damaged: ``SS E C R E T``, ``E C R E T``,
``UUNCLAS``, ``C ONFIDENTIAL``), an optional ``SECTION nn OF mm``, a post and a
serial number.

Invariants: ``find_banner`` never reads before ``start``; the returned
``start`` is where the classification word begins on its line (a doubled or
stray first letter glued to a precedence word or a number is counted as part
of the banner, other glued text is not); the level comes from
``markings.parse_classification``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from service.markings import Level, parse_classification

__all__ = ["Banner", "find_banner"]


def _spaced(word: str, *, optional_first: bool = False) -> str:
    letters = [re.escape(ch) for ch in word if ch != " "]
    head = f"(?:{letters[0]} ?)?" if optional_first else f"{letters[0]} ?"
    return head + " ?".join(letters[1:])


_CLASS = (
    "(?:"
    + "|".join(
        [
            _spaced("TOPSECRET"),
            _spaced("CONFIDENTIAL", optional_first=True),
            _spaced("SECRET", optional_first=True),
            _spaced("UNCLASSIFIED"),
            _spaced("UNCLAS"),
            r"LIMITED OFFICIAL USE",
        ]
    )
    + ")"
)
_NOFORN = r"(?:[ \t]+N ?O ?F ?O ?R ?N)?"
_SECTION = r"(?:[ \t]+SECTION[ \t]+(?P<section>\d{1,2})[ \t]+OF[ \t]+(?P<of>\d{1,2}))?"
_POST = r"(?P<post>(?:\d{2}[ \t]+)?[A-Z][A-Z.'\-]*(?:[ \t]{1,2}[A-Z][A-Z.'\-]*){0,4})"
_BANNER = re.compile(
    rf"(?P<cls>{_CLASS}){_NOFORN}{_SECTION}[ \t]+{_POST}[ \t]+(?P<serial>\d{{2,6}})(?![\d])",
    re.IGNORECASE,
)
# Letter groups every banner word contains in one of its written forms, in the cases
# seen ("C O N F", "CONFIDENTIAL", "C o n f i d e n t i a l", "Confidential").
_HINTS = (
    "O N F", "ONF", "E C R", "ECR", "UNCL", "U N C", "LIMITED OFF", "T O P",
    "o n f", "onf", "e c r", "ecr", "Uncl", "u n c", "uncl",
)  # fmt: skip
# No two hints overlap, so the first match of their alternation is the first hint. Only
# where a match starts is used, so the alternation is written grouped by first letter
# (the same strings; each candidate position tries one or two branches, not fifteen).
_HINT = re.compile(
    r"O(?: N F|NF)|E(?: C R|CR)|U(?:NCL| N C|ncl)|LIMITED OFF|T O P"
    r"|o(?: n f|nf)|e(?: c r|cr)|u(?: n c|ncl)"
)
# A banner word starts at most this many characters before its hint ("CC O N F").
_HINT_LEAD = 4
# Words after which a glued stray letter belongs to the banner ("PRIORITYCSE C R E T").
_GLUE_END = re.compile(r"(?:PRIORITY|IMMEDIATE|ROUTINE|COLLECTIVE|\d|/)$")
_AREA_PREFIX = re.compile(r"\d{2}\s")


@dataclass(slots=True)  # not frozen: built for every cable, never changed
class Banner:
    """A banner as found in the text (``start``/``end`` are offsets; ``end`` follows the serial)."""

    start: int
    end: int
    written: str
    level: Level | None
    caveats: tuple[str, ...]
    post: str
    serial: str
    section: str | None


@lru_cache(maxsize=256)
def _classify(words: str) -> tuple[Level | None, tuple[str, ...]]:
    level, caveats = parse_classification(words)
    letters = re.sub(r"[^A-Z]", "", words.upper())
    if letters.endswith("NOFORN") and "NOFORN" not in caveats:
        caveats = (*caveats, "NOFORN")
    return level, caveats


def _absorb(text: str, line_start: int, start: int) -> int:
    """Move ``start`` back over a doubled or stray first letter (``CC O N F``, ``CSE C R E T``).

    Only a single ``C``, ``S`` or ``U`` glued to a precedence word, a number, a
    slash or the line start is taken: ``WASHDCC O N F ...`` keeps its ``C``.
    """
    cut = start - 1
    if cut < line_start or text[cut] not in "CSUcsu":
        return start
    if cut == line_start or _GLUE_END.search(text, line_start, cut):
        return cut
    return start


def _search(text: str, start: int, end: int) -> re.Match[str] | None:
    """The first banner match, trying only the lines that hold a hint of one."""
    pos = start
    while True:
        found = _HINT.search(text, pos, end)
        if found is None:
            return None
        hit = found.start()
        line_begin = max(text.rfind("\n", 0, hit) + 1, pos)
        line_end = text.find("\n", hit, end)
        if line_end == -1:
            line_end = end
        for begin in range(max(hit - _HINT_LEAD, line_begin), hit + 1):
            m = _BANNER.match(text, begin, line_end)
            if m is not None:
                return m
        pos = hit + 1


def find_banner(text: str, start: int, end: int) -> Banner | None:
    """The first banner in ``text[start:end]``."""
    m = _search(text, start, end)
    if m is None:
        return None
    line_start = text.rfind("\n", 0, m.start()) + 1
    begin = _absorb(text, max(line_start, start), m.start())
    words = text[begin : m.start("post")]
    level, caveats = _classify(" ".join(words.split()))
    post = " ".join(m.group("post").split()).upper()
    if _AREA_PREFIX.match(post):
        post = post[3:]
    return Banner(
        start=begin,
        end=m.end(),
        written=text[begin : m.end()].rstrip(),
        level=level,
        caveats=caveats,
        post=post,
        serial=m.group("serial"),
        section=m.group("section"),
    )
