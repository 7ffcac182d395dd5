"""Synthetic cables in the cablegate layout, modelled on the shapes of ../shared/corpus.

    python bench/generate.py -n 250000 --format csv --out /tmp/cables.csv
    python bench/generate.py -n 1000 --format text --out /tmp/cables/     # REFID.txt files
    python bench/generate.py -n 1000 --format ndjson --out -               # {"text": ...} lines

Seeded and reproducible: cable `i` depends only on `(seed, i)`, so the first 1,000 cables of
a 250,000 run equal a 1,000 run, byte for byte. Distributions were measured once on the 295
real cables of ../shared/corpus/cables (see docs/benchmarks.md "## Generator"):

- classification x decade: the README's table (e.g. CONFIDENTIAL 2000s 62, SECRET 2000s 51);
- origin: the 60 most frequent origins with their counts (Secretary of State 33, Paris 13..);
- DECL form by order: E.O. 11652 `GDS`/`NGDS`, 12065 `GDS <date>`, 12356 `DECL: OADR`, 12958
  dates `MM/DD/YYYY` 82%, `YYYY/MM/DD` 7%, `MM/DD/YY` 3.5%, events 2%, `25X1` 2%, `X1` 1%,
  `YYYY-MM-DD`, `Declassify on`, missing E.O. line; `N/A` on unclassified cables; a DECL
  date is 10 years after the cable in 80% of dated cables (25, 5, 15, 20 years otherwise);
- paragraphs per cable lognormal (median 8, the corpus's 8; p90 ~17), paragraph length
  lognormal (median 750 characters, the corpus's 744), lines wrapped at ~65 characters with
  the trailing space of 2000s cables; marks by the corpus's counts (`(C)` 860, `(S)` 384,
  `(S/NF)` 300, `(SBU)` 246, `(U)` 245, unmarked 459 ...), never above the cable's level;
  pre-1995 cables use `1. CONFIDENTIAL - ENTIRE TEXT.` and no `¶`;
- header layouts: VZCZC/DE routing (1990 on) or DTG first (older); in 70% the header runs
  straight into the banner on the same line, as in the HTML-derived files.
"""

from __future__ import annotations

import argparse
import bisect
import itertools
import json
import math
import multiprocessing
import os
import random
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Generic, TypeVar

