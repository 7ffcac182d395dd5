"""The TAGS line: subject, country, person and program tags.

Invariants: tags come out upper-cased, de-duplicated, in order of appearance;
``SIPDIS`` (a caption that leaks into some TAGS lines) and page-break junk of
printed copies are never tags; with ``canonicalize`` the vocabulary of
``tag_vocab`` groups multi-word tags, repairs known typos and splits codes run
together, without it tags are the words as written.
"""

from __future__ import annotations

import re

from .lines import find_label, may_contain
from .patterns import PAGE_LINE, may_hold_page_line
from .tag_vocab import COUNTRY_CODES, FIXES, PHRASES, SUBJECT_CODES

__all__ = ["extract_tags", "find_tags_label"]

_LABEL = re.compile(
    r"(?:(?<![A-Za-z])(?:TAGS?|TAS|TABS|TGS|TAGES)(?:[ \t]*[:;,]|[ \t]+(?=[A-Za-z(]))"
    r"|(?<=\s)AGS:)[ \t]*",
    re.IGNORECASE,
)
_SUBJECT = re.compile(r"(?i:\bS?UBJ(?:ECT)?[ \t]*:)|(?-i:\bSUBJ(?:ECT)?\b)")
_LABEL_LINE = re.compile(
    r"[ \t]*(?:(?i:S?UBJ(?:ECT)?[ \t]*:|E\.?[ \t]?O\.?[ \t]*\d|REFS?[ \t]*:|CLASSIFIED[ \t]+BY)"
    r"|(?-i:SUBJ(?:ECT)?\b))"
)
_CONT_COMMA = re.compile(r"[ \t]*[A-Za-z_-]+[ \t]*,")
# A token and, when a comma or semicolon follows it (after at most one space or tab),
# that separator: one findall gives both.
_TOKEN_SEP = re.compile(r"(\([^()]*\)?|[^\s,;()]+)(?=[ \t]?([,;]))?")
_MAX_PHRASE = max(len(k) for k in PHRASES)
_PHRASE_STARTS = frozenset(k[0] for k in PHRASES)
_SKIP = frozenset({"SIPDIS", ""})
_CODES = SUBJECT_CODES | COUNTRY_CODES


def find_tags_label(text: str, start: int = 0, end: int | None = None) -> re.Match[str] | None:
    """The first TAGS label in ``text[start:end]``."""
    return find_label(text, ("TAG", "TAS", "TGS", "TAB", "AGS:"), _LABEL, start, end)


def _line(text: str, pos: int) -> tuple[str, int]:
    end = text.find("\n", pos)
    if end == -1:
        return text[pos:], len(text)
    return text[pos:end], end + 1


def _value(text: str, label_end: int) -> str:
    value, pos = _line(text, label_end)
    for _ in range(2):
        if pos >= len(text):
            break
        line, after = _line(text, pos)
        if not line.strip() or _LABEL_LINE.match(line) or _SUBJECT.match(line.strip()):
            break
        following, _ = _line(text, after) if after < len(text) else ("", after)
        if not (
            value.rstrip().endswith(",")
            or _CONT_COMMA.match(line)
            or (_LABEL_LINE.match(following) and _SUBJECT.search(following[:12]))
        ):
            break
        value = f"{value} {line}"
        pos = after
    cut = _SUBJECT.search(value) if may_contain(value, ("UBJ",)) else None  # every match has it
    if cut:
        value = value[: cut.start()]
    page = PAGE_LINE.search(value) if may_hold_page_line(value) else None
    if page:
        value = value[: page.start()]
    return value


def _split_codes(tag: str) -> tuple[str, ...] | None:
    """``KNNPMNUC`` -> ``("KNNP", "MNUC")`` when every piece is a known code."""
    if len(tag) < 6 or not tag.isalpha():
        return None
    heads = [("", tag)] + ([(tag[:2], tag[2:])] if tag[:2] in COUNTRY_CODES else [])
    for head, rest in heads:
        tails = [("", rest)] + ([(rest[-2:], rest[:-2])] if rest[-2:] in COUNTRY_CODES else [])
        for tail, middle in tails:
            if not middle or len(middle) % 4:
                continue
            pieces = [middle[i : i + 4] for i in range(0, len(middle), 4)]
            if all(p in SUBJECT_CODES for p in pieces):
                return tuple(p for p in (head, *pieces, tail) if p)
    return None


def _canonical_words(words: list[str]) -> list[str]:
    out: list[str] = []
    i = 0
    while i < len(words):
        sizes = range(min(_MAX_PHRASE, len(words) - i), 1, -1) if words[i] in _PHRASE_STARTS else ()
        for size in sizes:
            phrase = PHRASES.get(tuple(words[i : i + size]))
            if phrase is not None:
                out.extend(phrase)
                i += size
                break
        else:
            word = words[i]
            fixed = FIXES.get(word)
            if fixed is None and word not in _CODES:
                fixed = _split_codes(word)
            out.extend(fixed or (word,))
            i += 1
    return out


def _segments(value: str) -> list[list[str]]:
    """Comma-separated groups of tokens (a person tag in parentheses is one token)."""
    groups: list[list[str]] = [[]]
    for token, separator in _TOKEN_SEP.findall(value):
        if token.startswith("("):
            groups[-1].append(" ".join(token.strip("()").upper().split()))
        else:
            groups[-1].append(token.upper().rstrip(".:\\"))
        if separator:
            groups.append([])
    return [g for g in groups if g]


def extract_tags(text: str, *, canonicalize: bool = True) -> list[str]:
    """The tags of the first TAGS line in ``text`` (``[]`` without one)."""
    label = find_tags_label(text)
    if label is None:
        return []
    value = _value(text, label.end())
    has_commas = "," in value or ";" in value
    tags: list[str] = []
    for group in _segments(value):
        if not canonicalize:
            words = group
        elif (
            has_commas
            and 1 < len(group) <= 4
            and not any(w in _CODES or w in FIXES for w in group)
            and tuple(group) not in PHRASES
        ):
            words = [" ".join(group)]
        else:
            words = _canonical_words(group)
        for tag in words:
            if tag not in _SKIP and tag not in tags:
                tags.append(tag)
    return tags
