"""The parser's speed shortcuts give exactly what the plain code they replace gives.

Each shortcut (docs/parser.md, "Speed") is checked against a reference written
here the slow, obvious way, on crafted text (``<br>`` lines, form feeds, CR
line ends, non-ASCII letters that only a case-insensitive search matches) and
on every line of the shared corpus when it is present.
"""

from __future__ import annotations

import dataclasses
import re
from datetime import date
from pathlib import Path

import pytest

from service.markings import Level
from service.parsing import (
    banner,
    body,
    classified_by,
    header,
    patterns,
    recipients,
    references,
    subject,
    tags,
)
from service.parsing.dtg import full_year
from service.parsing.lines import may_contain
from service.parsing.model import ParsedPortion, Recipient, make_portion, make_recipient
from service.parsing.patterns import CAPTION_LINE, PAGE_LINE, may_hold_page_line
from service.parsing.recipients import parse_block

CABLES = Path(__file__).resolve().parents[2].parent / "shared" / "corpus" / "cables"

CRAFTED = [
    "1. (C) First paragraph.\n\n2. (S) Second.\n",
    "HEADING\n\n1. (C) Text.\n<br>\n  <BR> \n\n2. (C) More.\n",
    "1. (C) Text ends here.\r\n\r\n \\\r\n2. (U) Next.\r\n",
    "--------\nTITLE\n--------\n\x0c\n3. (C) After a form feed.\n",
    "<br>\n<br>\n1. (C) Only breaks before.\n",
    "a\n\n\n\nb\n\\\n<br>\nc",
]


def _corpus_texts() -> list[str]:
    if not CABLES.is_dir():
        return []
    return [path.read_text(encoding="utf-8") for path in sorted(CABLES.glob("*.txt"))]


def _previous_text_line_reference(text: str, start: int, floor: int) -> tuple[int, int] | None:
    """The line loop ``body._previous_text_line`` replaced."""
    end = start - 1
    while end >= floor:
        begin = text.rfind("\n", 0, end) + 1
        if begin < floor:
            return None
        core = text[begin:end].strip(" \t\r\\")
        if core and core.lower() != "<br>":
            return begin, end
        end = begin - 1
    return None


@pytest.mark.parametrize("text", CRAFTED)
def test_previous_text_line_agrees_with_the_line_loop_for_every_start_and_floor(
    text: str,
) -> None:
    starts = [0] + [i + 1 for i, ch in enumerate(text) if ch == "\n"]
    checked = 0
    for start in starts:
        for floor in range(start + 1):
            expected = _previous_text_line_reference(text, start, floor)
            assert body._previous_text_line(text, start, floor) == expected, (start, floor)
            checked += 1
    assert checked == sum(s + 1 for s in starts)


def test_previous_text_line_skips_br_lines_and_keeps_a_form_feed_line() -> None:
    text = CRAFTED[1]
    para2 = text.index("2. (C)")
    assert body._previous_text_line(text, para2, 0) == (
        text.index("1. (C)"),
        text.index("\n<br>"),
    )
    text = CRAFTED[3]
    para3 = text.index("3. (C)")
    assert body._previous_text_line(text, para3, 0) == (text.index("\x0c"), para3 - 1)


def test_previous_text_line_agrees_with_the_line_loop_on_the_corpus() -> None:
    texts = _corpus_texts()
    if not texts:
        pytest.skip("shared corpus not found beside the clone")
    compared = 0
    for text in texts[::10]:
        starts = [i + 1 for i, ch in enumerate(text) if ch == "\n"]
        for start in starts:
            for floor in (0, max(0, start - 300)):
                expected = _previous_text_line_reference(text, start, floor)
                assert body._previous_text_line(text, start, floor) == expected
                compared += 1
    assert compared > 1000


