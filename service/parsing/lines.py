"""Line helpers over the whole text, by offset (nothing is split or copied).

Invariants: offsets are into the text as given; a line runs from a start
offset to the next ``\\n`` (exclusive) or the end of the text; a CR before the
``\\n`` belongs to the line. Scanning patterns are anchored on a literal
``\\n`` rather than ``^`` with ``re.MULTILINE``: CPython then looks for the
newline with its fast literal search instead of trying every position.
"""

from __future__ import annotations

import re

__all__ = [
    "find_label",
    "first_content_line",
    "is_blank",
    "line_start",
    "may_contain",
    "next_line",
    "prev_line",
    "search_line",
]

_BLANK_STRIP = " \t\r\\"


def next_line(text: str, pos: int) -> tuple[int, int]:
    """``(end, next)``: the end of the line at ``pos`` (before ``\\n``), the next line's start."""
    end = text.find("\n", pos)
    if end == -1:
        return len(text), len(text)
    return end, end + 1


def prev_line(text: str, start: int) -> tuple[int, int] | None:
    """``(start, end)`` of the line before the one starting at ``start``."""
    if start <= 0:
        return None
    end = start - 1
    return text.rfind("\n", 0, end) + 1, end


def line_start(text: str, pos: int) -> int:
    """The start of the line holding ``pos``."""
    return text.rfind("\n", 0, pos) + 1


def is_blank(text: str, start: int, end: int) -> bool:
    """True for a line holding only spaces, a CR, ``<br>`` or a trailing backslash."""
    core = text[start:end].strip(_BLANK_STRIP)
    return not core or core.lower() == "<br>"


_CONTENT = re.compile(r"[^ \t\r\n\\]")


def first_content_line(text: str, pos: int) -> int | None:
    """The start of the first line at or after ``pos`` that is not blank (see ``is_blank``)."""
    while True:
        m = _CONTENT.search(text, pos)
        if m is None:
            return None
        begin = text.rfind("\n", pos, m.start()) + 1 if m.start() > pos else pos
        begin = max(begin, pos)
        end, nxt = next_line(text, begin)
        if not is_blank(text, begin, end):
            return begin
        pos = nxt


def search_line(
    first: re.Pattern[str], rest: re.Pattern[str], text: str, start: int, end: int
) -> re.Match[str] | None:
    """The first line in ``text[start:end]`` matching a line pattern.

    ``first`` is the pattern for a line beginning exactly at ``start`` (matched
    there), ``rest`` the same pattern prefixed by ``\\n`` (searched after it).
    """
    if start >= end:
        return None
    if start == 0 or text[start - 1] == "\n":
        m = first.match(text, start, end)
        if m is not None:
            return m
    return rest.search(text, start, end)


def find_label(
    text: str,
    needles: tuple[str, ...],
    pattern: re.Pattern[str],
    start: int = 0,
    end: int | None = None,
    *,
    back: int = 0,
) -> re.Match[str] | None:
    """The first match of ``pattern`` that begins at (or ``back`` characters before)
    an upper-cased occurrence of one of ``needles`` in ``text[start:end]``.

    Finding the needles with ``str.find`` on an upper-cased copy and matching
    the pattern only there is much cheaper than ``pattern.search`` with
    ``re.IGNORECASE`` and look-behinds, which tries every position.
    """
    stop = len(text) if end is None else end
    region = text[start:stop]
    upper = region.upper()
    if len(upper) != len(region):  # some capital is longer than its letter: offsets move
        return pattern.search(text, start, stop)
    if len(needles) == 1:  # one needle: its occurrences come in order, stop at the first hit
        needle = needles[0]
        pos = upper.find(needle)
        while pos != -1:
            for shift in range(back, -1, -1):
                at = start + pos - shift
                if at >= start:
                    m = pattern.match(text, at, stop)
                    if m is not None:
                        return m
            pos = upper.find(needle, pos + 1)
        return None
    candidates: list[int] = []
    for needle in needles:
        if needle not in upper:  # most are absent; ``in`` is much cheaper than ``find``
            continue
        pos = upper.find(needle)
        while pos != -1:
            candidates.append(pos)
            pos = upper.find(needle, pos + 1)
    for pos in sorted(set(candidates)):
        for shift in range(back, -1, -1):
            at = start + pos - shift
            if at < start:
                continue
            m = pattern.match(text, at, stop)
            if m is not None:
                return m
    return None


def may_contain(text: str, needles: tuple[str, ...]) -> bool:
    """False only when ``text`` is ASCII and holds none of the upper-case ``needles``,
    whatever its case.

    A guard before a slow case-insensitive search whose every match holds one of
    the needles: for ASCII text, ``str.upper`` and ``re.IGNORECASE`` agree, so the
    guard never hides a match (non-ASCII text always gets the full search).
    """
    if not text.isascii():
        return True
    upper = text.upper()
    return any(needle in upper for needle in needles)
