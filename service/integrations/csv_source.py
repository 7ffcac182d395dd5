"""Reading a bulk-import file one row at a time, with the byte offset just after each row.
PURE: no database, no web framework.

Invariants:

* The file is read as a stream of lines from a byte offset: nothing is held but the current
  row, and no line longer than `max_line_bytes` is ever read into memory (a longer line
  ends the file with `SourceFormatError` for CSV, or rejects the row for NDJSON).
* `SourceRow.end` is the offset just after the row's last line, so reading again from it
  gives the next row: an import that stores `end` with each batch resumes exactly there.
* Row numbers count data rows from 1 (a header row is not a row); blank lines are skipped
  and not counted, so numbering is the same whatever offset reading resumed from.

The cable text of a CSV row is the cablegate file layout (five metadata lines, then the
telegram, see `../shared/corpus/README.md`): line 1 `refid`, line 2 the cable's own
`SUBJECT:` text (continuation lines joined, whitespace collapsed), line 3 the creation day
at midnight Europe/Paris in Ruby `Time#to_s` form, line 4 `classification`, line 5
`origin`, then `header + content`. Metadata lines end with CRLF when the telegram does.
This is how the corpus files were made from the original CSV, so the parser sees one layout
whatever the source, and a row of the original file reproduces its corpus file byte for byte.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import BinaryIO
from zoneinfo import ZoneInfo

CSV_HEADER = ("id", "date", "refid", "origin", "classification", "destination", "header", "content")
DEFAULT_MAX_LINE_BYTES = 16 * 1024 * 1024
MAX_REF_ID = 64

_PARIS = ZoneInfo("Europe/Paris")
_SUBJECT = re.compile(r"^[ \t]*SUBJ(?:ECT)?[ \t]*:[ \t]*(.*)$", re.MULTILINE | re.IGNORECASE)
_REF_ID = re.compile(r"\d{2}[A-Z0-9]*[A-Z][A-Z0-9]*\d")
_CREATED = re.compile(r"\s*(\d{1,2})/(\d{1,2})/(\d{4})(?:\s+\d{1,2}:\d{2})?\s*")


class ImportFormat(StrEnum):
    csv = "csv"  # RFC 4180 with the header id,date,refid,origin,classification,...
    csv_original = "csv-original"  # the original WikiLeaks file: no header, backslash escapes
    ndjson = "ndjson"  # one {"text": "..."} object per line


class SourceFormatError(ValueError):
    """The file cannot be read further (the import stops with this message)."""


@dataclass(frozen=True, slots=True)
class SourceRow:
    """One data row: its cable text, or why it has none."""

    number: int
    ref_id: str | None
    text: str | None
    error: str | None
    end: int


def detect_format(head: bytes) -> ImportFormat:
    """The format of a file from its first bytes: NDJSON when it opens with `{`, RFC 4180
    CSV when the first line is the cablegate header, else the original (headerless) file."""
    stripped = head.removeprefix(b"\xef\xbb\xbf").lstrip()
    if stripped.startswith(b"{"):
        return ImportFormat.ndjson
    first = stripped.split(b"\n", 1)[0].replace(b'"', b"").strip().lower()
    if first == ",".join(CSV_HEADER).encode():
        return ImportFormat.csv
    return ImportFormat.csv_original


def creation_line(value: str) -> str:
    """`12/28/1966 18:48` as the corpus date line `Wed Dec 28 00:00:00 +0100 1966` (the
    creation day at midnight in Paris, as alx/cablegate wrote it); empty when not a date."""
    match = _CREATED.fullmatch(value)
    if match is None:
        return ""
    month, day, year = (int(part) for part in match.groups())
    try:
        midnight = datetime(year, month, day, tzinfo=_PARIS)
    except ValueError:
        return ""
    return midnight.strftime("%a %b %d 00:00:00 %z %Y")


def subject_line(telegram: str) -> str:
    """The text of the cable's first `SUBJECT:` line with its indented continuation lines,
    whitespace collapsed ("" when there is none)."""
    match = _SUBJECT.search(telegram)
    if match is None:
        return ""
    parts = [match.group(1)]
    for line in telegram[match.end() :].splitlines()[1:]:
        if not line[:1].isspace() or not line.strip():
            break
        parts.append(line)
    return " ".join(" ".join(parts).split())


def cable_text(*, ref_id: str, date: str, classification: str, origin: str, telegram: str) -> str:
    """The cable file for one CSV row (see the module docstring)."""
    newline = "\r\n" if "\r\n" in telegram else "\n"
    lines = [ref_id, subject_line(telegram), creation_line(date), classification, origin]
    return newline.join(line.strip() for line in lines) + newline + telegram


class _Lines:
    """Decoded lines of a binary stream from `offset`; `pos` is the offset after the last
    line handed out and `bad_utf8` whether any line since the last reset was not UTF-8."""

    def __init__(self, stream: BinaryIO, offset: int, max_line_bytes: int) -> None:
        stream.seek(offset)
        self.stream = stream
        self.pos = offset
        self.max_line_bytes = max_line_bytes
        self.bad_utf8 = False
        self.too_long = False

    def __iter__(self) -> Iterator[str]:
        readline = self.stream.readline
        limit = self.max_line_bytes
        while True:
            raw = readline(limit + 1)
            if not raw:
                return
            if len(raw) > limit and not raw.endswith(b"\n"):
                self.too_long = True
                self.pos += len(raw) + self._skip_line()
                yield "\n"
                continue
            self.pos += len(raw)
            try:
                yield raw.decode("utf-8")
            except UnicodeDecodeError:
                self.bad_utf8 = True
                yield raw.decode("utf-8", "replace")

    def _skip_line(self) -> int:
        skipped = 0
        while True:
            chunk = self.stream.readline(1024 * 1024)
            skipped += len(chunk)
            if not chunk or chunk.endswith(b"\n"):
                return skipped


def _csv_row(number: int, fields: list[str], end: int) -> SourceRow:
    if len(fields) != len(CSV_HEADER):
        ref_id = fields[2].strip() or None if len(fields) > 2 else None
        message = f"expected {len(CSV_HEADER)} fields, found {len(fields)}"
        return SourceRow(number, ref_id, None, message, end)
    _id, date, ref_id, origin, classification, _destination, header, content = fields
    ref_id = ref_id.strip()
    telegram = header + content
    if not ref_id:
        return SourceRow(number, None, None, "the refid field is empty", end)
    if len(ref_id) > MAX_REF_ID:
        return SourceRow(number, ref_id[:MAX_REF_ID], None, "the refid is too long", end)
    if not telegram.strip():
        return SourceRow(number, ref_id, None, "the header and content fields are empty", end)
    text = cable_text(
        ref_id=ref_id, date=date, classification=classification, origin=origin, telegram=telegram
    )
    return SourceRow(number, ref_id, text, None, end)


def _read_csv(
    lines: _Lines, *, original: bool, number: int, skip_header: bool
) -> Iterator[SourceRow]:
    if original:
        reader = csv.reader(lines, escapechar="\\", doublequote=False, strict=False)
    else:
        reader = csv.reader(lines, strict=False)
    while True:
        lines.bad_utf8 = False
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            number += 1
            yield SourceRow(number, None, None, f"unreadable CSV row: {error}", lines.pos)
            continue
        if lines.too_long:
            raise SourceFormatError(f"a line is longer than {lines.max_line_bytes} bytes")
        if skip_header:
            skip_header = False
            if tuple(f.strip().lower().lstrip("\ufeff") for f in fields) == CSV_HEADER:
                continue
        if not fields or (len(fields) == 1 and not fields[0].strip()):
            continue
        number += 1
        if lines.bad_utf8:
            yield SourceRow(number, None, None, "the row is not UTF-8 text", lines.pos)
            continue
        yield _csv_row(number, fields, lines.pos)


def _ndjson_row(number: int, line: str, end: int) -> SourceRow:
    try:
        value = json.loads(line)
    except ValueError as error:
        return SourceRow(number, None, None, f"not a JSON object: {error}", end)
    text = value.get("text") if isinstance(value, dict) else None
    if not isinstance(text, str) or not text.strip():
        return SourceRow(number, None, None, 'expected {"text": "<cable text>"}', end)
    first = text.lstrip().split("\n", 1)[0].strip()
    ref_id = first[:MAX_REF_ID] if _REF_ID.fullmatch(first) else None
    return SourceRow(number, ref_id, text, None, end)


def _read_ndjson(lines: _Lines, *, number: int) -> Iterator[SourceRow]:
    for line in lines:
        if lines.too_long:
            lines.too_long = False
            number += 1
            message = f"the line is longer than {lines.max_line_bytes} bytes"
            yield SourceRow(number, None, None, message, lines.pos)
            continue
        if not line.strip():
            continue
        number += 1
        if lines.bad_utf8:
            lines.bad_utf8 = False
            yield SourceRow(number, None, None, "the line is not UTF-8 text", lines.pos)
            continue
        yield _ndjson_row(number, line, lines.pos)


def read_rows(
    stream: BinaryIO,
    *,
    fmt: ImportFormat,
    offset: int = 0,
    rows_before: int = 0,
    max_line_bytes: int = DEFAULT_MAX_LINE_BYTES,
) -> Iterator[SourceRow]:
    """The rows of `stream` from byte `offset` on; `rows_before` rows precede that offset.

    Raises `SourceFormatError` when the file cannot be read further."""
    if csv.field_size_limit() < max_line_bytes:
        csv.field_size_limit(max_line_bytes)
    lines = _Lines(stream, offset, max_line_bytes)
    if fmt is ImportFormat.ndjson:
        return _read_ndjson(lines, number=rows_before)
    return _read_csv(
        lines,
        original=fmt is ImportFormat.csv_original,
        number=rows_before,
        skip_header=offset == 0,
    )
