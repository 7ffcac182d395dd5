"""Classification levels, portion marks, classification reasons and exemption codes.

PURE module: no database, no web framework; every function is total on ``str``
input (it returns ``None``/empty results instead of raising on odd text).

Invariants:

* ``Level`` is totally ordered by ``level_rank`` (UNCLASSIFIED < CONFIDENTIAL <
  SECRET < TOP SECRET); SBU, LOU and FOUO are UNCLASSIFIED with a handling
  control, which is reported as a caveat (``"SBU"``, ``"LOU"``, ``"FOUO"``).
* A ``Mark`` is always normalised: its ``marking`` is the level abbreviation
  (``U``, ``C``, ``S``, ``TS``, or ``SBU``/``LOU`` for those controls) followed by
  ``//``-joined control abbreviations (``NF``, ``FGI``, ``FOUO``, ``REL X``), so
  ``S/NF``, ``S-NF``, ``SNF`` and ``S/NOFORN`` all give ``S//NF`` and ``SBU-N``
  gives ``SBU//NF``. Caveats use the long names (``NOFORN``).
* ``parse_mark`` never guesses a level: a parenthesis whose level is missing or
  not recognised gives ``None`` (see ``looks_like_mark`` for the parser's
  "unknown mark" warning).
* Reasons come out as ``1.4(b)`` (lower-case letter), in order of appearance,
  without duplicates; nothing is invented when no ``1.x`` series is cited.
* ``normalise_code`` returns a member of ``EXEMPTION_CODES`` or ``None``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from difflib import SequenceMatcher
from enum import StrEnum


class Level(StrEnum):
    """Classification levels; the values are the API spellings."""

    UNCLASSIFIED = "UNCLASSIFIED"
    CONFIDENTIAL = "CONFIDENTIAL"
    SECRET = "SECRET"  # noqa: S105 - a level name, not a password
    TOP_SECRET = "TOP SECRET"  # noqa: S105


_RANK: dict[Level, int] = {level: rank for rank, level in enumerate(Level)}


def level_rank(level: Level) -> int:
    """0 for UNCLASSIFIED up to 3 for TOP SECRET."""
    return _RANK[level]


def max_level(*levels: Level) -> Level:
    """The highest of ``levels``; UNCLASSIFIED when none are given."""
    return max(levels, key=_RANK.__getitem__, default=Level.UNCLASSIFIED)


def covers(clearance: Level, level: Level) -> bool:
    """True when a person cleared to ``clearance`` may read ``level`` material."""
    return level_rank(clearance) >= level_rank(level)


@dataclass(frozen=True, slots=True)
class Mark:
    """A normalised portion mark such as ``S//NF`` or ``C//REL NATO``."""

    marking: str
    level: Level
    caveats: tuple[str, ...]
    entire_text: bool = False


# --- portion marks -------------------------------------------------------------

# prefix word -> (level, marking prefix, handling control caveat or None)
_PREFIXES: dict[str, tuple[Level, str, str | None]] = {
    "U": (Level.UNCLASSIFIED, "U", None),
    "UNCLAS": (Level.UNCLASSIFIED, "U", None),
    "UNCLASSIFIED": (Level.UNCLASSIFIED, "U", None),
    "C": (Level.CONFIDENTIAL, "C", None),
    "CONFIDENTIAL": (Level.CONFIDENTIAL, "C", None),
    "S": (Level.SECRET, "S", None),
    "SECRET": (Level.SECRET, "S", None),
    "TS": (Level.TOP_SECRET, "TS", None),
    "TOP SECRET": (Level.TOP_SECRET, "TS", None),
    "SBU": (Level.UNCLASSIFIED, "SBU", "SBU"),
    "LOU": (Level.UNCLASSIFIED, "LOU", "LOU"),
    "LIMITED OFFICIAL USE": (Level.UNCLASSIFIED, "LOU", "LOU"),
    "FOUO": (Level.UNCLASSIFIED, "U//FOUO", "FOUO"),
}

# Dissemination controls (caveats) a mark may carry, and the other spellings seen.
_CONTROLS = frozenset(
    {"NOFORN", "FGI", "FOUO", "ORCON", "WNINTEL", "NOCONTRACT", "PROPIN", "EXDIS", "NODIS"}
)
_CONTROL_ALIASES = {"NF": "NOFORN", "N": "NOFORN", "OC": "ORCON", "NO CONTRACT": "NOCONTRACT"}

