"""The Classified By line: who classified the cable, and for which reasons.

Layouts: ``Classified By: <title> <name> for reasons 1.4(b) and (d)``,
``CLASSIFIED BY: <name>, <title>, Dept of State. REASON: 1.4 (b), (d)``,
``Classified By: Classified by <title> <name>``, and inside paragraph 1 of
1990s cables (``1. (U) CLASSIFIED BY <name>, AMBASSADOR. REASON: 1.5 (D)``).
The line wraps, often mid-word; a line of exactly 71 characters plus the one
trailing space the renderer added was cut by a hard wrap and is joined to the
next without a space (``Hoyt Y`` / ``ee`` -> ``Hoyt Yee``).

Invariants: ``classified_by`` is the text between the label and the reasons,
whitespace collapsed; names are taken from it by dropping titles, offices and
connecting words (``name_vocab``), never invented; reasons come from
``markings.normalise_reasons`` on the text after the name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from service.markings import normalise_reasons

from .lines import find_label, is_blank, next_line
from .name_vocab import CONNECTORS, PARTICLES, SUFFIXES, TITLES
from .patterns import PARA_START
from .posts import POSTS

__all__ = ["ClassifiedBy", "extract_classified_by", "find_classified_by", "normalise_name"]

_LABEL = re.compile(r"(?<![A-Za-z])CLASSIFIED[ \t]+(?:CONFIDENTIAL[ \t]+)?BY\b(?![ \t]+LINE)", re.I)
_WRAP = 72
_MAX_LINES = 6
_MAX_CHARS = 600
_LEAD = re.compile(
    r"^(?:[\s:;.,\-]+|\([A-Za-z/]{1,8}\)|\d\.(?!\d)|this\s+message|message|by\b"
    r"|classi?fi?e?d\s+(?:confidential\s+)?by\b)",
    re.IGNORECASE,
)
# The look-ahead class holds the first letters of the keyword branches: it lets a
# position where no branch can start fail at once (CPython's re enters every branch
# of a case-insensitive alternation otherwise); it matches nothing by itself.
_REASON = re.compile(
    r"[\s,;:(]*\b(?=[bdefpru1])(?:(?:for|per|under|due\s+to|based\s+(?:on|upon)|fr|f0r|for\s+for)\s+"
    r"(?:(?:the\s+)?reasons?|reaons|reas|rasons|resons|re\b|r\b|e\.?\s?o|12958|1[.,]|sec|se\b)"
    r"|based\s+(?:on|upon|0n)\b|due\s+to\b|under\s+(?:section|1[.,])"
    r"|reasons?\b|reaons\b|resons\b|rasons\b|reas0n\b|rea\s*sons?\b|reason\(s\)"
    r"|e\.?\s?o\.?\s*12958|1[.,]\s?[3-6]\s*[(.\s,]|derived\s+from)"
    r"|\s[-\u2013]\s*1[.,]\s?[3-6]",
    re.IGNORECASE,
)
_TOKEN = re.compile(r"[^\s,;:]+|[,;:]")
_SLASH_NAME = re.compile(r"(?<=[A-Za-z])/(?=[A-Z][a-z]{2,}\b)")
_PAGE_JUNK = re.compile(r"[ \t]*(?:(?:UNCLASSIFIED|CONFIDENTIAL|SECRET)[ \t]*\r?$|PAGE[ \t]+\d{2})")
_INITIAL = re.compile(r"(?:[A-Za-z]\.)+[A-Za-z]?\.?|[A-Z]")
_ROMAN = frozenset({"II", "III", "IV"})
_MAX_GAP = 6
_INNER_CAPITAL = re.compile(r"[a-z][A-Z]")
_NAME_PREFIXES = frozenset(
    {"Mc", "Mac", "Le", "La", "De", "Di", "Da", "Du", "Van", "Von", "St", "R"}
)


@dataclass(slots=True)  # not frozen: built for every cable, never changed
class ClassifiedBy:
    """One Classified By statement: its text, names and normalised reasons."""

    text: str
    names: tuple[str, ...]
    reasons: tuple[str, ...]
    reason_text: str


def _statement(text: str, start: int) -> str:
    """The label's text up to a blank line or paragraph, hard-wrapped lines rejoined."""
    out = ""
    pos = start
    lines = 0
    while pos < len(text) and lines < _MAX_LINES and len(out) < _MAX_CHARS:
        end, nxt = next_line(text, pos)
        if lines and (
            is_blank(text, pos, end)
            or PARA_START.match(text, pos, end)
            or _PAGE_JUNK.match(text, pos, end)
        ):
            break
        line_start = text.rfind("\n", 0, pos) + 1 if not lines else pos
        full_line = text[line_start:end].rstrip("\r")
        full = len(full_line) == _WRAP and full_line.endswith(" ")
        line = text[pos:end].rstrip("\r").replace("<br>", " ").rstrip("\\")
        out += line[:-1] if full else line + " "
        pos = nxt
        lines += 1
    return out


@lru_cache(maxsize=4096)
def _is_title(token: str) -> bool:
    bare = token.strip(".,;:()'").upper()
    if not bare:
        return True
    if bare in TITLES or "/" in bare or bare.startswith(("AMB", "AMAB", "ABASS", "COUNS")):
        return True
    stripped = token.strip(".,;:()'")
    if any(ch.islower() for ch in stripped) and sum(ch.isupper() for ch in stripped) >= 3:
        return True  # run-together office titles: "EconMinCouns"
    inner = _INNER_CAPITAL.search(stripped)
    if inner is not None and stripped[: inner.start() + 1] not in _NAME_PREFIXES:
        return True  # garbled words such as "CooQnator"; "McCullough", "LeBaron" pass
    return any(ch.isdigit() for ch in bare) and not re.fullmatch(r"[A-Z0]+", bare)