def test_banner_hints_never_overlap_so_the_alternation_finds_the_first_hint() -> None:
    # The old loop shrank its search window to the hint found so far, so a later
    # hint starting before an earlier one but overlapping it would have been missed;
    # no such pair exists, hence the leftmost hint of the alternation is the same.
    hints = banner._HINTS
    for i, earlier in enumerate(hints):
        for later in hints[i + 1 :]:
            for shift in range(1, len(later)):
                size = min(len(later) - shift, len(earlier))
                assert later[shift : shift + size] != earlier[:size], (later, earlier, shift)
    text = "RUEHC/SECSTATE WASHDC 4926UNCLAS HAVANA 007901\nC o n f i d e n t i a l ROME 1"
    for pos in range(len(text)):
        found = banner._HINT.search(text, pos)
        firsts = [f for h in hints if (f := text.find(h, pos)) != -1]
        assert (found.start() if found else None) == (min(firsts) if firsts else None)


def test_banner_found_through_the_hint_alternation() -> None:
    text = "FM AMEMBASSY TOKYO\nTO SECSTATE WASHDC 4926UNCLAS HAVANA 007901\n\nE.O. 12958: N/A\n"
    found = banner.find_banner(text, 0, len(text))
    assert found is not None
    assert (found.written, found.post, found.serial) == ("UNCLAS HAVANA 007901", "HAVANA", "007901")


PAGE_SAMPLES = [
    " PREL PGOV KDEM ECON ETRD IR ",
    "PAGE 02 ROME 01196 01 OF 02 082030Z",
    "CONFIDENTIAL PAGE 03 STATE 123456 061230Z",
    "MADRID 00000869  001.2 OF 004",
    "nothing here at all",
    "A 00 B",
]


@pytest.mark.parametrize("text", PAGE_SAMPLES)
def test_page_line_guard_never_hides_a_match(text: str) -> None:
    if not may_hold_page_line(text):
        assert PAGE_LINE.search(text) is None


def test_page_line_guard_on_the_corpus_lines() -> None:
    texts = _corpus_texts()
    if not texts:
        pytest.skip("shared corpus not found beside the clone")
    matched = skipped = 0
    for text in texts:
        for line in text.split("\n"):
            if may_hold_page_line(line):
                matched += PAGE_LINE.search(line) is not None
            else:
                assert PAGE_LINE.search(line) is None
                skipped += 1
    assert matched > 0
    assert skipped > 10_000


def test_may_contain_is_case_blind_on_ascii_and_always_true_otherwise() -> None:
    assert may_contain("see ref a", ("REF",)) is True
    assert may_contain("nothing", ("REF",)) is False
    assert may_contain("caf\u00e9 only", ("REF",)) is True  # non-ASCII: always searched


STOP_SAMPLES = [
    "STATE 12345 CLASSIFIED BY: AMBASSADOR",
    "A. STATE 1\n B. ROME 2\n2. (C) Text",
    "A. STATE 1 summary follows",
    "A. STATE 1\n\n  \u00b6 3. para",
    "A. STATE 1 THİS MESSAGE",  # dotted capital I: only the regex knows it is an I
    "A. STATE 1 \u017fUMMARY",  # long s
    "A. STATE 1 C O R R E C T E D COPY",
    "B. TOKYO 44",
]


@pytest.mark.parametrize("region", STOP_SAMPLES)
def test_ref_region_stop_is_the_first_match_of_the_whole_pattern(region: str) -> None:
    whole = re.compile(f"{references._STOP_WORDS}|{references._STOP_PARA}")
    m = whole.search(region)
    assert references._stop(region) == (m.start() if m else None)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("SUBJECT: TALKS ON TRADE REF: A. STATE 1", "TALKS ON TRADE"),
        ("SUBJECT: TALKS ON TRADE", "TALKS ON TRADE"),
        ("SUBJECT: DEBATE THİS IS AN ACTION REQUEST", "DEBATE"),
        ("SUBJECT: (C) NOTHING TO CUT PAGE 02 HERE", "NOTHING TO CUT"),
    ],
)
def test_subject_inline_stop_with_the_guard(line: str, expected: str) -> None:
    assert subject.extract_subject(line) == expected


