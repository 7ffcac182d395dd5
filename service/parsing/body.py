"""Splitting the body into portions and reading each portion's mark.

A body portion starts at a numbered paragraph (``¶1. (C)``, ``1.(C)``,
``1. CONFIDENTIAL - ENTIRE TEXT.``) or at an unnumbered paragraph that opens
with a genuine mark after a blank line (``(S) In ...``). We decide that a
section heading (a short line alone between blank lines, or text framed by
dashed lines) goes with the portion that follows it, and that the signature
and anything after it go with the last portion; text between the header
fields and the first paragraph that is not such a heading becomes an
unnumbered portion of its own.

Invariants: portion starts are strictly increasing line starts at or after
the end of the header fields, so the portions tile the text exactly; a
paragraph number is accepted only when it continues the numbering (the next
number, or a jump of at most five after a blank line), so wrapped lines such
as ``¶6. in the middle of a sentence`` or numbered lists inside a paragraph do
not split it; parenthesised words that are not marks (``(U.S.)``, ``(Iran)``,
item letters ``(A)``..``(H)``) never create a portion or a mark.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass
from functools import lru_cache

from service.markings import Mark, looks_like_mark, parse_mark

from .lines import is_blank, prev_line
from .patterns import DASH_LINE, PARA_START

__all__ = ["Start", "cached_mark", "find_starts"]

_MAX_JUMP = 5
_MARK_AFTER_NUMBER = r"[ \t]*\([ \t]*([^()\n]{1,60}?)[ \t]*\)"
_ENTIRE_AFTER = re.compile(r"[ \t]*[-\u2013]?[ \t]*ENTIRE[ \t]+TEXT", re.IGNORECASE)
_ENTIRE_BARE = re.compile(
    r"[ \t]*(?P<head>[A-Za-z][A-Za-z/ ]{0,60}?)[ \t]*[-\u2013]?[ \t]*ENTIRE[ \t]+TEXT",
    re.IGNORECASE,
)
# A numbered paragraph line with the mark that may follow its number (one match, so
# the mark costs no second search), or a line opening with a parenthesis. The mark
# part holds no newline, so consuming it never hides the next line's candidate.
_CANDIDATE = re.compile(
    r"\n[ \t¶]*(?:(\d{1,3})[ \t]*\.(?![\d.])(?:"
    + _MARK_AFTER_NUMBER
    + r")?|\(([A-Za-z][A-Za-z/ \-]{0,29})\))"
)
_HEADING_MAX = 80
_BLANK_RUN = " \t\r\n\\"
_ITEM_WINDOW = 3000
_SINGLE_LETTER = re.compile(r"\(([A-Z])\)")
_ITEM_NEIGHBOURS = {"C": ("B", "D"), "S": ("R", "T"), "U": ("T", "V")}


@lru_cache(maxsize=1024)
def cached_mark(inner: str) -> tuple[Mark | None, bool]:
    """``parse_mark(inner)`` and, when that is ``None``, ``looks_like_mark(inner)``."""
    mark = parse_mark(inner)
    return mark, (mark is None and looks_like_mark(inner))


@dataclass(slots=True)  # not a NamedTuple: built for every paragraph, cheaper this way
class Start:
    """Where a body portion starts and what its opening says.

    ``offset`` is the portion's first character (a heading before it included);
    ``line`` the offset of the paragraph line itself; ``written_mark`` the mark
    text as written (``None`` without one); ``mark`` its parse when known.
    """

    offset: int
    line: int
    number: str | None
    written_mark: str | None
    mark: Mark | None
    unknown: bool


def _after_blank(text: str, line_start: int, floor: int) -> bool:
    prev = prev_line(text, line_start)
    return prev is None or prev[0] < floor or is_blank(text, *prev)


def _is_heading(text: str, start: int, end: int, *, framed: bool = False) -> bool:
    core = text[start:end].strip().rstrip("-= ").strip()
    if not core or len(core) > _HEADING_MAX:
        return False
    if not framed and core.endswith((".", ",", ";")) and not core.endswith("..."):
        return False
    return PARA_START.match(text, start, end) is None


def _previous_text_line(text: str, start: int, floor: int) -> tuple[int, int] | None:
    """The last non-blank line before the line at ``start``, if it begins at or after ``floor``.

    One ``rstrip`` over the text between ``floor`` and the line finds the last
    non-blank character; only a ``<br>``-only line there needs the line loop.
    """
    end = start - 1
    if end < floor:
        return None
    last = floor + len(text[floor:end].rstrip(_BLANK_RUN)) - 1
    if last < floor:
        return None
    begin = text.rfind("\n", 0, last) + 1
    if begin < floor:
        return None
    line_end = text.find("\n", last)
    if text[begin:line_end].strip(" \t\r\\").lower() != "<br>":
        return begin, line_end
    return _previous_text_line_slow(text, begin - 1, floor)


def _previous_text_line_slow(text: str, end: int, floor: int) -> tuple[int, int] | None:
    while end >= floor:
        begin = text.rfind("\n", 0, end) + 1
        if begin < floor:
            return None
        core = text[begin:end].strip(" \t\r\\")
        if core and core.lower() != "<br>":
            return begin, end
        end = begin - 1
    return None


def _with_heading(text: str, start: int, floor: int) -> int:
    """Move a portion start back over a heading that directly precedes it."""
    prev = _previous_text_line(text, start, floor)
    if prev is None:
        return start
    line = text[prev[0] : prev[1]]
    core = line.strip()
    if core.endswith((".", ",", ";")) and "---" not in core:
        return start  # the last line of the previous paragraph: the common case
    if DASH_LINE.fullmatch(line):
        title = prev_line(text, prev[0])
        if title is None or title[0] < floor or not _is_heading(text, *title, framed=True):
            return start
        top = prev_line(text, title[0])
        if top is not None and top[0] >= floor and DASH_LINE.fullmatch(text, *top):
            return top[0]
        return title[0]
    if len(core) > _HEADING_MAX + 40:
        return start
    if _is_heading(text, *prev):
        above = prev_line(text, prev[0])
        if above is None or above[0] < floor or is_blank(text, *above):
            return prev[0]
    return start


def _mark_after_number(text: str, written: str, after: int) -> tuple[str | None, Mark | None, bool]:
    """The mark ``(written)`` after a paragraph number, ending at ``after``: as written,
    parsed, unknown (``None, None, False`` when the parenthesis is no mark)."""
    inner = written
    entire = text.find("NTIRE", after, after + 20) != -1 and "ENTIRE" not in inner.upper()
    if entire and _ENTIRE_AFTER.match(text, after):
        inner = f"{inner} - ENTIRE TEXT"
    mark, unknown = cached_mark(inner)
    if mark is not None or unknown:
        return written, mark, unknown
    return None, None, False


def _bare_entire(text: str, pos: int) -> tuple[str | None, Mark | None, bool]:
    """A mark written out after a paragraph number at ``pos`` (``CONFIDENTIAL - ENTIRE TEXT``)."""
    if text.find("NTIRE", pos, pos + 80) != -1 or text.find("ntire", pos, pos + 80) != -1:
        e = _ENTIRE_BARE.match(text, pos)
        if e is not None:
            mark, _ = cached_mark(f"{e.group('head')} - ENTIRE TEXT")
            if mark is not None:
                return e.group("head"), mark, False
    return None, None, False


class _ItemLetters:
    """Where single-letter parentheses ``(A)``, ``(B)`` ... stand, found on first use."""

    def __init__(self, text: str) -> None:
        self._text = text
        self._where: dict[str, list[int]] | None = None

    def is_item(self, inner: str, pos: int) -> bool:
        """True when ``(C)`` is an item letter between ``(B)`` and ``(D)`` paragraphs."""
        neighbours = _ITEM_NEIGHBOURS.get(inner.strip().upper())
        if neighbours is None:
            return False
        if self._where is None:
            self._where = {}
            for m in _SINGLE_LETTER.finditer(self._text):
                self._where.setdefault(m.group(1), []).append(m.start())
        for letter in neighbours:
            places = self._where.get(letter, [])
            i = bisect_left(places, pos - _ITEM_WINDOW)
            if i < len(places) and places[i] <= pos + _ITEM_WINDOW:
                return True
        return False


def find_starts(text: str, floor: int, first_para: int | None) -> list[Start]:
    """The body portion starts after ``floor`` (the end of the header fields).

    One scan over the body finds both numbered and mark-led paragraph lines;
    ``first_para`` (the first numbered paragraph) bounds where numbering begins.
    """
    found: list[tuple[int, str | None, str | None, Mark | None, bool]] = []
    last = -1  # the last accepted paragraph number; -1 before the first
    spaced = True  # paragraphs separated by blank lines (False in some HTML copies)
    numbered_from = first_para if first_para is not None else len(text)
    items: _ItemLetters | None = None
    for m in _CANDIDATE.finditer(text, floor - 1 if floor > 0 else 0):
        begin = m.start() + 1
        if begin < floor:
            continue
        num, written, inner = m.groups()
        if num is not None:
            if begin < numbered_from:
                continue
            n = int(num)
            if n != last + 1 or last < 0:
                after_blank = _after_blank(text, begin, floor)
                if last < 0:
                    if not (n == 1 or (n <= _MAX_JUMP and after_blank)):
                        continue
                    spaced = after_blank
                elif not (last + 1 < n <= last + _MAX_JUMP and (after_blank or not spaced)):
                    continue
            last = n
            if written is not None:
                found.append((begin, num, *_mark_after_number(text, written, m.end())))
            else:
                found.append((begin, num, *_bare_entire(text, m.end())))
            continue
        mark = cached_mark(inner)[0]
        if mark is None or not _after_blank(text, begin, floor):
            continue
        if items is None:
            items = _ItemLetters(text)
        if items.is_item(inner, begin):
            continue
        found.append((begin, None, inner, mark, False))
    starts: list[Start] = []
    lower = floor
    for begin, number, written, mark, unknown in found:
        starts.append(
            Start(_with_heading(text, begin, lower), begin, number, written, mark, unknown)
        )
        lower = begin + 1
    return starts
