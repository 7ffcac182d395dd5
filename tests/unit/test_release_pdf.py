"""PDF release of the seed cable: released words present, redacted words nowhere in the file.

"Nowhere" means: not in any page's extracted text, not in any decompressed stream, not in
any string of any object (metadata included), not in the outline, not in the raw bytes.
Page images go to test-artifacts/ (gitignored) when pdftoppm is installed, to be looked at.
"""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from dataclasses import replace
from datetime import date
from itertools import pairwise
from pathlib import Path

import pytest
from pypdf import PdfReader
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, PdfObject, StreamObject

from service.release import (
    PortionAction,
    ReleaseDocument,
    ReleasePortion,
    ReleaseSpan,
    render_pdf,
    render_text,
)

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "service" / "demo" / "07TOKYO5624.txt"
ARTIFACTS = ROOT / "test-artifacts"
REDACTED_NAME = "Michiko Makino"
# The span in paragraph 2, and words that occur only in paragraph 6 (withheld whole).
SECRETS = (REDACTED_NAME, "Michiko", "Makino", "Inoguchi", "Yamaguchi", "NHK", "eighty percent")
RELEASED = ("CLUSTER MUNITIONS", "Kajita", "Takuma", "Conventional Arms Division", "SCHIEFFER")
STAMP = (
    "DECLASSIFIED",
    "Authority: E.O. 13526",
    "By: A. Reviewer, B. Approver",
    "Date: 2025-06-01",
)


def seed_portions(redact_name: bool = True) -> tuple[ReleasePortion, ...]:
    """The seed cable cut crudely at each "¶N.": the header, then one portion a paragraph."""
    raw = SEED.read_text(encoding="utf-8")
    cuts = [0, *(m.start() for m in re.finditer(r"¶\d+\.", raw)), len(raw)]
    portions = []
    for seq, (start, end) in enumerate(pairwise(cuts)):
        text = raw[start:end]
        number = text[1:].split(".", 1)[0] if seq else None
        if number == "2" and redact_name:
            at = text.index(REDACTED_NAME)
            span = ReleaseSpan(at, at + len(REDACTED_NAME), ("(b)(6)",))
            portions.append(
                ReleasePortion(seq, number, text, PortionAction.redact, (span,), ("(b)(6)",))
            )
        elif number == "6":
            codes = ("(b)(1)", "1.4(d)")
            portions.append(ReleasePortion(seq, number, text, PortionAction.withhold, codes=codes))
        else:
            portions.append(ReleasePortion(seq, number, text, PortionAction.release))
    return tuple(portions)


def seed_document(*, redact_name: bool = True) -> ReleaseDocument:
    return ReleaseDocument(
        ref_id="07TOKYO5624",
        subject="CLUSTER MUNITIONS DEMARCHE DELIVERED TO JAPANESE",
        classification="CONFIDENTIAL",
        origin="Embassy Tokyo",
        sent_at=None,
        portions=seed_portions(redact_name),
        approvers=("A. Reviewer", "B. Approver"),
        released_on=date(2025, 6, 1),
    )


def _strings(obj: PdfObject | None, reader: PdfReader, seen: set[int], out: list[str]) -> None:
    """Every string, name and decoded stream reachable from ``obj``, as text."""
    if isinstance(obj, IndirectObject):
        if obj.idnum in seen:
            return
        seen.add(obj.idnum)
        obj = obj.get_object()
    if isinstance(obj, StreamObject):
        out.append(obj.get_data().decode("latin-1"))
    if isinstance(obj, DictionaryObject):
        for key, value in obj.items():
            out.append(str(key))
            _strings(value, reader, seen, out)
    elif isinstance(obj, ArrayObject):
        for item in obj:
            _strings(item, reader, seen, out)
    elif obj is not None:
        out.append(str(obj))


def every_string(pdf: bytes) -> list[str]:
    """All objects of the file (walked from the xref, not only from the catalog)."""
    reader = PdfReader(io.BytesIO(pdf))
    out: list[str] = []
    seen: set[int] = set()
    _strings(reader.trailer, reader, seen, out)
    size = reader.trailer["/Size"]
    assert isinstance(size, int)
    for idnum in range(1, size):
        _strings(IndirectObject(idnum, 0, reader), reader, seen, out)
    return out


def test_the_text_release_itself_hides_the_secrets() -> None:
    raw = SEED.read_text(encoding="utf-8")
    text = render_text(seed_document())
    for secret in SECRETS:
        assert secret in raw
        assert secret not in text
    for word in RELEASED:
        assert word in text
    assert "¶6. [REDACTED (b)(1) 1.4(d)]\n\n¶7." in text
    assert "MOFA officials [REDACTED (b)(6)] of the" in text