_OLD_TOKEN = re.compile(r"\([^()]*\)?|[^\s,;()]+")


def _segments_reference(value: str) -> list[list[str]]:
    """The token loop ``tags._segments`` replaced (it looked at the next two characters)."""
    groups: list[list[str]] = [[]]
    for m in _OLD_TOKEN.finditer(value):
        token = m.group(0)
        if token.startswith("("):
            groups[-1].append(" ".join(token.strip("()").upper().split()))
        else:
            groups[-1].append(token.upper().rstrip(".:\\"))
        if value[m.end() : m.end() + 2].lstrip(" \t").startswith((",", ";")):
            groups.append([])
    return [g for g in groups if g]


@pytest.mark.parametrize(
    "value",
    [
        " PREL, PGOV KDEM; (CLINTON, HILLARY) ETRD ,X  ,Y\t;Z",
        "PREL,PGOV,,ECON ;; (OPEN KTIP",
        "a , b  , c\t, d \t, e",
        "",
        " ;, ",
    ],
)
def test_tag_segments_agree_with_the_two_character_look(value: str) -> None:
    assert tags._segments(value) == _segments_reference(value)


def test_tag_segments_on_the_corpus_tags_lines() -> None:
    texts = _corpus_texts()
    if not texts:
        pytest.skip("shared corpus not found beside the clone")
    lines = [line for text in texts for line in text.split("\n") if "TAGS" in line.upper()]
    assert len(lines) > 250
    for line in lines:
        assert tags._segments(line) == _segments_reference(line)


def test_recipients_drop_br_tags_across_the_whole_block() -> None:
    block = "RUEHC/SECSTATE WASHDC IMMEDIATE 4696<br>\nRUEHRO/AMEMBASSY ROME PRIORITY 0123 <br> \n"
    assert [(r.route, r.name, r.precedence, r.mcn) for r in parse_block(block)] == [
        ("RUEHC", "SECSTATE WASHDC", "IMMEDIATE", "4696"),
        ("RUEHRO", "AMEMBASSY ROME", "PRIORITY", "0123"),
    ]


def test_banner_hint_alternation_grouped_by_first_letter_finds_each_hint_first() -> None:
    # _HINT is written grouped by first letter; only where its match starts is used, so
    # it must start where the plain alternation of _HINTS starts, everywhere.
    plain = re.compile("|".join(re.escape(hint) for hint in banner._HINTS))
    for hint in banner._HINTS:
        assert banner._HINT.fullmatch(hint) is not None, hint
    texts = [*CRAFTED, "xx o n fECRu n c T O P LIMITED OFFUncl", *_corpus_texts()]
    compared = 0
    for text in texts:
        head = text[:3000]
        for pos in range(0, len(head), 7):
            found, expected = banner._HINT.search(head, pos), plain.search(head, pos)
            assert (found and found.start()) == (expected and expected.start()), pos
            compared += 1
    assert compared > 100


_OLD_MCN = re.compile(r"\d{4}(?:-\d{4})?")


@pytest.mark.parametrize(
    "word",
    ["4696", "0123", "4696-4697", "469", "46961", "4696-469", "4696_4697", "46a6", "",
     "\u0661\u0662\u0663\u0664", "\u00b2\u00b3\u00b9\u2074", "4696-\u0661\u0662\u0663\u0664",
     "1234-5678-", "-4696"],
)  # fmt: skip
def test_message_counter_test_agrees_with_the_pattern_it_replaced(word: str) -> None:
    assert recipients._is_mcn(word) == (_OLD_MCN.fullmatch(word) is not None)


