"""The REF line: what the cable refers to, as written and as cable ids.

Invariants: the REF region runs from its label to the first Classified By,
SUMMARY, paragraph, banner or non-reference line after a blank line, with
page-break junk removed; ``reference_items`` are its lettered items as written
(whitespace collapsed); ``cable_ids`` only yields ids whose post is a known
station (``posts.POSTS``, after ``posts.ALIASES``), so e-mails, DTGs and
report numbers are never taken for cables; a missing year is the citing
cable's year; ids come out de-duplicated in order of appearance.
"""

from __future__ import annotations

import re

from .lines import find_label, is_blank, may_contain, next_line
from .patterns import PAGE_LINE, may_hold_page_line
from .posts import ALIASES, POSTS

__all__ = ["cable_ids", "extract_references", "find_ref_region", "reference_items"]

_LABEL = re.compile(
    r"(?<![A-Za-z])(?:(?i:REF(?:S|TELS?|\(S\))?)[ \t]*[:.][ \t]*|(?-i:REFS?)[ \t]+(?=[A-Z(\[]))"
    r"|(?<=[A-Z])(?-i:REFS?:)[ \t]*"
)
_STOP_WORDS = (
    r"(?i:CLASSIFIED[ \t]+BY|CLASSIIED[ \t]+BY|\bSUMMARY\b|SENSITIVE[ \t]+BUT|THIS[ \t]+MESSAGE"
    r"|C O N F|S E C R E T|U N C L|C O R R E C T E D)"
)
_STOP_PARA = r"\n[ \t]*(?:¶[ \t]*)?\d{1,2}[ \t]*\.(?!\d)"
_STOP_WORD = re.compile(_STOP_WORDS)
_STOP_NEEDLES = (
    "CLASSI",
    "SUMMARY",
    "SENSITIVE",
    "THIS",
    "C O N F",
    "S E C R E T",
    "U N C L",
    "C O R R",
)
_STOP_NL = re.compile(_STOP_PARA)
_REF_LINE = re.compile(
    r"[ \t]*(?:¶[ \t]*)?(?:[A-Z][.):]|\([A-Z0-9]{1,2}\)|\[[A-Z]\])"
    r"|[ \t]*[A-Za-z][A-Za-z' -]+\s\d{2,7}\b"
    r"|[ \t]*'?\d{2,6}\b",
)
_SPACED = re.compile(r"[ \t]*(?:[A-Za-z] ){4,}")
_MAX_REGION = 1500
_ITEM_SPLIT = re.compile(
    r"(?:^|(?<=[\s;,]))(?:¶[ \t]*)?(?:[A-Z][.):]|\([A-Z0-9]{1,2}\)|\[[A-Z]\])(?=\s|[A-Z(])"
    r"|;"
)
_GLUED = re.compile(
    r"(?<![A-Z0-9])(?P<year>\d{2}|\d{4})(?P<post>[A-Z]{3,})(?P<serial>\d{1,7})(?![\d/])"
)
# Every _GLUED match holds a digit followed by three capitals; this finds one much faster
# (its first character class lets the search skip ahead, the look-behind of _GLUED does not).
_GLUED_HINT = re.compile(r"\d[A-Z]{3}")
_SPACED_ID = re.compile(
    r"(?<![A-Z0-9'])"
    r"(?:(?P<year>'?\d{2,4}|[O0]\d)[ \t]*-?[ \t]*|\((?P<pyear>\d{2})\)[ \t]*)?"
    r"(?P<post>[A-Z0][A-Z0'\-]+(?:[ \t]+[A-Z][A-Z0'\-]*){0,3}?)"
    r"(?:[ \t]*[:\-][ \t]*|[ \t]+)(?P<serial>\d{1,7})(?![\d/])"
    r"(?:[ \t]*\((?P<ayear>\d{2})\))?"
)
_AND_MORE = re.compile(r"[ \t]+AND[ \t]+(?P<serial>\d{1,7})(?![\d/])")
_DROP = frozenset(
    {"REF", "REFS", "REFTEL", "REFTELS", "AND", "SEE", "ALSO", "EMBASSY", "AMEMBASSY",
     "AMCONSUL", "CONSULATE", "USMISSION", "MISSION"}
)  # fmt: skip


