"""JSON release: released text per portion, spans as offsets into the original text."""

from __future__ import annotations

import json
from dataclasses import replace

from test_release_text import document, portion

from service.release import PortionAction, ReleaseSpan, render_json, render_text

HEAD = "07TEST1\nSUBJECT: FISHING RIGHTS\n"


def test_portions_carry_released_text_and_spans_as_metadata() -> None:
    base = document(
        portion(0, HEAD),
        portion(
            1,
            "¶1. (C) Met Michiko Makino today.\n",
            PortionAction.redact,
            number="1",
            spans=(ReleaseSpan(12, 26, ("(b)(6)", "1.4(d)")),),
            codes=("(b)(6)", "1.4(d)"),
        ),
        portion(2, "¶2. (S) Secret.\n", PortionAction.withhold, number="2", codes=("25X1",)),
    )
    doc = replace(base, subject="Michiko Makino")
    assert render_json(doc) == {
        "ref_id": "07TEST1",
        "subject": None,  # redacted from the text, so not disclosed
        "classification": "CONFIDENTIAL",
        "released_on": "2025-06-01",
        "approvers": ["A. Approver"],
        "preview": False,
        "portions": [
            {
                "seq": 0,
                "number": None,
                "action": "release",
                "codes": [],
                "text": HEAD,
                "redactions": [],
            },
            {
                "seq": 1,
                "number": "1",
                "action": "redact",
                "codes": ["(b)(6)", "1.4(d)"],
                "text": "¶1. (C) Met [REDACTED (b)(6) 1.4(d)] today.\n",
                "redactions": [{"start": 12, "end": 26, "codes": ["(b)(6)", "1.4(d)"]}],
            },
            {
                "seq": 2,
                "number": "2",
                "action": "withhold",
                "codes": ["25X1"],
                "text": "¶2. [REDACTED 25X1]",
                "redactions": [],
            },
        ],
    }


def test_a_portion_above_clearance_discloses_neither_text_nor_codes_nor_offsets() -> None:
    hidden = portion(
        1,
        None,
        PortionAction.redact,
        number="1",
        spans=(ReleaseSpan(3, 9, ("25X1",)),),
        codes=("25X1",),
    )
    doc = replace(document(portion(0, HEAD), hidden), is_preview=True, approvers=())
    out = render_json(doc)
    assert out["preview"] is True
    assert out["approvers"] == []
    assert out["portions"] == [
        {
            "seq": 0,
            "number": None,
            "action": "release",
            "codes": [],
            "text": HEAD,
            "redactions": [],
        },
        {"seq": 1, "number": "1", "action": "redact", "codes": [], "text": None, "redactions": []},
    ]


def test_subject_is_shown_only_when_the_released_text_shows_it() -> None:
    released = replace(document(portion(0, HEAD)), subject="FISHING RIGHTS")
    assert render_json(released)["subject"] == "FISHING RIGHTS"
    redacted_header = portion(
        0, HEAD, PortionAction.redact, spans=(ReleaseSpan(17, 24, ("1.4(b)",)),)
    )
    hidden_subject = replace(released, portions=(redacted_header,))
    assert render_text(hidden_subject) == "07TEST1\nSUBJECT: [REDACTED 1.4(b)] RIGHTS\n"
    assert render_json(hidden_subject)["subject"] is None


def test_the_result_is_plain_json() -> None:
    doc = document(portion(0, HEAD), portion(1, None))
    assert json.loads(json.dumps(render_json(doc))) == render_json(doc)
