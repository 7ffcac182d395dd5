"""The SUBJECT line, which may wrap over several lines.

Invariants: the subject is the text after the first SUBJECT label up to the
first blank line, label, paragraph, page break, banner or inline ``REF:`` /
``Classified By``, with whitespace collapsed, a line-end hyphen joined to the
next word (``US- \\nLATIN`` -> ``US-LATIN``), numeric HTML entities decoded and
``<br>`` tags dropped; with ``clean`` a leading mark (``(S)``, ``(C/NF)``) is
removed. Nothing else is changed (case and punctuation are as written).
"""

from __future__ import annotations

import html
import re

from .body import cached_mark
from .lines import find_label, is_blank, may_contain, next_line
from .patterns import DASH_LINE, PAGE_LINE, PARA_START

__all__ = ["extract_subject", "find_subject_label"]

_LABEL = re.compile(
    r"(?<![A-Za-z(/])(?:(?i:S?UBJ(?:ECT)?)[ \t]*:|(?-i:S?UBJ(?:ECT)?)\b)(?![ \t]*LINE)[ \t]*"
)
_STOP_LINE = re.compile(
    r"[ \t]*(?:(?i:REF(?:S|TELS?|\(S\))?[ \t]*[:.]|CLASSIFIED[ \t]+BY|E\.?[ \t]?O\.?[ \t]*\d"
    r"|TAGS?[ \t]*:|SENSITIVE[ \t]+BUT|THIS[ \t]+IS[ \t]+AN?[ \t]+ACTION)"
    r"|(?-i:REFS?[ \t]+[A-Z(])|(?:UNCLASSIFIED|CONFIDENTIAL|SECRET|LIMITED OFFICIAL USE)[ \t]*\r?$"
    r"|(?i:[A-Z] [A-Z] [A-Z] [A-Z] ))"
)
_STOP_INLINE = re.compile(
    r"(?i:REF(?:S|TELS?|\(S\))?[ \t]*:|CLASSIFIED[ \t]+BY|SENSITIVE[ \t]+BUT\b"
    r"|THIS[ \t]+IS[ \t]+AN?[ \t]+ACTION[ \t]+REQ|C O N F|S E C R E T|U N C L)"
    r"|(?-i:\bREFS?\b(?=[ \t]+(?:[A-Z][.)]|\([A-Z]\)))|\bPAGE \d{2}\b)"
)
# Every _STOP_INLINE match holds one of these (in any case).
_STOP_NEEDLES = (
    "REF",
    "CLASSIFIED",
    "SENSITIVE",
    "THIS",
    "C O N F",
    "S E C R E T",
    "U N C L",
    "PAGE ",
)
_ENTITY = re.compile(r"&#(\d{1,7});")
_LEADING_MARK = re.compile(r"^\(([^()]{1,30})\)[ \t]*")
_TRAILING_MARK = re.compile(r"[ \t]+\(([A-Z/]{1,12})\)$")
_MAX_LINES = 6


def find_subject_label(text: str, start: int = 0, end: int | None = None) -> re.Match[str] | None:
    """The first SUBJECT label in ``text[start:end]``."""
    return find_label(text, ("UBJ",), _LABEL, start, end, back=1)


def _is_mark(inner: str) -> bool:
    mark, unknown = cached_mark(inner)
    return mark is not None or unknown


def _lines(text: str, pos: int) -> list[str]:
    """The subject's lines: the label's line, then continuations."""
    end, nxt = next_line(text, pos)
    first = text[pos:end]
    lines = [first]
    if not first.strip(" \t\r\\") and nxt < len(text):
        # "SUBJECT:" alone on its line, the subject after a blank line
        pos = nxt
        while pos < len(text):
            end, nxt = next_line(text, pos)
            if not is_blank(text, pos, end):
                break
            pos = nxt
        else:
            return lines
        lines = [text[pos:end]]
    pos = nxt
    while pos < len(text) and len(lines) < _MAX_LINES:
        end, nxt = next_line(text, pos)
        if (
            is_blank(text, pos, end)
            or _STOP_LINE.match(text, pos, end)
            or PARA_START.match(text, pos, end)
            or DASH_LINE.fullmatch(text, pos, end)
            or PAGE_LINE.match(text, pos, end)
        ):
            break
        lines.append(text[pos:end])
        pos = nxt
    return lines


def _join(lines: list[str]) -> str:
    out = ""
    for raw in lines:
        line = raw.replace("<br>", " ").rstrip(" \t\r\\")
        if out.endswith("-") and out[-2:-1].isalnum():
            out += line.lstrip()
        else:
            out = f"{out} {line}" if out else line
    return out


def extract_subject(text: str, *, clean: bool = True) -> str:
    """The subject after the first SUBJECT label in ``text``; ``""`` without one."""
    label = find_subject_label(text)
    if label is None:
        return ""
    value = _join(_lines(text, label.end()))
    cut = _STOP_INLINE.search(value) if may_contain(value, _STOP_NEEDLES) else None
    if cut is not None:
        value = value[: cut.start()]
    if "&#" in value:
        value = _ENTITY.sub(lambda m: html.unescape(m.group(0)), value)
    value = " ".join(value.split())
    if clean:
        lead = _LEADING_MARK.match(value)
        if lead and _is_mark(lead.group(1)):
            value = value[lead.end() :]
        # every match ends the value with a parenthesis (no line end is left for ``$``)
        trail = _TRAILING_MARK.search(value) if value.endswith(")") else None
        if trail and _is_mark(trail.group(1)):
            value = value[: trail.start()]
    return value
