"""``parse_cable``: cable text in, ``ParsedCable`` out.

Invariants (see also ``model.py``):

* The portions tile the input exactly: ``"".join(p.text for p in portions)``
  is the decoded input, whatever it contains.
* ``CableParseError`` only for unusable input (``errors.py``); every other
  oddity is accepted and reported as a warning.
* Nothing comes from outside the text: no file names, no clock, no network.
* The cable's classification is the highest of the metadata line, the banner
  and the portion marks; each disagreement is a warning.
"""

from __future__ import annotations

import re
from datetime import date

from service.decl import Decl, DeclKind, parse_decl
from service.markings import Level, level_rank, max_level, parse_classification
from service.schedule import compute

from .body import Start, find_starts
from .classified_by import ClassifiedBy, find_classified_by
from .errors import CableParseError, Problem
from .header import Layout, is_caption, locate, may_hold_caption
from .lines import find_label, next_line
from .metadata import Metadata, looks_like_metadata, read_metadata
from .model import ParsedCable, ParsedPortion, make_portion
from .patterns import CAPTION_LINE, CAVEAT_WORD, PAGE_LINE
from .recipients import extract_info_recipients, extract_recipients
from .references import cable_ids, find_ref_region, reference_items
from .signers import extract_signers
from .source import decode, line_of
from .subject import extract_subject
from .tags import extract_tags

__all__ = ["extract_decl_date", "find_eo_line", "parse_cable"]

_EO = re.compile(r"(?<![A-Za-z])E\.?[ \t]?O\.?[ \t]*(?P<num>\d{4,5})\b[ \t]*", re.IGNORECASE)
_KNOWN_ORDERS = frozenset({"10501", "10964", "11652", "12065", "12356", "12958", "13292", "13526"})
_CAVEAT_NAMES = {
    "SENSITIVE BUT UNCLASSIFIED": "SBU",
    "LIMITED OFFICIAL USE": "LOU",
    "FOR OFFICIAL USE ONLY": "FOUO",
}
_ORIGIN_PREFIXES = (
    ("AMEMBASSY ", "Embassy "),
    ("AMCONSUL ", "Consulate "),
    ("USINT ", "US Interests Section "),
    ("USMISSION ", "Mission "),
)
_CLASSIFIED_BY_REACH = 1500
_SIGNATURE_REACH = 2000
_HAS_CAVEAT = re.compile(
    r"SIPDIS|NOFORN|EXDIS|NODIS|STADIS|LIMDIS|ROGER|CHEROKEE|SENSITIVE|OFFICIAL USE|INTERNET"
)
_POST_PUNCT = re.compile(r"[\s'.\-]")


def _ref_id(meta: Metadata | None, layout: Layout) -> tuple[str | None, str | None]:
    """The reference id (metadata first) and the one the banner and DTG give."""
    derived: str | None = None
    banner, dtg = layout.banner, layout.dtg
    if banner is not None and dtg is not None and not banner.post.startswith("XXX"):
        post = _POST_PUNCT.sub("", banner.post)
        derived = f"{dtg.year % 100:02d}{post}{int(banner.serial)}"
    return (meta.ref_id if meta is not None else derived), derived


def _last_line(text: str) -> int:
    """The number of the last line that holds anything but white space."""
    return line_of(text, len(text.rstrip()))


def _early_problems(text: str, meta: Metadata | None) -> list[Problem]:
    """The problem of a text cut off inside its metadata lines (before any layout)."""
    if meta is None and looks_like_metadata(text) and text.count("\n") < 5:
        return [Problem(_last_line(text), "cut off inside the five metadata lines: no telegram")]
    return []


def _layout_problems(text: str, layout: Layout, ref_id: str | None) -> list[Problem]:
    """The problems of a located telegram: no reference id, no body."""
    problems: list[Problem] = []
    if ref_id is None:
        problems.append(
            Problem(
                1,
                "no reference id: no metadata id line, and no banner post and serial "
                "with a date-time group to build one from",
            )
        )
    if layout.body_start is None:
        problems.append(Problem(_last_line(text), "no body: the text ends inside the header"))
    return problems


def _origin(meta: Metadata | None, fm: str | None) -> str | None:
    if meta is not None and meta.origin:
        return meta.origin
    if not fm:
        return None
    name = " ".join(fm.split("/")[-1].split()).upper()
    if name.startswith("SECSTATE"):
        return "Secretary of State"
    for prefix, label in _ORIGIN_PREFIXES:
        if name.startswith(prefix):
            return label + name[len(prefix) :].title()
    return name.title()


