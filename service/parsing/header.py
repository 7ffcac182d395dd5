"""Where the parts of a telegram are: routing header, banner, header fields, body.

Order in a cable: optional junk (mail-client export lines, "partial extract"
notes), the routing header (``VZCZC``, ``DE``, the date-time group, ``FM``,
``TO``, ``INFO``), the banner (often glued to the last routing line), caption
lines, then the header fields (E.O., TAGS, SUBJECT, REF, Classified By, in
any order, several possibly on one line), then the body.

Invariants: ``locate`` only computes offsets (it never changes the text);
``start <= zone_start <= fields_end <= len(text)``; the banner is looked for
only before the first numbered paragraph, so a section banner repeated inside
the body is never taken for the cable's banner; ``body_start`` is ``None``
exactly when nothing but blank and caption lines follows the header fields
(the cable is cut off inside its header). Labels are found on an upper-cased
copy of the small header zone, so the scan stays linear and cheap.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from .banner import Banner, find_banner
from .dtg import Dtg, find_dtg
from .lines import first_content_line, is_blank, next_line, search_line
from .patterns import CAPTION_LINE, DASH_LINE, PARA_START

__all__ = ["Label", "Layout", "find_labels", "is_caption", "locate", "may_hold_caption"]

_HEAD_LIMIT = 40_000
_FIELDS_LIMIT = 6_000
_PARA = r"[ \t]*(?:¶[ \t]*)?\d{1,3}[ \t]*\.(?![\d.])"
_PARA_FIRST = re.compile(_PARA)
_PARA_NL = re.compile("\n" + _PARA)
_FM = r"[ \t]*FM[ \t]+[^\n]*"
_FM_FIRST = re.compile(_FM)
_FM_NL = re.compile("\n" + _FM)
_LABEL_UP = re.compile(
    r"E\.?[ \t]?O\.?[ \t]*\d{4,5}\b"
    r"|(?:TAGS?|TAS|TABS|TGS|TAGES)(?:[ \t]*[:;,]|[ \t]+(?=[A-Z(]))"
    r"|AGS:"
    r"|S?UBJ(?:ECT)?(?:[ \t]*:|[ \t]+(?=\S))"
    r"|REF(?:S|TELS?|\(S\))?(?:[ \t]*[:.]|[ \t]+(?=[A-Z(\[]\S))"
    r"|CLASSIFIED[ \t]+(?:CONFIDENTIAL[ \t]+)?BY(?![ \t]+LINE)"
)
_LABEL_NEEDLES = (
    "E.O", "E. O", "EO ", "EO1", "EO:", "E.0", "TAG", "TAS", "TGS", "TAB", "AGS:", "UBJ",
    "REF", "CLASSIFIED",
)  # fmt: skip
_LABEL_KIND = {"E": "eo", "T": "tags", "A": "tags", "S": "subject", "U": "subject", "R": "ref"}
_REF_ITEM = re.compile(
    r"[ \t]*(?:¶[ \t]*)?(?:[A-Z][.):]|\([A-Z0-9]{1,2}\)|\[[A-Z]\])[ \t]*\S"
    r"|[ \t]*[A-Z][A-Za-z' -]+\s\d{2,6}\b"
)
_SPACED = re.compile(r"[ \t]*(?:[A-Z] ){4,}")
_CAPTION_HINTS = ("DIS", "NOFORN", "SENSITIVE", "OFFICIAL", "INTERNET", "ROGER", "CHEROKEE")
_CAPTION_HINT = re.compile("/|" + "|".join(_CAPTION_HINTS))  # one search, not eight ``in`` tests
# The first two letters, upper-cased, of every word a caption line can open with
# (CAPTION_LINE): UNCLASSIFIED, CONFIDENTIAL, SECRET, SIPDIS, NOFORN, EXDIS, NODIS,
# STADIS, LIMDIS, ROGER, CHEROKEE, NOT FOR ..., SENSITIVE, LIMITED ..., FOR OFFICIAL ...
_CAPTION_HEADS = frozenset({"UN", "CO", "SE", "SI", "NO", "EX", "ST", "LI", "RO", "CH", "FO"})
_ROUTING_LINE = re.compile(r"[ \t]*(?:TO|INFO|XMT)\b[^\n]*|[ \t]*[A-Z0-9][A-Z0-9 /&().,'\-]*\r?")


@dataclass(slots=True)  # not frozen: built for every cable, never changed
class Label:
    """A header-field label: its kind (``eo``, ``tags``, ``subject``, ``ref``, ``cby``)."""

    kind: str
    start: int
    end: int


@dataclass(slots=True)  # not frozen: built for every cable, never changed
class Layout:
    """Offsets of the parts of one telegram (see the module docstring)."""

    start: int
    dtg: Dtg | None
    fm: str | None
    routing_start: int
    routing_end: int
    banner: Banner | None
    zone_start: int
    fields_end: int
    first_label: int | None
    first_para: int | None
    body_start: int | None


def find_labels(text: str, start: int, end: int) -> list[Label]:
    """The header-field labels in ``text[start:end]``, in order."""
    region = text[start:end]
    upper = region.upper()
    if len(upper) != len(region):  # a character whose capital is longer: keep offsets
        upper = "".join(ch if len(ch.upper()) != 1 else ch.upper() for ch in region)
    found: dict[int, Label] = {}
    for needle in _LABEL_NEEDLES:
        if needle not in upper:  # most are absent; ``in`` is much cheaper than ``find``
            continue
        pos = upper.find(needle)
        while pos != -1:
            i = pos - 1 if needle == "UBJ" and pos and upper[pos - 1] == "S" else pos
            if i not in found:
                label = _label_at(region, upper, i)
                if label is not None:
                    found[i] = Label(label[0], start + i, start + label[1])
            pos = upper.find(needle, pos + 1)
    return [found[i] for i in sorted(found)]


def _label_at(region: str, upper: str, i: int) -> tuple[str, int] | None:
    """``(kind, end)`` of a label starting at ``i`` of the upper-cased ``region``."""
    m = _LABEL_UP.match(upper, i)
    if m is None:
        return None
    first = upper[i]
    before = upper[i - 1] if i else " "
    if first == "A":
        if not before.isspace():
            return None
    elif before.isalpha() or (first in "SU" and before == "("):
        return None
    word = m.group(0)
    colon_less = first in "SR" and ":" not in word and "." not in word[3:]
    if colon_less and not region[i : m.end()].strip().isupper():
        return None  # "subject to", "Ref A" in prose need a colon
    return ("cby" if first == "C" else _LABEL_KIND[first]), m.end()


def _fields_end(text: str, last: Label, limit: int) -> int:
    """The end of the last header field: its line, continuation lines, REF items."""
    _, pos = next_line(text, last.start)
    is_ref = last.kind == "ref"
    while pos < limit:
        end, nxt = next_line(text, pos)
        if is_blank(text, pos, end):
            if not is_ref:
                break
            probe = nxt
            while probe < limit:
                pend, pnext = next_line(text, probe)
                if not is_blank(text, probe, pend):
                    break
                probe = pnext
            if (
                probe >= limit
                or not _REF_ITEM.match(text, probe, limit)
                or _SPACED.match(text, probe, limit)
            ):
                break
            pos = probe
            continue
        if PARA_START.match(text, pos, end) or DASH_LINE.fullmatch(text, pos, end):
            break
        pos = nxt
    return min(pos, limit)


def may_hold_caption(text: str, start: int, end: int) -> bool:
    """False when no line of ``text[start:end]`` can be a caption line (``is_caption``)."""
    return _CAPTION_HINT.search(text[start:end].upper()) is not None


def is_caption(text: str, start: int, end: int) -> bool:
    """True for a line holding only caveat captions (``SIPDIS``, ``NOFORN``, ...)."""
    if start and text[start - 1] != "\n":
        return False
    head = text[start : start + 2]  # an ASCII line opening otherwise is no caption
    if head.isascii() and head[:1] not in " \t" and head.upper() not in _CAPTION_HEADS:
        return False
    if _CAPTION_HINT.search(text[start:end].upper()) is None:
        return False
    return CAPTION_LINE.match(text, start, end) is not None


def _skip_captions(text: str, pos: int, limit: int) -> int:
    """Move past blank and caption lines; stop at the first other line."""
    while pos < limit:
        end, nxt = next_line(text, pos)
        if not (is_blank(text, pos, end) or is_caption(text, pos, end)):
            return pos
        pos = nxt
    return limit


def _routing_end(text: str, pos: int, limit: int) -> int:
    """The end of the TO/INFO addressee lines that follow the FM line (no banner case)."""
    while pos < limit:
        end, nxt = next_line(text, pos)
        if (
            is_blank(text, pos, end)
            or not _ROUTING_LINE.fullmatch(text, pos, end)
            or find_labels(text, pos, end)
            or is_caption(text, pos, end)
        ):
            return pos
        pos = nxt
    return pos


def _para(text: str, start: int, end: int) -> int | None:
    """The start of the first numbered paragraph line in ``text[start:end]``."""
    m = search_line(_PARA_FIRST, _PARA_NL, text, start, end)
    if m is None:
        return None
    return m.start() + (text[m.start()] == "\n")


def _fm_who(text: str, fm_start: int | None) -> str | None:
    if fm_start is None:
        return None
    return text[fm_start : next_line(text, fm_start)[0]].strip()[2:].strip() or None


def locate(text: str, start: int, *, near: date | None = None) -> Layout:
    """The layout of the telegram that begins at ``start`` (after any metadata)."""
    limit = min(len(text), start + _HEAD_LIMIT)
    para0 = _para(text, start, limit)
    head_end = para0 if para0 is not None else limit
    dtg = find_dtg(text, start, head_end, near=near)
    fm_from = dtg.end if dtg else start
    fm = search_line(_FM_FIRST, _FM_NL, text, fm_from, head_end)
    fm_start = fm.start() + (text[fm.start()] == "\n") if fm else None
    routing_start = fm_start if fm_start is not None else (dtg.start if dtg else start)
    banner = find_banner(text, routing_start, head_end)
    if banner is None and routing_start > start:
        banner = find_banner(text, start, head_end)
    if banner is not None:
        zone_start = banner.end
        routing_end = max(banner.start, routing_start)
    else:
        zone_start = (
            _routing_end(text, next_line(text, fm_start)[1], head_end)
            if fm_start is not None
            else start
        )
        routing_end = zone_start
    first_para = para0 if para0 is not None and para0 >= zone_start else None
    if first_para is None and para0 is not None:
        first_para = _para(text, zone_start, limit)
    label_limit = first_para if first_para is not None else min(limit, zone_start + _FIELDS_LIMIT)
    labels = find_labels(text, zone_start, label_limit)
    fields_limit = first_para if first_para is not None else len(text)
    fields_end = _fields_end(text, labels[-1], fields_limit) if labels else zone_start
    fields_end = _skip_captions(text, fields_end, fields_limit)
    if first_para is not None and first_para < fields_end:
        first_para = _para(text, fields_end, len(text))
    body_start = first_content_line(text, fields_end)
    return Layout(
        start=start,
        dtg=dtg,
        fm=_fm_who(text, fm_start),
        routing_start=routing_start,
        routing_end=routing_end,
        banner=banner,
        zone_start=zone_start,
        fields_end=fields_end,
        first_label=labels[0].start if labels else None,
        first_para=first_para,
        body_start=body_start,
    )
