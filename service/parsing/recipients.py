"""The TO and INFO blocks of the routing header.

Invariants: one addressee per line (``RUEHC/SECSTATE WASHDC IMMEDIATE 4696``:
routing indicator, name, precedence, message counter number); an ``XMT`` line
and the lines after it name addressees excluded from the collective before
them; page headers of printed copies and dates inserted by newspapers are
removed first; a block ends at ``INFO``, a blank line or the end of the
routing text given.
"""

from __future__ import annotations

import re

from .lines import search_line
from .model import Recipient, make_recipient
from .patterns import PAGE_LINE

__all__ = ["extract_info_recipients", "extract_recipients", "parse_block"]

_TO_FIRST = re.compile(r"[ \t]*TO[ \t]+")
_TO = re.compile(r"\n[ \t]*TO[ \t]+")
_INFO_FIRST = re.compile(r"[ \t]*INFO[ \t]+")
_INFO = re.compile(r"\n[ \t]*INFO[ \t]+")
_PRECEDENCES = frozenset({"IMMEDIATE", "PRIORITY", "ROUTINE", "FLASH"})
_BLANK_LINE = re.compile(r"\n[ \t\r]*\n")
_INSERTED_DATE = re.compile(
    r"(?:Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day,\s+\d{1,2}\s+[A-Za-z]+\s+\d{4},\s+\d{1,2}:\d{2}"
)


def _is_mcn(word: str) -> bool:
    """True for a message counter number: ``4696`` or ``4696-4697`` (``\\d{4}(?:-\\d{4})?``;
    ``str.isdecimal`` accepts the same digits as ``\\d``)."""
    if len(word) == 4:
        return word.isdecimal()
    return len(word) == 9 and word[4] == "-" and word[:4].isdecimal() and word[5:].isdecimal()


def _addressee(line: str) -> Recipient | None:
    """One addressee line: ``[ROUTE/]NAME [PRECEDENCE] [MCN]``."""
    route: str | None = None
    slash = line.find("/")
    if 4 <= slash <= 8 and line[:slash].isalnum() and line[:slash].isupper():
        route, line = line[:slash], line[slash + 1 :]
    words = line.rstrip(" .").split()
    mcn = None
    if words and _is_mcn(words[-1]):
        mcn = words.pop()
    precedence = None
    if words and words[-1] in _PRECEDENCES:
        precedence = words.pop()
        if precedence == "IMMEDIATE" and words and words[-1] == "NIACT":
            precedence = f"{words.pop()} {precedence}"
    if not words:
        return None
    return make_recipient(route, " ".join(words), precedence, mcn)


def parse_block(block: str) -> list[Recipient]:
    """The addressees of one TO or INFO block (its keyword already removed)."""
    if "day," in block:
        block = _INSERTED_DATE.sub("", block)
    if "PAGE" in block:
        block = PAGE_LINE.sub("", block)
    out: list[Recipient] = []
    excluded: list[str] = []
    excluding = False
    if "<br>" in block:  # no "<br>" spans a newline: the same as replacing per line
        block = block.replace("<br>", " ")
    for raw in block.split("\n"):
        line = raw.strip(" \t\r")
        if not line:
            continue
        if line.startswith("XMT") and (line[3:4] in (" ", "\t", "/")):
            excluding = True
            line = line[4:].strip()
            if not line:
                continue
        found = _addressee(line)
        if found is None:
            continue
        if excluding:
            if out:
                excluded.append(found.name)
                last = out[-1]
                out[-1] = make_recipient(
                    last.route, last.name, last.precedence, last.mcn, tuple(excluded)
                )
            continue
        out.append(found)
    return out


def _block(text: str, start: int, stop: re.Pattern[str] | None) -> str:
    """The text from ``start`` to ``stop``, a blank line or the end."""
    end = len(text)
    if stop is not None:
        m = stop.search(text, start)
        if m is not None:
            end = m.start()
    blank = _BLANK_LINE.search(text, start, end)
    return text[start : blank.start() if blank else end]


def extract_recipients(text: str) -> list[Recipient]:
    """The TO addressees of a routing header (``[]`` without a TO line)."""
    m = search_line(_TO_FIRST, _TO, text, 0, len(text))
    if m is None:
        return []
    return parse_block(_block(text, m.end(), _INFO))


def extract_info_recipients(text: str) -> list[Recipient]:
    """The INFO addressees of a routing header (``[]`` without an INFO line)."""
    m = search_line(_INFO_FIRST, _INFO, text, 0, len(text))
    if m is None:
        return []
    return parse_block(_block(text, m.end(), None))