# (origin, ref-id post, banner post, station, FM line, country tag, weight in the corpus)
ORIGINS: tuple[tuple[str, str, str, str, str, str, int], ...] = (
    ("Secretary of State", "STATE", "STATE", "RUEHC", "SECSTATE WASHDC", "", 33),
    ("Embassy Paris", "PARIS", "PARIS", "RUEHFR", "AMEMBASSY PARIS", "FR", 13),
    ("Embassy Tehran", "TEHRAN", "TEHRAN", "RUQMHR", "AMEMBASSY TEHRAN", "IR", 13),
    ("Embassy Berlin", "BERLIN", "BERLIN", "RUEHRL", "AMEMBASSY BERLIN", "GM", 12),
    ("Embassy Kabul", "KABUL", "KABUL", "RUEHBUL", "AMEMBASSY KABUL", "AF", 9),
    ("Embassy Brasilia", "BRASILIA", "BRASILIA", "RUEHBR", "AMEMBASSY BRASILIA", "BR", 8),
    ("Embassy Beirut", "BEIRUT", "BEIRUT", "RUEHLB", "AMEMBASSY BEIRUT", "LE", 7),
    ("Embassy Tripoli", "TRIPOLI", "TRIPOLI", "RUEHTRO", "AMEMBASSY TRIPOLI", "LY", 6),
    ("Embassy Madrid", "MADRID", "MADRID", "RUEHMD", "AMEMBASSY MADRID", "SP", 6),
    ("Embassy Mogadishu", "MOGADISHU", "MOGADISHU", "RUEHMQ", "AMEMBASSY MOGADISHU", "SO", 5),
    ("Embassy London", "LONDON", "LONDON", "RUEHLO", "AMEMBASSY LONDON", "UK", 4),
    (
        "Consulate Rio De Janeiro",
        "RIODEJANEIRO",
        "RIO DE JANEIRO",
        "RUEHRI",
        "AMCONSUL RIO DE JANEIRO",
        "BR",
        4,
    ),
    ("Embassy Sanaa", "SANAA", "SANAA", "RUEHYN", "AMEMBASSY SANAA", "YM", 4),
    ("Embassy Baghdad", "BAGHDAD", "BAGHDAD", "RUEHGB", "AMEMBASSY BAGHDAD", "IZ", 4),
    ("Embassy Islamabad", "ISLAMABAD", "ISLAMABAD", "RUEHIL", "AMEMBASSY ISLAMABAD", "PK", 4),
    ("Embassy Caracas", "CARACAS", "CARACAS", "RUEHCV", "AMEMBASSY CARACAS", "VE", 3),
    ("Embassy Beijing", "BEIJING", "BEIJING", "RUEHBJ", "AMEMBASSY BEIJING", "CH", 3),
    ("Embassy Harare", "HARARE", "HARARE", "RUEHSB", "AMEMBASSY HARARE", "ZI", 3),
    ("Embassy Ankara", "ANKARA", "ANKARA", "RUEHAK", "AMEMBASSY ANKARA", "TU", 3),
    ("Embassy Riyadh", "RIYADH", "RIYADH", "RUEHRH", "AMEMBASSY RIYADH", "SA", 3),
    ("Embassy Abu Dhabi", "ABUDHABI", "ABU DHABI", "RUEHAD", "AMEMBASSY ABU DHABI", "AE", 3),
    ("Embassy Baku", "BAKU", "BAKU", "RUEHKB", "AMEMBASSY BAKU", "AJ", 3),
    ("Embassy Tokyo", "TOKYO", "TOKYO", "RUEHKO", "AMEMBASSY TOKYO", "JA", 2),
    ("Embassy Rome", "ROME", "ROME", "RUEHRO", "AMEMBASSY ROME", "IT", 2),
    ("Embassy Moscow", "MOSCOW", "MOSCOW", "RUEHMO", "AMEMBASSY MOSCOW", "RS", 2),
    ("Embassy Tel Aviv", "TELAVIV", "TEL AVIV", "RUEHTV", "AMEMBASSY TEL AVIV", "IS", 2),
    ("Embassy Seoul", "SEOUL", "SEOUL", "RUEHUL", "AMEMBASSY SEOUL", "KS", 2),
    ("Embassy Cairo", "CAIRO", "CAIRO", "RUEHEG", "AMEMBASSY CAIRO", "EG", 2),
    ("Embassy Nairobi", "NAIROBI", "NAIROBI", "RUEHNR", "AMEMBASSY NAIROBI", "KE", 2),
    ("Embassy Lima", "LIMA", "LIMA", "RUEHPE", "AMEMBASSY LIMA", "PE", 2),
    ("Mission USNATO", "USNATO", "USNATO", "RUEHNO", "USMISSION USNATO", "NATO", 2),
    ("USEU Brussels", "USEUBRUSSELS", "USEU BRUSSELS", "RUEHBS", "USEU BRUSSELS", "EUN", 2),
    ("UNVIE", "UNVIEVIENNA", "UNVIE VIENNA", "RUEHUNV", "USMISSION UNVIE VIENNA", "IAEA", 2),
    ("Consulate Peshawar", "PESHAWAR", "PESHAWAR", "RUEHPW", "AMCONSUL PESHAWAR", "PK", 2),
    ("Embassy Bogota", "BOGOTA", "BOGOTA", "RUEHBO", "AMEMBASSY BOGOTA", "CO", 2),
    ("Embassy Pretoria", "PRETORIA", "PRETORIA", "RUEHSA", "AMEMBASSY PRETORIA", "SF", 2),
    ("Embassy Damascus", "DAMASCUS", "DAMASCUS", "RUEHDM", "AMEMBASSY DAMASCUS", "SY", 2),
    ("Embassy Vatican", "VATICAN", "VATICAN", "RUEHROV", "AMEMBASSY VATICAN", "VT", 1),
    ("Embassy Muscat", "MUSCAT", "MUSCAT", "RUEHMS", "AMEMBASSY MUSCAT", "MU", 1),
    ("Consulate Munich", "MUNICH", "MUNICH", "RUEHMZ", "AMCONSUL MUNICH", "GM", 1),
)

