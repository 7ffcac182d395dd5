"""Properties of the bulk-import reader (service/integrations/csv_source.py, pure).

- Any bytes, in each of the three formats: `read_rows` yields rows or stops with
  `SourceFormatError`, never another exception; rows are numbered 1, 2, 3...; each row has
  a text or an error, not both; row ends never go back and stay inside the file.
- Resuming from any row's `end` (with the rows before it counted) gives exactly the rows
  that followed it: what an import killed after a batch relies on.
- Valid files round-trip: NDJSON of any texts gives those texts in order; CSV written by
  `csv.writer` with the cablegate header gives each row's ref id and its telegram.
"""

from __future__ import annotations

import csv
import io
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from service.integrations.csv_source import (
    CSV_HEADER,
    ImportFormat,
    SourceFormatError,
    SourceRow,
    read_rows,
)

FORMATS = st.sampled_from(list(ImportFormat))
MAX_LINE = 256  # small, so long lines are exercised too

# Bytes that look like import files: pieces of CSV and NDJSON syntax, text, invalid UTF-8.
PIECES = st.one_of(
    st.sampled_from(
        [
            b",",
            b'"',
            b'""',
            b"\\",
            b'\\"',
            b"\n",
            b"\r\n",
            b"\r",
            b"{",
            b"}",
            b'{"text": ',
            b'"07TOKYO5624\\nbody"',
            b"null",
            b"\xef\xbb\xbf",
            b"\xff\xfe",
            b"\xc3",
            b"\x00",
            ",".join(CSV_HEADER).encode() + b"\r\n",
            b"1,12/20/2007 07:53,07TOKYO5624,Tokyo,",
        ]
    ),
    st.binary(max_size=20),
    st.text(max_size=20).map(str.encode),
    st.just(b"x" * (MAX_LINE + 10)),
)
files = st.lists(PIECES, max_size=30).map(b"".join)


def rows_of(
    data: bytes,
    fmt: ImportFormat,
    offset: int = 0,
    before: int = 0,
    max_line: int = MAX_LINE,
) -> list[SourceRow]:
    """The rows read, up to a SourceFormatError (which ends the file, with a message)."""
    out: list[SourceRow] = []
    stopped: SourceFormatError | None = None
    stream = io.BytesIO(data)
    try:
        out.extend(
            read_rows(stream, fmt=fmt, offset=offset, rows_before=before, max_line_bytes=max_line)
        )
    except SourceFormatError as error:
        stopped = error
    assert stopped is None or str(stopped)
    return out


@settings(max_examples=300)
@given(files, FORMATS)
def test_any_bytes_give_numbered_rows_or_a_format_error(data: bytes, fmt: ImportFormat) -> None:
    rows = rows_of(data, fmt)
    assert [row.number for row in rows] == list(range(1, len(rows) + 1))
    ends = [row.end for row in rows]
    assert ends == sorted(ends)
    assert all(0 < end <= len(data) for end in ends)
    for row in rows:
        assert (row.text is None) != (row.error is None)
        assert row.error is None or row.error.strip()


@settings(max_examples=200)
@given(files, FORMATS, st.data())
def test_resuming_after_any_row_gives_the_rows_that_followed(
    data: bytes, fmt: ImportFormat, pick: st.DataObject
) -> None:
    rows = rows_of(data, fmt)
    if not rows:
        return
    at = pick.draw(st.integers(0, len(rows) - 1))
    resumed = rows_of(data, fmt, offset=rows[at].end, before=rows[at].number)
    assert resumed == rows[at + 1 :]


@given(st.lists(st.text(min_size=1).filter(str.strip), max_size=8))
def test_ndjson_of_any_texts_round_trips(texts: list[str]) -> None:
    data = b"".join(json.dumps({"text": t}).encode() + b"\n" for t in texts)
    rows = rows_of(data, ImportFormat.ndjson, max_line=1 << 20)
    assert [(row.number, row.text, row.error) for row in rows] == [
        (n, t, None) for n, t in enumerate(texts, 1)
    ]


ref_ids = st.from_regex(r"\d{2}[A-Z]{3,8}\d{1,5}", fullmatch=True)
telegrams = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), min_size=1
).filter(str.strip)


@given(st.lists(st.tuples(ref_ids, telegrams), max_size=6))
def test_csv_written_by_a_csv_writer_round_trips(rows_in: list[tuple[str, str]]) -> None:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for n, (ref_id, telegram) in enumerate(rows_in, 1):
        writer.writerow([n, "12/20/2007 07:53", ref_id, "Tokyo", "SECRET", "", telegram, ""])
    rows = rows_of(out.getvalue().encode(), ImportFormat.csv, max_line=1 << 20)
    assert [(row.number, row.ref_id, row.error) for row in rows] == [
        (n, ref_id, None) for n, (ref_id, _) in enumerate(rows_in, 1)
    ]
    for row, (_, telegram) in zip(rows, rows_in, strict=True):
        assert row.text is not None
        assert row.text.endswith(telegram)