# Run-together or scrambled forms seen in the corpus. "N/SF" only makes sense as
# "S/NF" with the letters swapped (we decide to read it so).
_COMPACT: dict[str, str] = {"SNF": "S//NF", "CNF": "C//NF", "NSF": "S//NF", "TSNF": "TS//NF"}

_ENTIRE_TEXT = re.compile(r"^(?P<head>.*?)[\s\-.)]*ENTIRE\s+TEXT[\s.)]*$", re.IGNORECASE)
_REL = re.compile(r"(?:^|[/\-\s])REL(?:EASABLE)?(?:\s+TO)?\s+(?P<to>[A-Z][A-Z ,.&]*)$", re.I)
_SPLIT = re.compile(r"\s*(?://|/|-)\s*")
_MARK_LIKE = re.compile(r"^[A-Z]{1,4}(?:[/\-]{1,2}[A-Z]{1,4})*$")
_ITEM_LETTERS = frozenset("ABCDEFGH") - {"C"}
# Parenthesised acronyms that open paragraphs but are no marks.
_NOT_MARKS = frozenset({"US", "USA", "USG", "UN", "EU", "UK", "NATO", "IAEA", "OSCE", "GOI"})


def _rel_caveat(countries: str) -> str:
    parts = [p.strip(" .").upper() for p in re.split(r",|\band\b|&", countries, flags=re.I)]
    return "REL " + ", ".join(p for p in parts if p)


def _parse_controls(tokens: Sequence[str]) -> list[str] | None:
    """Caveat names for control tokens; None when one is not a known control."""
    out: list[str] = []
    for token in tokens:
        control = _CONTROL_ALIASES.get(token, token)
        if control not in _CONTROLS:
            return None
        if control not in out:
            out.append(control)
    return out


def _split_head(head: str) -> tuple[str, list[str]] | None:
    """Split a mark without its REL part into (prefix word, control tokens)."""
    compact = re.sub(r"[\s/\-]", "", head)
    if compact in _COMPACT:
        head = _COMPACT[compact]
    tokens = [t for t in _SPLIT.split(head) if t]
    if not tokens:
        return None
    first, rest = tokens[0], tokens[1:]
    # "C NF", "TOP SECRET", "LIMITED OFFICIAL USE", "SECRET NOFORN"
    if first not in _PREFIXES:
        for prefix in sorted(_PREFIXES, key=len, reverse=True):
            if first.startswith(prefix + " "):
                rest = [first[len(prefix) + 1 :], *rest]
                first = prefix
                break
        else:
            return None
    return first, [" ".join(t.split()) for t in rest]


def parse_mark(inner: str) -> Mark | None:
    """Parse the text inside a paragraph-leading parenthesis.

    ``"S/NF"`` gives ``Mark("S//NF", SECRET, ("NOFORN",), False)``; ``"C - ENTIRE
    TEXT"`` sets ``entire_text``. Case is ignored (``(c)``, ``(s/nf)`` occur).
    Returns ``None`` for anything that is not a complete mark with a level:
    ``U.S.``, ``Iran``, item letters ``A``..``H`` other than ``C``, and marks
    that carry controls but no level, such as ``/Rel UK`` (their level must come
    from the cable, which this function does not know; see ``looks_like_mark``).
    """
    text = " ".join(inner.upper().split())
    entire = False
    m = _ENTIRE_TEXT.match(text)
    if m:
        entire = True
        text = m.group("head").strip(" -.")
    rel = _REL.search(text)
    rel_caveat: str | None = None
    if rel:
        rel_caveat = _rel_caveat(rel.group("to"))
        text = text[: rel.start()].strip(" /-")
    split = _split_head(text)
    if split is None:
        return None
    prefix, tokens = split
    controls = _parse_controls(tokens)
    if controls is None:
        return None
    level, abbrev, handling = _PREFIXES[prefix]
    parts = [abbrev] + ["NF" if c == "NOFORN" else c for c in controls if c != handling]
    names = controls if handling is None or handling in controls else [handling, *controls]
    if rel_caveat is not None:
        names.append(rel_caveat)
        parts.append(rel_caveat)
    return Mark("//".join(parts), level, tuple(names), entire)