def find_ref_region(text: str, start: int = 0, end: int | None = None) -> str | None:
    """The REF text after the first REF label in ``text[start:end]`` (page junk removed)."""
    limit = len(text) if end is None else end
    label = find_label(text, ("REF",), _LABEL, start, limit)
    if label is None:
        return None
    stop_at = min(limit, label.end() + _MAX_REGION)
    pos = label.end()
    end_at = stop_at
    while pos < stop_at:
        line_end, nxt = next_line(text, pos)
        if is_blank(text, pos, line_end):
            probe = nxt
            while probe < stop_at:
                pend, pnext = next_line(text, probe)
                if not is_blank(text, probe, pend):
                    break
                probe = pnext
            if (
                probe >= stop_at
                or not _REF_LINE.match(text, probe, stop_at)
                or _SPACED.match(text, probe, stop_at)
            ):
                end_at = pos
                break
            pos = probe
            continue
        pos = nxt
    region = text[label.end() : min(end_at, stop_at)]
    stop = _stop(region)
    if stop is not None:
        region = region[:stop]
    return PAGE_LINE.sub(" ", region) if may_hold_page_line(region) else region


def _stop(region: str) -> int | None:
    """Where the REF region ends: the first match of ``_STOP_WORDS|_STOP_PARA``.

    The leftmost match of an alternation starts at the earlier of its halves'
    leftmost matches; the newline half is a fast literal search, the words half
    is searched only when the region may hold one of its words.
    """
    para = _STOP_NL.search(region)
    end = para.start() if para is not None else len(region)
    word = _STOP_WORD.search(region, 0, end) if may_contain(region[:end], _STOP_NEEDLES) else None
    if word is not None:
        return word.start()
    return para.start() if para is not None else None


def reference_items(region: str) -> list[str]:
    """The items of a REF region as written: ``["STATE 167308"]``."""
    items: list[str] = []
    for part in _ITEM_SPLIT.split(region):
        item = " ".join(part.replace("<br>", " ").replace("¶", " ").split()).strip(" ;,.\\")
        if item and item not in items:
            items.append(item)
    return items


_QUOTE_DASH = re.compile(r"['\-]")


def _post(words: list[str]) -> str | None:
    for i in range(len(words)):
        if i > 0 and not (len(words[i - 1]) == 1 or words[i - 1] in _DROP):
            return None
        joined = _QUOTE_DASH.sub("", "".join(words[i:])).replace("0", "O")
        joined = ALIASES.get(joined, joined)
        if joined in POSTS:
            return joined
    return None


def _two_digits(raw: str | None, default: int) -> str:
    if not raw:
        return f"{default % 100:02d}"
    digits = raw.strip("'").replace("O", "0")
    return digits[-2:]


def cable_ids(region: str, year: int) -> list[str]:
    """Cable ids named in a REF region; ``year`` supplies a missing year."""
    upper = region.upper().replace("\n", " ")
    found: list[tuple[int, str]] = []
    for glued in _GLUED.finditer(upper) if _GLUED_HINT.search(upper) else ():
        post = _post([glued.group("post")])
        if post is not None:
            ref = f"{glued.group('year')[-2:]}{post}{int(glued.group('serial'))}"
            found.append((glued.start(), ref))
    pos = 0
    while True:
        m = _SPACED_ID.search(upper, pos)
        if m is None:
            break
        post = _post(m.group("post").split())
        pos = m.end()
        if post is None:
            pos = m.start("serial")  # the number may be the next item's year
            continue
        yy = _two_digits(m.group("year") or m.group("pyear") or m.group("ayear"), year)
        found.append((m.start(), f"{yy}{post}{int(m.group('serial'))}"))
        more = _AND_MORE.match(upper, pos)
        while more is not None:
            found.append((more.start(), f"{yy}{post}{int(more.group('serial'))}"))
            pos = more.end()
            more = _AND_MORE.match(upper, pos)
    found.sort()
    return list(dict.fromkeys(ref for _, ref in found))


def extract_references(text: str, year: int, *, own_id: str | None = None) -> list[str]:
    """Cable ids referenced by the first REF line of ``text`` (not ``own_id``)."""
    region = find_ref_region(text)
    if region is None:
        return []
    return [r for r in cable_ids(region, year) if r != own_id]