# classification (metadata line) -> weight per decade, from the corpus README's table
DECADES = (1960, 1970, 1980, 1990, 2000, 2010)
CLASS_DECADE: dict[str, tuple[int, ...]] = {
    "UNCLASSIFIED": (1, 5, 7, 5, 10, 0),
    "UNCLASSIFIED//FOR OFFICIAL USE ONLY": (0, 0, 0, 0, 13, 4),
    "CONFIDENTIAL": (0, 9, 9, 3, 62, 25),
    "CONFIDENTIAL//NOFORN": (0, 0, 0, 0, 13, 4),
    "SECRET": (0, 2, 8, 3, 51, 12),
    "SECRET//NOFORN": (0, 0, 1, 0, 30, 10),
}
BANNERS = {"U": "UNCLAS", "C": "C O N F I D E N T I A L", "S": "S E C R E T"}
ZNY = {"U": "ZNR UUUUU ZZH", "C": "ZNY CCCCC ZZH", "S": "ZNY SSSSS ZZH"}
# paragraph marks by level, weighted by their counts in the corpus
MARKS: dict[str, tuple[tuple[str, int], ...]] = {
    "U": (("(U)", 245), ("(SBU)", 246), ("", 459)),
    "UF": (("(U)", 200), ("(SBU)", 246), ("(U//FOUO)", 60), ("", 300)),
    "C": (("(C)", 860), ("(U)", 245), ("(SBU)", 120), ("", 459)),
    "CNF": (("(C/NF)", 94), ("(C//NF)", 24), ("(C)", 300), ("(U)", 100), ("", 150)),
    "S": (("(S)", 384), ("(C)", 300), ("(U)", 150), ("(C/REL NATO)", 18), ("", 300)),
    "SNF": (("(S/NF)", 300), ("(S//NF)", 32), ("(S)", 200), ("(C)", 100), ("", 100)),
}
TAGS = (  # noqa: SIM905 (a word list reads better as text)
    "PREL PGOV PTER ECON ETRD EFIN ENRG MARR MOPS KNNP PARM PHUM PINR KDEM SOCI SENV "
    "EAID ELAB KCRM SNAR KJUS PINS EPET EINV KWMN OVIP ASEC AMGT CVIS KPAO PHSA"
).split()
WORDS = (  # noqa: SIM905
    "the minister said government embassy officials would that noted ambassador "
    "president parliament election security forces agreement talks meeting "
    "cooperation support regional opposition party coalition reform economic policy "
    "foreign affairs ministry discussed proposal negotiations military assistance "
    "program sanctions nuclear energy trade investment border refugees human rights "
    "press public opinion concerns visit delegation deputy counterparts bilateral "
    "strategy implementation budget council according contacts believe likely however "
    "further planned week month officials told poloff econoff comment summary request "
    "action post will continue monitor report"
).split()
TITLES = ("Ambassador", "DCM", "Political Counselor", "CDA", "A/DCM", "POLOFF", "Econ Counselor")
NAMES = ("JOHN SMITH", "Robert Jones", "Mary Carter", "James W. Baker", "Susan Miller", "L. Chen")
SIGNERS = ("DONOVAN", "SCHIEFFER", "CROCKER", "RICE", "KOENIG", "TIMKEN", "SOBEL", "HILL")
MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
EVENTS = ("AFTER KOREAN UNIFICATION", "CLOSURE OF ICTY", "END OF NEGOTIATIONS")
FORMULA_LEN = 65
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class GeneratedCable:
    """One synthetic cable: `text` is the whole file (5 metadata lines, then
    `header + content`, exactly like the corpus files)."""

    index: int
    ref_id: str
    subject: str
    created: datetime
    classification: str
    origin: str
    header: str
    content: str

    @property
    def text(self) -> str:
        return "\n".join(self._meta()) + "\n" + self.header + self.content

    def _meta(self) -> list[str]:
        return [
            self.ref_id,
            self.subject,
            date_line(self.created),
            self.classification,
            self.origin,
        ]


def date_line(when: datetime) -> str:
    """`Thu Dec 20 00:00:00 +0100 2007`: midnight of the day, Europe/Paris offset."""
    return f"{when:%a %b %d} 00:00:00 {'+0200' if _summer(when.date()) else '+0100'} {when.year}"


def _last_sunday(year: int, month: int) -> date:
    day = date(year, month + 1, 1) - timedelta(days=1)
    return day - timedelta(days=(day.weekday() + 1) % 7)


def _summer(day: date) -> bool:
    return _last_sunday(day.year, 3) <= day < _last_sunday(day.year, 10)


def _wrap(words: Sequence[str]) -> str:
    lines, line = [], ""
    for word in words:
        if len(line) + len(word) + 1 > FORMULA_LEN and line:
            lines.append(line + " ")
            line = word
        else:
            line = f"{line} {word}" if line else word
    lines.append(line + " ")
    return "\n".join(lines)


