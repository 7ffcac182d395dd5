"""Where the parts of a telegram are: routing header, banner, header fields, body.

Order in a cable: optional junk (mail-client export lines, "partial extract"
notes), the routing header (``VZCZC``, ``DE``, the date-time group, ``FM``,
``TO``, ``INFO``), the banner (often glued to the last routing line), caption
lines, then the header fields (E.O., TAGS, SUBJECT, REF, Classified By, in
any order, several possibly on one line), then the body.

Invariants: ``locate`` only computes offsets (it never copies the text);
``start <= zone_start <= fields_end <= len(text)``; the banner is looked for
only before the first numbered paragraph, so a section banner repeated inside
the body is never taken for the cable's banner; ``body_start`` is ``None``
exactly when nothing but blank and caption lines follows the header fields
(the cable is cut off inside its header).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from .banner import Banner, find_banner
from .dtg import Dtg, find_dtg
from .patterns import CAPTION_LINE, DASH_LINE, HEADER_LABEL, PARA_START

__all__ = ["Layout", "is_blank", "locate", "next_line"]

_HEAD_LIMIT = 40_000
_FIELDS_LIMIT = 6_000
_FM = re.compile(r"^[ \t]*FM[ \t]+(?P<who>[^\n]*?)[ \t]*\r?$", re.MULTILINE)
_BLANK = re.compile(r"[ \t\r\\]*(?:<br>)?[ \t\r\\]*", re.IGNORECASE)
_REF_ITEM = re.compile(
    r"[ \t]*(?:¶[ \t]*)?(?:[A-Z][.):]|\([A-Z0-9]{1,2}\)|\[[A-Z]\])[ \t]*\S|[ \t]*[A-Z][A-Za-z' -]+\s\d{2,6}\b"
)
_SPACED = re.compile(r"[ \t]*(?:[A-Z] ){4,}")
_ROUTING_LINE = re.compile(r"[ \t]*(?:TO|INFO|XMT)\b[^\n]*|[ \t]*[A-Z0-9][A-Z0-9 /&().,'\-]*\r?")


@dataclass(frozen=True, slots=True)
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
    first_para: int | None
    body_start: int | None


def next_line(text: str, pos: int) -> tuple[int, int]:
    """``(end, next)``: the end of the line starting at ``pos`` (before ``\\n``) and the next start."""
    end = text.find("\n", pos)
    if end == -1:
        return len(text), len(text)
    return end, end + 1


def is_blank(text: str, start: int, end: int) -> bool:
    """True for a line holding only spaces, a CR, ``<br>`` or a trailing backslash."""
    return _BLANK.fullmatch(text, start, end) is not None


def _fields_end(text: str, last: re.Match[str], limit: int) -> int:
    """The end of the last header field: its line, continuation lines, REF items."""
    _, pos = next_line(text, last.start())
    is_ref = last.lastgroup == "ref"
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
            if probe >= limit or not _REF_ITEM.match(text, probe, limit):
                break
            if _SPACED.match(text, probe, limit):
                break
            pos = probe
            continue
        if PARA_START.match(text, pos, end) or DASH_LINE.fullmatch(text, pos, end):
            break
        pos = nxt
    return min(pos, limit)


def _skip_captions(text: str, pos: int, limit: int) -> int:
    """Move past blank and caption lines; stop at the first other line."""
    while pos < limit:
        end, nxt = next_line(text, pos)
        if not (is_blank(text, pos, end) or CAPTION_LINE.match(text, pos, end)):
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
            or HEADER_LABEL.match(text, pos, end)
            or CAPTION_LINE.match(text, pos, end)
        ):
            return pos
        pos = nxt
    return pos


def locate(text: str, start: int, *, near: date | None = None) -> Layout:
    """The layout of the telegram that begins at ``start`` (after any metadata)."""
    limit = min(len(text), start + _HEAD_LIMIT)
    para0 = PARA_START.search(text, start, limit)
    head_end = para0.start() if para0 else limit
    dtg = find_dtg(text, start, head_end, near=near)
    fm = _FM.search(text, dtg.end if dtg else start, head_end)
    routing_start = fm.start() if fm else (dtg.start if dtg else start)
    banner = find_banner(text, routing_start, head_end)
    if banner is None and routing_start > start:
        banner = find_banner(text, start, head_end)
    if banner is not None:
        zone_start = banner.end
        routing_end = max(banner.start, routing_start)
    else:
        zone_start = _routing_end(text, next_line(text, fm.start())[1], head_end) if fm else start
        routing_end = zone_start
    para = PARA_START.search(text, zone_start, limit)
    first_para = para.start() if para else None
    label_limit = first_para if first_para is not None else min(limit, zone_start + _FIELDS_LIMIT)
    last: re.Match[str] | None = None
    for last in HEADER_LABEL.finditer(text, zone_start, label_limit):  # noqa: B007
        pass
    fields_end = _fields_end(text, last, label_limit) if last else zone_start
    fields_end = _skip_captions(text, fields_end, label_limit)
    if first_para is not None and first_para < fields_end:
        first_para = None
    if first_para is None and para is not None:
        nxt = PARA_START.search(text, fields_end, len(text))
        first_para = nxt.start() if nxt else None
    body_start: int | None = None
    pos = fields_end
    while pos < len(text):
        end, nxt = next_line(text, pos)
        if not is_blank(text, pos, end):
            body_start = pos
            break
        pos = nxt
    return Layout(
        start=start,
        dtg=dtg,
        fm=fm.group("who") if fm else None,
        routing_start=routing_start,
        routing_end=routing_end,
        banner=banner,
        zone_start=zone_start,
        fields_end=fields_end,
        first_para=first_para,
        body_start=body_start,
    )