def looks_like_mark(inner: str) -> bool:
    """True when ``inner`` is no known mark but looks like one (``X``, ``XX/Y``).

    For the parser's "unknown mark, kept as written" warning. It is True for
    1-4 upper-case letters, optionally followed by ``/``, ``//`` or ``-`` segments
    of 1-4 upper-case letters, except single item letters ``A``..``H`` and a few
    acronyms that open paragraphs (``US``, ``UN``, ``EU``, ``NATO`` ...); and for
    marks that carry controls but no level (``/Rel UK``, ``//NF``), whose level
    must fall back to the cable's. Always False for a mark ``parse_mark`` knows.
    """
    text = inner.strip()
    if parse_mark(text) is not None:
        return False
    if re.match(r"^/{1,2}\s*(?:REL\b|[A-Z]{2,})", text, re.IGNORECASE):
        return True
    if not _MARK_LIKE.match(text):
        return False
    return text not in _ITEM_LETTERS and text not in _NOT_MARKS


# --- banner / metadata classification --------------------------------------------

_BANNER_WORDS: dict[str, tuple[Level, str | None]] = {
    "UNCLASSIFIED": (Level.UNCLASSIFIED, None),
    "UNCLAS": (Level.UNCLASSIFIED, None),
    "CONFIDENTIAL": (Level.CONFIDENTIAL, None),
    "SECRET": (Level.SECRET, None),
    "TOPSECRET": (Level.TOP_SECRET, None),
    "LIMITEDOFFICIALUSE": (Level.UNCLASSIFIED, "LOU"),
    "SENSITIVEBUTUNCLASSIFIED": (Level.UNCLASSIFIED, "SBU"),
}
_CAVEAT_NAMES: dict[str, str] = {
    "NF": "NOFORN",
    "FOR OFFICIAL USE ONLY": "FOUO",
    "LIMITED OFFICIAL USE": "LOU",
    "SENSITIVE BUT UNCLASSIFIED": "SBU",
}
_MIN_RATIO = 0.8


def _banner_score(letters: str, word: str) -> float:
    if letters == word:
        return 2.0
    if len(letters) >= 4 and word.startswith(letters):
        return 1.0  # truncated: "CO N F I D"
    return SequenceMatcher(None, letters, word).ratio()


def _banner_level(head: str) -> tuple[Level, str | None] | None:
    """Best level for a possibly spaced, damaged banner word; None below 0.8."""
    words = head.split()
    if len(words) == 1 and words[0] in _PREFIXES:  # "C", "TS", "SBU", "LOU" ...
        level, _, handling = _PREFIXES[words[0]]
        return level, handling
    best: tuple[float, tuple[Level, str | None]] | None = None
    letters = ""
    for word in words[:26]:
        if any(ch.isdigit() for ch in word):
            break
        letters += re.sub(r"[^A-Z]", "", word)
        for target, value in _BANNER_WORDS.items():
            score = _banner_score(letters, target)
            if score >= _MIN_RATIO and (best is None or score > best[0]):
                best = (score, value)
    return None if best is None else best[1]


def parse_classification(text: str) -> tuple[Level | None, tuple[str, ...]]:
    """Level and caveats from a metadata line or a banner.

    ``"SECRET//NOFORN"`` -> ``(SECRET, ("NOFORN",))``;
    ``"UNCLASSIFIED//FOR OFFICIAL USE ONLY"`` -> ``(UNCLASSIFIED, ("FOUO",))``;
    ``"LIMITED OFFICIAL USE"`` -> ``(UNCLASSIFIED, ("LOU",))``. Spaced banners
    (``C O N F I D E N T I A L``), lower-case copies and damaged forms with a
    letter doubled, missing or stray (``CC O N F I D E N T I A L``, ``E C R E T``,
    ``CSE C R E T``, ``UUNCLAS``) are matched to the closest level word (similarity
    at least 0.8, or a truncation of 4+ letters). Text after the level word
    (post, serial) is ignored. ``(None, ())`` when nothing is recognisable.
    """
    parts = [" ".join(p.split()) for p in text.upper().split("//")]
    found = _banner_level(parts[0]) if parts and parts[0] else None
    if found is None:
        return None, ()
    level, handling = found
    caveats: list[str] = [handling] if handling else []
    for part in parts[1:]:
        if not part:
            continue
        rel = _REL.search(part)
        name = _rel_caveat(rel.group("to")) if rel else _CAVEAT_NAMES.get(part, part)
        if name not in caveats:
            caveats.append(name)
    return level, tuple(caveats)


# --- classification reasons -------------------------------------------------------