class Pools:
    """Paragraph bodies and subjects made once per seed; cables pick from them by index."""

    def __init__(self, seed: int, size: int = 4096) -> None:
        rng = random.Random(seed)
        self.paragraphs: list[str] = []
        for _ in range(size):
            target = max(60, int(rng.lognormvariate(math.log(750), 0.6)))
            words: list[str] = []
            length = 0
            while length < target:
                word = rng.choice(WORDS)
                words.append(word.capitalize() if not words or words[-1].endswith(".") else word)
                length += len(word) + 1
                if rng.random() < 0.08:
                    words[-1] += "."
            words[-1] = words[-1].rstrip(".") + "."
            self.paragraphs.append(_wrap(words))
        self.subjects = [
            " ".join(rng.choice(WORDS).upper() for _ in range(rng.randint(3, 9)))
            for _ in range(size)
        ]


class Weighted(Generic[T]):
    """A weighted choice with its cumulative weights made once (the hot path of the run)."""

    def __init__(self, pairs: Sequence[tuple[T, int]]) -> None:
        self.values = [value for value, _ in pairs]
        self.cumulative = list(itertools.accumulate(weight for _, weight in pairs))
        self.total = self.cumulative[-1]

    def pick(self, rng: random.Random) -> T:
        return self.values[bisect.bisect_right(self.cumulative, rng.random() * self.total)]


def _weighted(rng: random.Random, pairs: Sequence[tuple[str, int]]) -> str:
    table = _TABLES.get(id(pairs))
    if table is None:
        table = _TABLES[id(pairs)] = Weighted(pairs)
    return table.pick(rng)


_TABLES: dict[int, Weighted[str]] = {}
_CELLS = Weighted(
    [((c, d), w) for c, ws in CLASS_DECADE.items() for d, w in zip(DECADES, ws, strict=True)]
)
_ORIGINS = Weighted([(row, row[6]) for row in ORIGINS])
_YEARS = (("10", 80), ("25", 8), ("5", 5), ("15", 4), ("20", 3))
_FORMS = (
    ("mdY", 820),
    ("Ymd", 70),
    ("mdy", 35),
    ("event", 20),
    ("25X", 20),
    ("X", 10),
    ("iso", 5),
    ("on", 5),
    ("none", 15),
)


def _pick_class_and_date(rng: random.Random) -> tuple[str, datetime]:
    cls, decade = _CELLS.pick(rng)
    if decade == 2010:
        start, days = date(2010, 1, 1), 58  # Cablegate ends in February 2010
    elif decade == 1960:
        start, days = date(1966, 1, 1), 4 * 365
    else:
        start, days = date(decade, 1, 1), 3652
    day = start + timedelta(days=rng.randrange(days))
    return cls, datetime(day.year, day.month, day.day, rng.randrange(24), rng.randrange(60))


def _decl(rng: random.Random, created: datetime, level: str) -> str | None:
    """The E.O. line (None: the cable has none)."""
    day = created.date()
    if day < date(1978, 12, 1):
        return "E. O. 11652: N/A" if level == "U" else f"E. O. 11652: {rng.choice(['GDS', 'NGDS'])}"
    if day < date(1982, 4, 2):
        if level == "U":
            return "E.O. 12065: N/A"
        return (
            f"E.O. 12065: GDS {day.month}/{day.day}/{(day.year + 6) % 100:02d} (SMITH, JOHN) OR-P"
        )
    if day < date(1995, 10, 14):
        return "E.O. 12356: N/A" if level == "U" else "E.O. 12356: DECL: OADR"
    if level == "U":
        return rng.choice(["E.O. 12958: N/A", "E.O. 12958: N/A", "EO 12958 N/A"])
    years = int(_weighted(rng, _YEARS))
    when = date(day.year + years, day.month, min(day.day, 28)) - timedelta(days=1)
    form = _weighted(rng, _FORMS)
    if form == "none":
        return None
    text = {
        "mdY": f"DECL: {when.month:02d}/{when.day:02d}/{when.year}",
        "Ymd": f"DECL: {when:%Y/%m/%d}",
        "mdy": f"DECL: {when.month}/{when.day}/{when:%y}",
        "event": f"DECL: {rng.choice(EVENTS)}",
        "25X": "DECL: 25X1",
        "X": "DECL: X1",
        "iso": f"DECL: {when:%Y-%m-%d}",
        "on": f"Declassify on {when.month}/{when.day}/{when.year}",
    }[form]
    return f"{'E.O. 12958:' if rng.random() < 0.85 else 'EO 12958'} {text}"