def _caveats(text: str, layout: Layout, meta_caveats: tuple[str, ...]) -> tuple[str, ...]:
    """Caveats of the metadata line, the banner and the caption lines of the header."""
    found: list[str] = list(meta_caveats)
    if layout.banner is not None:
        found.extend(layout.banner.caveats)
    lead_end = layout.first_label if layout.first_label is not None else layout.fields_end
    words: list[str] = []
    lead = text[layout.zone_start : lead_end]
    if _HAS_CAVEAT.search(lead.upper()):
        words.extend(m.group(0) for m in CAVEAT_WORD.finditer(lead))
    pos = lead_end if may_hold_caption(text, lead_end, layout.fields_end) else layout.fields_end
    while pos < layout.fields_end:
        end, nxt = next_line(text, pos)
        line = CAPTION_LINE.match(text, pos, end) if is_caption(text, pos, end) else None
        if line is not None:
            words.extend(m.group(0) for m in CAVEAT_WORD.finditer(line.group(0)))
            if "//" in line.group(0):
                found.extend(parse_classification(line.group(0).strip())[1])
        pos = nxt
    for word in words:
        name = " ".join(word.upper().split())
        found.append(_CAVEAT_NAMES.get(name, name))
    return tuple(dict.fromkeys(found))


def _classification(
    meta: Metadata | None, layout: Layout, warnings: list[str]
) -> tuple[Level | None, tuple[str, ...]]:
    meta_level: Level | None = None
    meta_caveats: tuple[str, ...] = ()
    if meta is not None and meta.classification:
        meta_level, meta_caveats = parse_classification(meta.classification)
        if meta_level is None:
            warnings.append(f"metadata classification '{meta.classification}' not recognised")
    banner_level = layout.banner.level if layout.banner is not None else None
    if layout.banner is None:
        warnings.append("no classification banner found")
    elif banner_level is None:
        warnings.append(f"banner '{layout.banner.written}' names no known level")
    if meta_level is not None and banner_level is not None and meta_level != banner_level:
        kept = max_level(meta_level, banner_level)
        warnings.append(
            f"banner says {banner_level.value} but the metadata says {meta_level.value}: "
            f"keeping {kept.value}"
        )
        return kept, meta_caveats
    return meta_level or banner_level, meta_caveats


def find_eo_line(text: str) -> tuple[str, str] | None:
    """The first E.O. line in ``text``: the order number and what follows it on the line."""
    m = find_label(text, ("E.O", "E. O", "EO 1", "EO1", "E.0", "EO:"), _EO)
    if m is None:
        return None
    end = text.find("\n", m.end())
    return m.group("num"), text[m.end() : end if end != -1 else len(text)]


def extract_decl_date(text: str, *, cable_date: date | None = None) -> date | None:
    """The declassify-on date the first E.O. line of ``text`` instructs (``None`` for N/A,
    OADR, events, or a record of a past declassification)."""
    found = find_eo_line(text)
    if found is None:
        return None
    decl, _ = parse_decl(found[1], cable_date=cable_date)
    if decl.kind not in (DeclKind.DATE, DeclKind.EXEMPTION) or decl.text is not None:
        return None
    return decl.date


def _decl(
    zone: str, cable_date: date | None, warnings: list[str]
) -> tuple[str | None, Decl | None]:
    found = find_eo_line(zone)
    if found is None:
        return None, None
    eo, raw = found
    if eo not in _KNOWN_ORDERS:
        warnings.append(f"E.O. {eo} is not a known classification order (typo?)")
    decl, decl_warnings = parse_decl(raw, cable_date=cable_date)
    warnings.extend(decl_warnings)
    return eo, decl


def _portions(
    text: str, layout: Layout, classification: Level | None, warnings: list[str]
) -> tuple[tuple[ParsedPortion, ...], Level | None]:
    starts = find_starts(text, layout.fields_end, layout.first_para)
    body_start = layout.body_start
    assert body_start is not None
    if not starts or (
        body_start < starts[0].offset and not _rules_only(text, body_start, starts[0].offset)
    ):
        starts.insert(0, Start(body_start, body_start, None, None, None, False))
    marked = [s.mark.level for s in starts if s.mark is not None]
    highest = max_level(*marked) if marked else None
    level = classification
    if highest is not None and (level is None or level_rank(highest) > level_rank(level)):
        if level is not None:
            warnings.append(
                f"a portion is marked {highest.value}, above the cable's {level.value}: "
                f"keeping {highest.value}"
            )
        level = highest
    fallback = level if level is not None else Level.TOP_SECRET
    if level is None:
        warnings.append("no classification found: portions default to TOP SECRET")
    entire = next((s.mark.level for s in starts if s.mark and s.mark.entire_text), None)
    unmarked = entire or fallback
    portions = [make_portion(0, None, None, fallback, text[: starts[0].offset])]
    for seq, start in enumerate(starts, 1):
        end = starts[seq].offset if seq < len(starts) else len(text)
        if start.mark is not None:
            marking, portion_level = start.mark.marking, start.mark.level
        elif start.unknown and start.written_mark is not None:
            marking, portion_level = start.written_mark.strip(), unmarked
            warnings.append(
                f"line {line_of(text, start.line)}: unknown mark '({marking})' kept as written; "
                f"level falls back to {portion_level.value}"
            )
        else:
            marking, portion_level = None, unmarked
        portions.append(
            make_portion(seq, start.number, marking, portion_level, text[start.offset : end])
        )
    return tuple(portions), level