def _is_name_token(token: str, mixed_case: bool, inside: bool = False) -> bool:
    if inside and token in PARTICLES:
        return True
    if token in {",", ";", ":"} or _is_title(token):
        return False
    bare = token.strip("()")
    if not bare or (not bare[0].isalpha() and bare[0] != "0"):
        return False
    if bare.upper() in CONNECTORS:
        return False
    return not (mixed_case and bare[0].islower())


def _trim_after_connector(run: list[str]) -> list[str]:
    """Keep ``given [initials] surname [suffix]`` of a run that follows ``to``/``for``."""
    out: list[str] = []
    i = len(run) - 1
    while i >= 0 and run[i].strip(".,").upper() in SUFFIXES:
        out.insert(0, run[i])
        i -= 1
    if i >= 0:
        out.insert(0, run[i])
        i -= 1
    while i >= 0 and _INITIAL.fullmatch(run[i]):
        out.insert(0, run[i])
        i -= 1
    if i >= 0:
        out.insert(0, run[i])
    return out


def _tokens(by_text: str) -> list[str]:
    text = by_text.replace("\\", "")
    return _TOKEN.findall(_SLASH_NAME.sub(" ", text) if "/" in text else text)


def _runs(by_text: str, tokens: list[str]) -> list[tuple[int, list[str]]]:
    """Runs of name-like ``tokens`` (of ``by_text``), each with the index of the token
    that ends it."""
    mixed = any(ch.islower() for ch in by_text)
    runs: list[tuple[int, list[str]]] = []
    current: list[str] = []
    after_connector = False
    previous = ""
    for i, word in enumerate(tokens):
        bare = word.strip(".").upper()
        nxt = tokens[i + 1] if i + 1 < len(tokens) else ""
        if word == "," and current and nxt.strip(".").upper() in SUFFIXES:
            current[-1] += ","
            continue
        particle = bool(current) and word in PARTICLES and _is_name_token(nxt, mixed)
        if particle or _is_name_token(word, mixed) or (current and bare in SUFFIXES):
            if not current:
                after_connector = previous in CONNECTORS
            current.append(word)
        elif current:
            runs.append((i, _trim_after_connector(current) if after_connector else current))
            current = []
        previous = "" if word in {",", ";", ":"} else word.strip(".,").upper()
    if current:
        runs.append((len(tokens), _trim_after_connector(current) if after_connector else current))
    return runs


def _format(run: list[str]) -> str:
    name = " ".join(run).strip(" ,;:-")
    last = run[-1].strip(".,").upper() if run else ""
    if name.endswith(".") and (
        last in _ROMAN or not (last in SUFFIXES or _INITIAL.fullmatch(run[-1]))
    ):
        name = name[:-1]
    return name


def normalise_name(name: str) -> str:
    """Title-case an all-capitals name and read a zero inside it as O (``LEE 0. COLDREN``)."""
    words = []
    for word in name.split():
        core = re.sub(r"(?<=[A-Za-z])0|0(?=[A-Za-z])|^0(?=\.?$)", "O", word)
        if core.strip(".,").upper() in _ROMAN:
            words.append(core.upper())
        elif core.isupper():
            words.append("-".join(p[:1] + p[1:].lower() for p in core.split("-")))
        else:
            words.append(core)
    return " ".join(words)


def _names(by_text: str) -> list[str]:
    tokens = _tokens(by_text)
    runs = _runs(by_text, tokens)
    multi = [(end, r) for end, r in runs if len(r) > 1]
    single = [(end, r) for end, r in runs if len(r) == 1 and r[0].strip(".,").upper() not in POSTS]
    candidates = multi or single[:1]
    if not candidates:
        return []
    chosen = [candidates[0]]
    for end, run in candidates[1:]:
        gap = tokens[chosen[-1][0] : end - len(run)]
        if len(gap) <= _MAX_GAP and any(t.upper() in {"AND", "&"} for t in gap):
            chosen.append((end, run))
        else:
            break
    return [name for _, run in chosen if (name := _format(run))]


def _read(statement: str) -> ClassifiedBy:
    text = statement
    while True:
        lead = _LEAD.match(text)
        if lead is None or not lead.group(0):
            break
        text = text[lead.end() :]
    reason = _REASON.search(text)
    by_text = text[: reason.start()] if reason else text
    reason_text = text[reason.start() :] if reason else ""
    by_text = " ".join(by_text.split()).strip(" ,;:-")
    names = tuple(_names(by_text)) if by_text else ()
    return ClassifiedBy(by_text, names, tuple(normalise_reasons(reason_text)), reason_text.strip())


def find_classified_by(text: str, start: int = 0, end: int | None = None) -> ClassifiedBy | None:
    """The first Classified By statement in ``text[start:end]`` that names someone.

    Falls back to the first statement at all when none names anyone.
    """
    first: ClassifiedBy | None = None
    stop = len(text) if end is None else end
    m = find_label(text, ("CLASSIFIED",), _LABEL, start, stop)
    while m is not None:
        found = _read(_statement(text, m.end()))
        if found.names:
            return found
        if first is None:
            first = found
        m = find_label(text, ("CLASSIFIED",), _LABEL, m.end(), stop)
    return first


def extract_classified_by(text: str, *, normalize: bool = False) -> list[str]:
    """The names in the first Classified By statement of ``text`` (``[]`` when none)."""
    found = find_classified_by(text)
    if found is None:
        return []
    return [normalise_name(n) for n in found.names] if normalize else list(found.names)