def _routing(
    rng: random.Random,
    o: tuple[str, ...],
    created: datetime,
    level: str,
    serial: int,
    sections: int,
) -> list[str]:
    dtg = f"{created:%d%H%M}Z {MONTHS[created.month - 1]} {created:%y}"
    prec = rng.choice("RRRPPO")
    to = "RUEHC/SECSTATE WASHDC" if o[1] != "STATE" else "RUEHKO/AMEMBASSY TOKYO"
    lines: list[str] = []
    if created.year >= 1990:
        section = "/01" if sections > 1 else ""
        julian = f"{created.timetuple().tm_yday:03d}{created:%H%M}"
        lines += [
            f"VZCZCXYZ{rng.randrange(10000):04d}",
            f"{prec}{prec} RUEHWEB",
            "",
            f"DE {o[3]} #{serial % 10000:04d}{section} {julian}",
            ZNY[level],
        ]
    lines += [f"{prec} {dtg}", f"FM {o[4]}", f"TO {to} {rng.randrange(10000):04d}"]
    lines += [f"INFO RUEHBS/AMEMBASSY BRUSSELS {rng.randrange(10000):04d}"] * rng.randint(0, 1)
    return lines


def _serial(index: int) -> int:
    """A serial unique to `index` (a bijection of 0..999,999, then a million more each)."""
    return (index % 1_000_000) * 7919 % 1_000_000 + index // 1_000_000 * 1_000_000 + 1


def cable_identity(index: int, seed: int) -> tuple[str, datetime]:
    """The reference id and creation time of cable `index`, without rendering its text
    (the same first draws as `make_cable`)."""
    rng = random.Random(seed * 1_000_003 + index)
    _cls, created = _pick_class_and_date(rng)
    origin = _ORIGINS.pick(rng)
    return f"{created:%y}{origin[1]}{_serial(index)}", created