_SERIES = re.compile(r"(?<![\d.])1\s*[.,]\s*([3-6])(?!\d)")
_WRAPPED_AND = re.compile(r"\ba\s+n\s*d\b|\ban\s+d\b")
_STOP_WORD = re.compile(r"[a-z]{2,}|\d")
_LETTER = re.compile(r"(?<![a-z])([a-h])(?![a-z])")
_SUBSECTION = re.compile(r"(?<![a-z])([a-h])\s*\)?\s*\(\s*(\d{1,2})\s*\)|\(\s*(\d{1,2})\s*\)")


def _reason_segment(segment: str) -> str:
    """Cut a segment at the first word that cannot belong to a reason list."""
    pos = 0
    while True:
        m = _STOP_WORD.search(segment, pos)
        if m is None:
            return segment
        if m.group(0) in {"and", "or"}:
            pos = m.end()
            continue
        if m.group(0).isdigit() and segment[: m.start()].rstrip().endswith("("):
            pos = m.end()  # "(a)(4)" sub-items of E.O. 12356 reasons
            continue
        return segment[: m.start()]


def normalise_reasons(text: str) -> list[str]:
    """Reasons cited in a Classified By line, normalised to ``1.4(b)`` form.

    Handles ``1.4(b) and (d)``, ``1.4 (B/D)``, ``1.4 b, d``, ``1.5 B,D``,
    ``1.5.D``, ``1.4(b,d)``, ``1,4 (C)``, wrapped ``a nd``/``an d``, lists of
    several series (``1.4(b), 1.4(d), and 1.5(c)``) and E.O. 12356 items
    (``1.3(a)(4)``). Letters are lower-cased, kept in order of appearance and
    de-duplicated. Returns ``[]`` when no ``1.x`` series is cited (``Derived
    from Multiple Sources``); letters without a series are not guessed.
    """
    lowered = _WRAPPED_AND.sub("and", text.lower())
    matches = list(_SERIES.finditer(lowered))
    out: list[str] = []
    for i, m in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(lowered)
        series = f"1.{m.group(1)}"
        segment = _reason_segment(lowered[m.end() : end])
        found: list[str] = []
        if series == "1.3":
            letter = ""
            for sub in _SUBSECTION.finditer(segment):
                letter = sub.group(1) or letter
                number = sub.group(2) or sub.group(3)
                if letter:
                    found.append(f"1.3({letter})({int(number)})")
        if not found:
            found = [f"{series}({x})" for x in _LETTER.findall(segment)]
        out.extend(r for r in found if r not in out)
    return out


# --- exemption codes on decisions ---------------------------------------------------

_CLASSIFIED_CODES = tuple(f"1.4({x})" for x in "abcdefgh")
_AUTO_CODES = (*(f"25X{n}" for n in range(1, 10)), "50X1-HUM", "50X2-WMD", "75X")
_FOIA_CODES = (
    *(f"(b)({n})" for n in range(1, 10)),
    *(f"(b)(7)({x})" for x in "ABCDEF"),
)
EXEMPTION_CODES: frozenset[str] = frozenset(_CLASSIFIED_CODES + _AUTO_CODES + _FOIA_CODES)
"""Every code a redaction or withholding may cite (DOMAIN.md section 5)."""

_CLASSIFIED_GROUPS = ("1.4(a)-1.4(h)",)
_AUTO_GROUPS = ("25X1-25X9", "50X1-HUM", "50X2-WMD", "75X")
_FOIA_GROUPS = ("(b)(1)-(b)(9)", "(b)(7)(A)-(b)(7)(F)")
_ALL_GROUPS = ", ".join(_CLASSIFIED_GROUPS + _AUTO_GROUPS + _FOIA_GROUPS)

AUTO_DECLASSIFICATION_AGE = 25
"""Years after which records are declassified automatically (E.O. 13526 sec. 3.3(a))."""
EXEMPTION_LEAD_YEARS = 5
"""We decide: 25X/50X/75X codes fit from 5 years before the 25-year point on."""

_CODE_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^1\.4\.?\(?([A-H])\)?$"), "1.4({0})"),
    (re.compile(r"^25X([1-9])$"), "25X{0}"),
    (re.compile(r"^50X1-?HUM$"), "50X1-HUM"),
    (re.compile(r"^50X2-?WMD$"), "50X2-WMD"),
    (re.compile(r"^75X$"), "75X"),
    (re.compile(r"^\(?B\)?\(?7\)?\(?([A-F])\)?$"), "(b)(7)({0})"),
    (re.compile(r"^\(?B\)?\(?([1-9])\)?$"), "(b)({0})"),
)


