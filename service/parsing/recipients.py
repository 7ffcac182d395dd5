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

from .model import Recipient
from .patterns import PAGE_LINE

__all__ = ["extract_info_recipients", "extract_recipients", "parse_block"]

_TO = re.compile(r"^[ \t]*TO[ \t]+", re.MULTILINE)
_INFO = re.compile(r"^[ \t]*INFO[ \t]+", re.MULTILINE)
_LINE = re.compile(
    r"(?:(?P<route>[A-Z0-9]{4,8})/)?(?P<name>.*?)"
    r"(?:[ \t]+(?P<prec>NIACT[ \t]+IMMEDIATE|IMMEDIATE|PRIORITY|ROUTINE|FLASH))?"
    r"(?:[ \t]+(?P<mcn>\d{4}(?:-\d{4})?))?[ \t.]*"
)
_XMT = re.compile(r"XMT(?:[ \t]+|/)")
_INSERTED_DATE = re.compile(
    r"(?:Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day,\s+\d{1,2}\s+[A-Za-z]+\s+\d{4},\s+\d{1,2}:\d{2}"
)


def parse_block(block: str) -> list[Recipient]:
    """The addressees of one TO or INFO block (its keyword already removed)."""
    out: list[Recipient] = []
    excluded: list[str] = []
    excluding = False
    for raw in PAGE_LINE.sub("", _INSERTED_DATE.sub("", block)).replace("\r", "").split("\n"):
        line = " ".join(raw.replace("<br>", " ").split())
        if not line:
            continue
        xmt = _XMT.match(line)
        if xmt is not None:
            excluding = True
            line = line[xmt.end() :].strip()
            if not line:
                continue
        m = _LINE.fullmatch(line)
        if m is None or not m.group("name"):
            continue
        if excluding:
            if out:
                excluded.append(m.group("name"))
                last = out[-1]
                out[-1] = Recipient(
                    last.route, last.name, last.precedence, last.mcn, tuple(excluded)
                )
            continue
        out.append(
            Recipient(
                route=m.group("route"),
                name=m.group("name"),
                precedence=" ".join(m.group("prec").split()) if m.group("prec") else None,
                mcn=m.group("mcn"),
            )
        )
    return out


def _block(text: str, start: int, stop: re.Pattern[str] | None) -> str:
    """The text from ``start`` to ``stop``, a blank line or the end."""
    end = len(text)
    if stop is not None:
        m = stop.search(text, start)
        if m is not None:
            end = m.start()
    blank = re.compile(r"\n[ \t\r]*\n").search(text, start, end)
    return text[start : blank.start() if blank else end]


def extract_recipients(text: str) -> list[Recipient]:
    """The TO addressees of a routing header (``[]`` without a TO line)."""
    m = _TO.search(text)
    if m is None:
        return []
    return parse_block(_block(text, m.end(), _INFO))


def extract_info_recipients(text: str) -> list[Recipient]:
    """The INFO addressees of a routing header (``[]`` without an INFO line)."""
    m = _INFO.search(text)
    if m is None:
        return []
    return parse_block(_block(text, m.end(), None))