def make_cable(index: int, seed: int, pools: Pools) -> GeneratedCable:
    """Cable number `index` of the run seeded with `seed` (depends on nothing else)."""
    rng = random.Random(seed * 1_000_003 + index)
    cls, created = _pick_class_and_date(rng)
    level = cls[0] if cls[0] != "U" else "U"
    noforn, fouo = cls.endswith("NOFORN"), cls.endswith("ONLY")
    o = _ORIGINS.pick(rng)
    serial = _serial(index)
    ref_id = f"{created:%y}{o[1]}{serial}"
    subject = pools.subjects[rng.randrange(len(pools.subjects))]
    count = max(1, min(60, round(rng.lognormvariate(math.log(8), 0.6))))
    bodies = [pools.paragraphs[rng.randrange(len(pools.paragraphs))] for _ in range(count)]
    sections = 1 + sum(len(b) for b in bodies) // 9000
    modern = created.date() >= date(1995, 10, 14)
    pilcrow = "¶" if modern and rng.random() < 0.85 else ""
    marks = MARKS[level + ("NF" if noforn else "F" if fouo else "")]
    body_lines: list[str] = []
    first = 1
    if not modern and level != "U":
        word = {"C": "CONFIDENTIAL", "S": "SECRET"}[level]
        body_lines.append(f"1. {word} - ENTIRE TEXT.")
        first = 2
    per_page = max(1, count // sections)
    for n, text in enumerate(bodies, start=first):
        mark = _weighted(rng, marks) if modern else ""
        body_lines.append(f"{pilcrow}{n}. {mark + ' ' if mark else ''}{text}")
        page = (n - first + 1) // per_page + 1
        if sections > 1 and (n - first + 1) % per_page == 0 and page <= sections:
            body_lines.append(f"{o[2]} {serial:08d}  {page:03d} OF {sections:03d}")
    banner = BANNERS[level]
    section = f" SECTION 01 OF {sections:02d}" if sections > 1 else ""
    parts = [f"{banner}{section} {o[2]} {serial:06d} ", " "]
    if modern:
        parts += ["SIPDIS ", " "] + (["NOFORN ", " "] if noforn else [])
    decl = _decl(rng, created, level)
    if decl is not None:
        parts.append(decl + " ")
    tags = " ".join(rng.sample(TAGS, rng.randint(1, 4)) + ([o[5]] if o[5] else []))
    parts += [f"TAGS: {tags}", f"SUBJECT: {subject} ", " "]
    if rng.random() < 0.5:
        parts += [f"REF: STATE {rng.randrange(1, 200000)} ", " "]
    if modern and level != "U":
        reason = "1.4" if created.date() >= date(2003, 9, 22) else "1.5"
        by = f"{rng.choice(TITLES)} {rng.choice(NAMES)}"
        parts += [f"Classified By: {by} for reasons {reason}(b) and (d) ", " "]
    parts.append("\n \n".join(body_lines))
    parts += [" ", rng.choice(SIGNERS), ""]
    header = "\n".join(_routing(rng, o, created, level, serial, sections))
    header += "\n" if rng.random() < 0.3 else ""
    return GeneratedCable(index, ref_id, subject, created, cls, o[0], header, "\n".join(parts))


def generate(count: int, *, seed: int = 1, start: int = 0) -> Iterator[GeneratedCable]:
    """Cables `start` .. `start + count - 1` of the run seeded with `seed`."""
    pools = Pools(seed)
    for index in range(start, start + count):
        yield make_cable(index, seed, pools)


CSV_HEADER = ("id", "date", "refid", "origin", "classification", "destination", "header", "content")
CHUNK = 2000
_POOLS: dict[int, Pools] = {}


def csv_line(fields: Sequence[object]) -> str:
    """One RFC 4180 row with every field quoted (what `csv.QUOTE_ALL` writes, with CRLF),
    built with `str.replace`: about twice as fast as `csv.writer` on 9 KB fields."""
    return ",".join('"' + str(field).replace('"', '""') + '"' for field in fields) + "\r\n"


def _row(cable: GeneratedCable) -> list[object]:
    made = cable.created
    when = f"{made.month}/{made.day}/{made.year} {made.hour}:{made.minute:02d}"
    return [
        cable.index + 1,
        when,
        cable.ref_id,
        cable.origin,
        cable.classification,
        "",
        cable.header,
        cable.content,
    ]


def render_chunk(job: tuple[str, int, int, int, str]) -> tuple[bytes, int]:
    """Cables `start` .. `start + count - 1` rendered in `fmt`: the bytes to append (csv,
    ndjson), or written as files into `folder` (text). Returns (bytes, size written)."""
    fmt, seed, start, count, folder = job
    pools = _POOLS.get(seed) or _POOLS.setdefault(seed, Pools(seed))
    cables = (make_cable(index, seed, pools) for index in range(start, start + count))
    if fmt == "text":
        size = 0
        for cable in cables:
            data = cable.text.encode()
            (Path(folder) / f"{cable.ref_id}.txt").write_bytes(data)
            size += len(data)
        return b"", size
    if fmt == "csv":
        text = "".join(csv_line(_row(cable)) for cable in cables)
    else:
        text = "".join(json.dumps({"text": c.text}, ensure_ascii=False) + "\n" for c in cables)
    data = text.encode()
    return data, len(data)


def write(count: int, *, seed: int, fmt: str, out: str, start: int = 0, jobs: int = 0) -> int:
    """Write cables `start` .. `start + count - 1` as `text` files into the directory `out`,
    or as one `csv` / `ndjson` file (`-` = standard output), rendering chunks of `CHUNK`
    cables in `jobs` processes (0: one per core). Returns the number of bytes written."""
    if fmt == "text":
        Path(out).mkdir(parents=True, exist_ok=True)
    chunks = [
        (fmt, seed, first, min(CHUNK, start + count - first), out)
        for first in range(start, start + count, CHUNK)
    ]
    stream = sys.stdout.buffer if out == "-" else None
    if fmt != "text" and stream is None:
        stream = open(out, "wb")  # noqa: SIM115 (closed below)
    written = 0
    try:
        if fmt == "csv" and stream is not None:
            stream.write(csv_line(CSV_HEADER).encode())
        with multiprocessing.Pool(jobs or os.cpu_count() or 1) as pool:
            for data, size in pool.imap(render_chunk, chunks):
                if stream is not None:
                    stream.write(data)
                written += size
    finally:
        if stream is not None and out != "-":
            stream.close()
    return written


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--count", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--start", type=int, default=0, help="index of the first cable")
    parser.add_argument("--format", choices=("text", "csv", "ndjson"), default="csv")
    parser.add_argument("--out", required=True, help="a directory for text, a file or - otherwise")
    parser.add_argument("--jobs", type=int, default=0, help="processes (0: one per core)")
    args = parser.parse_args(argv)
    began = time.perf_counter()
    size = write(
        args.count, seed=args.seed, fmt=args.format, out=args.out, start=args.start, jobs=args.jobs
    )
    elapsed = time.perf_counter() - began
    print(
        f"{args.count} cables, {size / 1e6:.0f} MB in {elapsed:.1f} s "
        f"({args.count / elapsed:,.0f} cables/s)",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