def test_glued_id_guard_never_hides_a_glued_id() -> None:
    samples = ["A. 07TOKYO5624", "REF 2007STATE12", "B. 07 TOKYO 5624", "07TO 5", "1ABC", ""]
    texts = _corpus_texts()
    samples += [line.upper() for text in texts for line in text.split("\n") if "REF" in line]
    found = 0
    for sample in samples:
        if references._GLUED_HINT.search(sample) is None:
            assert references._GLUED.search(sample) is None, sample
        else:
            found += references._GLUED.search(sample) is not None
    assert found > 0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("TAGS: PREL, PGOV SUBJECT: TALKS", ["PREL", "PGOV"]),
        ("TAGS: PREL, PGOV subj: talks", ["PREL", "PGOV"]),
        ("TAGS: PREL, PGOV \u017fubj: talks", ["PREL", "PGOV"]),  # long s: searched (non-ASCII)
        ("TAGS: PREL, PGOV", ["PREL", "PGOV"]),
    ],
)
def test_tags_value_cut_at_a_subject_label_with_the_guard(text: str, expected: list[str]) -> None:
    assert tags.extract_tags(text) == expected


def test_full_year_takes_the_first_nearest_century_as_min_did() -> None:
    for near_year in range(1790, 2210):
        near = date(near_year, 6, 1)
        for two in range(100):
            candidates = [c + two for c in (1900, 2000, 2100, 1800)]
            assert full_year(two, near) == min(candidates, key=lambda y: abs(y - near_year))


def test_portions_built_through_the_slots_equal_the_dataclass_and_stay_frozen() -> None:
    built = make_portion(3, "3", "S//NF", Level.SECRET, "3. (S/NF) Text.\n")
    plain = ParsedPortion(3, "3", "S//NF", Level.SECRET, "3. (S/NF) Text.\n")
    assert built == plain
    assert hash(built) == hash(plain)
    assert repr(built) == repr(plain)
    assert dataclasses.astuple(built) == (3, "3", "S//NF", Level.SECRET, "3. (S/NF) Text.\n")
    with pytest.raises(dataclasses.FrozenInstanceError):
        built.text = "changed"  # type: ignore[misc]


def test_recipients_built_through_the_slots_equal_the_dataclass_and_stay_frozen() -> None:
    built = make_recipient("RUEHC", "SECSTATE WASHDC", "IMMEDIATE", "4696", ("RUEHXX",))
    plain = Recipient("RUEHC", "SECSTATE WASHDC", "IMMEDIATE", "4696", ("RUEHXX",))
    assert built == plain
    assert hash(built) == hash(plain)
    assert built.as_json() == {
        "route": "RUEHC",
        "name": "SECSTATE WASHDC",
        "precedence": "IMMEDIATE",
        "mcn": "4696",
        "excluded": ["RUEHXX"],
    }
    assert make_recipient(None, "AMEMBASSY ROME") == Recipient(None, "AMEMBASSY ROME")
    with pytest.raises(dataclasses.FrozenInstanceError):
        built.name = "changed"  # type: ignore[misc]


def _is_caption_reference(text: str, start: int, end: int) -> bool:
    """``header.is_caption`` before its two-letter shortcut."""
    if start and text[start - 1] != "\n":
        return False
    if header._CAPTION_HINT.search(text[start:end].upper()) is None:
        return False
    return CAPTION_LINE.match(text, start, end) is not None


def test_caption_heads_cover_every_word_a_caption_line_opens_with() -> None:
    words = [*patterns._CAVEATS.split("|"), "UNCLASSIFIED", "CONFIDENTIAL", "SECRET"]
    for word in words:
        assert word[:2] in header._CAPTION_HEADS, word