def test_the_pdf_shows_released_words_and_the_stamp_and_no_redacted_word() -> None:
    pdf = render_pdf(seed_document())
    reader = PdfReader(io.BytesIO(pdf))
    pages = [page.extract_text() for page in reader.pages]
    assert len(pages) >= 2
    for page_text in pages:
        for secret in SECRETS:
            assert secret not in page_text
    everything = "\n".join(pages)
    for word in (*RELEASED, *STAMP, "(b)(6)", "(b)(1) 1.4(d)", "PORTION WITHHELD"):
        assert word in everything
    for line in STAMP:
        assert line in pages[0]
    assert "PREVIEW" not in everything


def test_no_object_stream_metadata_or_outline_holds_a_redacted_word() -> None:
    pdf = render_pdf(seed_document())
    strings = every_string(pdf)
    assert any("Kajita" in s for s in strings)  # the walk does reach the page content
    for secret in SECRETS:
        assert secret.encode("latin-1") not in pdf
        assert not [s for s in strings if secret in s]
    reader = PdfReader(io.BytesIO(pdf))
    assert reader.outline == []
    metadata = reader.metadata
    assert metadata is not None
    assert metadata.title == "07TOKYO5624"
    assert metadata.author == "Declass"
    for value in metadata.values():
        for secret in SECRETS:
            assert secret not in str(value)


def test_subject_and_origin_taken_from_redacted_text_stay_out() -> None:
    doc = replace(seed_document(), subject=REDACTED_NAME, origin="Makino")
    pdf = render_pdf(doc)
    extracted = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    for secret in (REDACTED_NAME, "Makino"):
        assert not [s for s in every_string(pdf) if secret in s]
        assert secret not in extracted


def test_the_scan_would_see_the_name_if_it_were_released() -> None:
    """The negative checks above are not vacuous: released, the name is found."""
    strings = every_string(render_pdf(seed_document(redact_name=False)))
    assert any(REDACTED_NAME in s for s in strings)


def test_characters_outside_the_standard_fonts_are_drawn_as_question_marks() -> None:
    odd = ReleasePortion(9, "9", "¶9. Łódź → 日本\n", PortionAction.release)
    doc = replace(seed_document(), approvers=("Łukasz Nowak",), portions=(odd,))
    pdf = render_pdf(doc)
    reader = PdfReader(io.BytesIO(pdf))
    text = reader.pages[0].extract_text()
    assert "By: ?ukasz Nowak" in text
    assert "¶9. ?ód? ? ??" in text
    fonts = {str(font["/BaseFont"]) for font in reader.pages[0]["/Resources"]["/Font"].values()}
    assert fonts <= {"/Courier", "/Helvetica", "/Helvetica-Bold"}


def test_the_output_is_deterministic() -> None:
    assert render_pdf(seed_document()) == render_pdf(seed_document())


def test_a_preview_is_marked_and_never_says_declassified() -> None:
    doc = seed_document()
    hidden = replace(doc.portions[7], text=None)  # paragraph 7, above the viewer's clearance
    preview = replace(doc, is_preview=True, portions=(*doc.portions[:7], hidden, *doc.portions[8:]))
    reader = PdfReader(io.BytesIO(render_pdf(preview)))
    everything = "\n".join(page.extract_text() for page in reader.pages)
    assert "PREVIEW - NOT RELEASED" in reader.pages[0].extract_text()
    assert "DECLASSIFIED" not in everything
    assert "Authority: E.O. 13526" not in everything
    assert "WITHHELD FOR CLEARANCE" in everything
    assert "like-minded" not in everything
    assert not [s for s in every_string(render_pdf(preview)) if "like-minded" in s]


@pytest.mark.skipif(
    shutil.which("pdftoppm") is None, reason="pdftoppm (poppler-utils) not installed"
)
def test_pages_render_to_png_for_a_look() -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    doc = seed_document()
    hidden = replace(doc.portions[7], text=None)
    preview = replace(doc, is_preview=True, portions=(*doc.portions[:7], hidden, *doc.portions[8:]))
    for name, document in (("release", doc), ("preview", preview)):
        pdf_path = ARTIFACTS / f"07TOKYO5624-{name}.pdf"
        pdf_path.write_bytes(render_pdf(document))
        for old in ARTIFACTS.glob(f"07TOKYO5624-{name}-*.png"):
            old.unlink()
        prefix = ARTIFACTS / f"07TOKYO5624-{name}"
        subprocess.run(["pdftoppm", "-png", "-r", "110", str(pdf_path), str(prefix)], check=True)
        pngs = sorted(ARTIFACTS.glob(f"07TOKYO5624-{name}-*.png"))
        assert len(pngs) == len(PdfReader(pdf_path).pages)
        assert all(png.stat().st_size > 10_000 for png in pngs)