def normalise_code(raw: str) -> str | None:
    """The canonical spelling of an exemption code, or None when it is unknown.

    Tolerates case and spaces: ``"25x1"`` -> ``"25X1"``, ``"b1"`` -> ``"(b)(1)"``,
    ``"(B)(6)"`` -> ``"(b)(6)"``, ``"b7c"`` -> ``"(b)(7)(C)"``, ``"1.4 (D)"`` ->
    ``"1.4(d)"``, ``"50x1 hum"`` -> ``"50X1-HUM"``.
    """
    compact = re.sub(r"\s+", "", raw).upper()
    for pattern, template in _CODE_PATTERNS:
        m = pattern.match(compact)
        if m:
            groups = [g.lower() if template.startswith("1.4") else g for g in m.groups()]
            code = template.format(*groups)
            return code if code in EXEMPTION_CODES else None
    return None


def _age_years(cable_date: date, today: date) -> int:
    """Whole years from ``cable_date`` to ``today`` (0 for a future cable)."""
    years = today.year - cable_date.year
    if (today.month, today.day) < (cable_date.month, cable_date.day):
        years -= 1
    return max(years, 0)


def _classified_fits(cable_date: date | None, declassify_on: date | None, today: date) -> bool:
    if declassify_on is not None and today < declassify_on:
        return True
    return cable_date is None or _age_years(cable_date, today) < AUTO_DECLASSIFICATION_AGE


def _auto_fits(cable_date: date | None, today: date) -> bool:
    minimum = AUTO_DECLASSIFICATION_AGE - EXEMPTION_LEAD_YEARS
    return cable_date is None or _age_years(cable_date, today) >= minimum


def _code_fits(code: str, cable_date: date | None, declassify_on: date | None, today: date) -> bool:
    if code in _CLASSIFIED_CODES:
        return _classified_fits(cable_date, declassify_on, today)
    return code not in _AUTO_CODES or _auto_fits(cable_date, today)


def fitting_codes(*, cable_date: date | None, declassify_on: date | None, today: date) -> list[str]:
    """The code groups that fit a cable at ``today``, as shown in messages.

    ``1.4(a)-1.4(h)`` while the information is still classified: the cable is
    under 25 years old or its ``declassify_on`` is still ahead (we decide that a
    passed DECL date inside the 25 years still admits 1.4, because an original
    classifier may extend classification up to 25 years, E.O. 13526 sec. 1.5(c)).
    ``25X1-25X9``, ``50X1-HUM``, ``50X2-WMD``, ``75X`` once the cable is 20 years
    old or more (25 years, or "about to be": within ``EXEMPTION_LEAD_YEARS``).
    FOIA codes always fit. Without a cable date every group fits.
    """
    groups: list[str] = []
    if _classified_fits(cable_date, declassify_on, today):
        groups.extend(_CLASSIFIED_GROUPS)
    if _auto_fits(cable_date, today):
        groups.extend(_AUTO_GROUPS)
    groups.extend(_FOIA_GROUPS)
    return groups


def check_codes(
    codes: Sequence[str], *, cable_date: date | None, declassify_on: date | None, today: date
) -> list[str]:
    """Problems with the exemption codes cited on a decision; ``[]`` when fine.

    Each problem is one human-readable sentence: an unknown code (quoted as
    written), a code that does not fit the cable's age (naming the codes that
    do fit), or ``(b)(1)`` without a classification code beside it (we accept
    any 1.4, 25X, 50X or 75X code as its pair). Never raises.
    """
    problems: list[str] = []
    fitting = ", ".join(
        fitting_codes(cable_date=cable_date, declassify_on=declassify_on, today=today)
    )
    age = None if cable_date is None else _age_years(cable_date, today)
    normalised: list[str] = []
    for raw in codes:
        code = normalise_code(raw)
        if code is None:
            problem = f"unknown exemption code '{raw}'; valid codes: {_ALL_GROUPS}"
        elif not _code_fits(code, cable_date, declassify_on, today):
            problem = f"{code} does not fit a cable {age} years old; codes that fit: {fitting}"
        else:
            normalised.append(code)
            continue
        if problem not in problems:
            problems.append(problem)
    if "(b)(1)" in normalised and not any(
        c in _CLASSIFIED_CODES or c in _AUTO_CODES for c in normalised
    ):
        problems.append(f"(b)(1) must be paired with a 1.4 or 25X code; codes that fit: {fitting}")
    return problems