@pytest.mark.parametrize(
    "line",
    ["SIPDIS", "sipdis", "  NOFORN", "E.O. 12958: DECL: 12/20/2017", "SECRET//NOFORN",
     "Secret//noforn", "CONFIDENTIAL", "\u017fipdis", "SUBJECT: SIPDIS", "", "S", "\tEXDIS",
     "LIMITED OFFICIAL USE", "NOT FOR INTERNET DISTRIBUTION", "FOR OFFICIAL USE ONLY <br>"],
)  # fmt: skip
def test_is_caption_agrees_with_the_plain_check(line: str) -> None:
    text = f"X\n{line}\nY"
    start, end = 2, 2 + len(line)
    assert header.is_caption(text, start, end) == _is_caption_reference(text, start, end)


def test_is_caption_agrees_with_the_plain_check_on_the_corpus_lines() -> None:
    texts = _corpus_texts()
    if not texts:
        pytest.skip("shared corpus not found beside the clone")
    captions = 0
    for text in texts:
        start = 0
        while start < len(text):
            end = text.find("\n", start)
            end = len(text) if end == -1 else end
            expected = _is_caption_reference(text, start, end)
            assert header.is_caption(text, start, end) == expected, text[start:end]
            captions += expected
            start = end + 1
    assert captions > 100


_OLD_REASON = re.compile(
    classified_by._REASON.pattern.replace(r"\b(?=[bdefpru1])", r"\b", 1), re.IGNORECASE
)
_OLD_CAVEAT_WORD = re.compile(rf"\b(?:{patterns._CAVEATS})\b", re.IGNORECASE)


def test_look_ahead_classes_hold_the_first_letter_of_every_branch() -> None:
    assert _OLD_REASON.pattern != classified_by._REASON.pattern
    assert sorted({word[0].lower() for word in patterns._CAVEATS.split("|")}) == sorted("ceflnrs")
    assert "(?=[ceflnrs])" in patterns.CAVEAT_WORD.pattern


@pytest.mark.parametrize(
    "text",
    ["Ambassador John Doe for reasons 1.4 (b) and (d)", "J. Smith, Pol Chief, Reason: 1.4(d)",
     "Someone Per E.O. 12958", "A B - 1.4 (b)", "Deputy Chief Based on 1.5 (d)",
     "Derived from multiple sources", "FOR REASONS 1.4 B AND D", "\u017fomebody for \u017fec 1.4",
     "Ambassador Kelvin \u212a for reasons", "no reasons here", "", "   ,;( reasons"],
)  # fmt: skip
def test_reason_search_starts_where_the_plain_pattern_starts(text: str) -> None:
    found, expected = classified_by._REASON.search(text), _OLD_REASON.search(text)
    assert (found and found.start()) == (expected and expected.start())


def test_reason_and_caveat_searches_agree_with_the_plain_patterns_on_the_corpus() -> None:
    texts = _corpus_texts()
    if not texts:
        pytest.skip("shared corpus not found beside the clone")
    reasons = caveats = 0
    for text in texts:
        for line in text.split("\n"):
            found, expected = classified_by._REASON.search(line), _OLD_REASON.search(line)
            assert (found and found.start()) == (expected and expected.start()), line
            reasons += expected is not None
            words = [m.group(0) for m in patterns.CAVEAT_WORD.finditer(line)]
            assert words == [m.group(0) for m in _OLD_CAVEAT_WORD.finditer(line)], line
            caveats += len(words)
    assert reasons > 100
    assert caveats > 100


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("SUBJECT: TALKS ON TRADE (C)", "TALKS ON TRADE"),
        ("SUBJECT: TALKS ON TRADE (C) ", "TALKS ON TRADE"),
        ("SUBJECT: TALKS (ON TRADE)", "TALKS (ON TRADE)"),
        ("SUBJECT: TALKS ON TRADE (SBU) ", "TALKS ON TRADE"),
        ("SUBJECT: TALKS ON TRADE", "TALKS ON TRADE"),
    ],
)
def test_subject_trailing_mark_removed_with_the_guard(line: str, expected: str) -> None:
    assert subject.extract_subject(line) == expected