def _rules_only(text: str, start: int, end: int) -> bool:
    """True when ``text[start:end]`` holds only blank, dashed and page-break lines.

    Such lines between the header fields and the first paragraph stay in the header.
    """
    for line in text[start:end].split("\n"):
        core = line.strip(" \t\r-=_\\")
        if core and not PAGE_LINE.fullmatch(core):
            return False
    return True


def _classified_by(text: str, layout: Layout, zone: str) -> ClassifiedBy | None:
    found = find_classified_by(zone)
    if found is None and layout.body_start is not None:
        found = find_classified_by(
            text, layout.body_start, min(len(text), layout.body_start + _CLASSIFIED_BY_REACH)
        )
    return found


def parse_cable(data: str | bytes) -> ParsedCable:
    """Parse one cable (cablegate layout, or a raw telegram).

    Raises ``CableParseError`` (a ``ValueError``) listing every problem with
    its line when the input is unusable: empty, not UTF-8 text, NUL
    characters, no reference id, or no body. Everything else is accepted.
    """
    text = decode(data)
    meta = read_metadata(text)
    early = _early_problems(text, meta)
    if early:
        raise CableParseError(early)
    start = meta.end if meta is not None else 0
    layout = locate(text, start, near=meta.created_on if meta else None)
    ref_id, derived = _ref_id(meta, layout)
    problems = _layout_problems(text, layout, ref_id)
    if problems:
        raise CableParseError(problems)
    assert ref_id is not None
    warnings: list[str] = list(meta.warnings) if meta is not None else []
    if derived is not None and meta is not None and derived != ref_id:
        warnings.append(f"banner and date-time group give {derived}, the metadata {ref_id}")
    dtg = layout.dtg
    if dtg is not None and dtg.warning:
        warnings.append(dtg.warning)
    sent_at = dtg.sent_at if dtg is not None else None
    cable_date = (meta.created_on if meta is not None else None) or (
        sent_at.date() if sent_at is not None else None
    )
    zone = text[layout.zone_start : layout.fields_end]
    classification, meta_caveats = _classification(meta, layout, warnings)
    portions, classification = _portions(text, layout, classification, warnings)
    eo, decl = _decl(zone, cable_date, warnings)
    cby = _classified_by(text, layout, zone)
    reasons = cby.reasons if cby is not None else ()
    schedule = compute(decl, cable_date=cable_date, level=classification, eo=eo, reasons=reasons)
    warnings.extend(schedule.warnings)
    year = cable_date.year if cable_date is not None else (dtg.year if dtg else None)
    region = find_ref_region(zone)
    items = tuple(reference_items(region)) if region else ()
    ids = tuple(r for r in cable_ids(region, year or 2000) if r != ref_id) if region else ()
    signers = tuple(extract_signers(text[max(0, len(text) - _SIGNATURE_REACH) :]))
    routing = text[layout.routing_start : layout.routing_end]
    subject = extract_subject(zone) or (meta.title if meta is not None else None) or None
    return ParsedCable(
        ref_id=ref_id,
        subject=subject,
        title=meta.title if meta is not None else None,
        origin=_origin(meta, layout.fm),
        sent_at=sent_at,
        cable_date=cable_date,
        classification=classification,
        caveats=_caveats(text, layout, meta_caveats),
        eo=eo,
        decl=decl,
        declassify_on=schedule.declassify_on,
        declassify_basis=schedule.basis,
        classified_by=cby.text or None if cby is not None else None,
        classified_by_names=cby.names if cby is not None else (),
        reasons=reasons,
        tags=tuple(extract_tags(zone)),
        references=items,
        reference_ids=ids,
        signer=signers[0] if signers else None,
        signers=signers,
        recipients=tuple(extract_recipients(routing)),
        info_recipients=tuple(extract_info_recipients(routing)),
        warnings=tuple(dict.fromkeys(warnings)),
        portions=portions,
    )
