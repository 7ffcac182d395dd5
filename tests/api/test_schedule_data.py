"""The cables every schedule API test starts from, with a clock stopped on 2017-12-01.

| ref_id      | classification | origin             | declassify_on | status    | tags    |
|-------------|----------------|--------------------|---------------|-----------|---------|
| 06KABUL3001 | CONFIDENTIAL   | Embassy Kabul      | 2017-11-20    | received  | PTER AF |
| 06KABUL3002 | SECRET         | Embassy Kabul      | 2016-06-30    | released  | PTER AF |
| 07TOKYO1001 | CONFIDENTIAL   | Embassy Tokyo      | 2017-12-19    | received  | PREL JA |
| 07TOKYO1002 | SECRET         | Embassy Tokyo      | 2017-12-19    | in_review | PARM JA |
| 08PARIS2001 | CONFIDENTIAL   | Embassy Paris      | 2018-01-15    | received  | ECON FR |
| 08PARIS2002 | SECRET (NF)    | Embassy Paris      | 2018-03-01    | received  | PREL FR |
| 08PARIS2003 | CONFIDENTIAL   | Embassy Paris      | 2018-03-02    | received  | ECON FR |
| 96STATE4001 | CONFIDENTIAL   | Secretary of State | 2021-12-31    | received  | PREL    |
| 07TOKYO1003 | UNCLASSIFIED   | Embassy Tokyo      | (none)        | received  | PREL JA |

2017-12-01 + 90 days is 2018-03-01: 08PARIS2002 is the last cable of the default due window
and 08PARIS2003 the first one after it. (This module holds no tests of its own.)
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Engine, update
from sqlmodel import col

from service.auth.principal import system_principal
from service.cables.models import Cable
from service.cables.service import ingest_cable
from service.db import unit_of_work

TODAY = date(2017, 12, 1)
BANNERS = {"UNCLASSIFIED": "UNCLAS", "CONFIDENTIAL": "C O N F I D E N T I A L"}
TEMPLATE = "\n".join(
    [
        "{ref_id}",
        "{subject}",
        "{date_line}",
        "{classification}",
        "{origin}",
        "VZCZCXYZ0000",
        "RR RUEHWEB",
        "",
        "DE RUEHKO #0001 3540753",
        "ZNY CCCCC ZZH",
        "R {dtg}",
        "FM AMEMBASSY {post}",
        "TO RUEHC/SECSTATE WASHDC 0472",
        "{banner} {post} {serial:06d} ",
        " ",
        "SIPDIS ",
        " ",
        "E.O. 12958: {decl} ",
        "TAGS: {tags}",
        "SUBJECT: {subject} ",
        " ",
        "Classified By: Ambassador J. Thomas Schieffer for reasons 1.4(b) and (d) ",
        " ",
        "1. ({mark}) Text of the first paragraph. ",
        " ",
        "2. ({mark}) Text of the second paragraph. ",
        " ",
        "SCHIEFFER",
        "",
    ]
)

# ref_id, classification line, origin, cable date, DECL, tags, status
CABLES = (
    (
        "06KABUL3001",
        "CONFIDENTIAL",
        "Embassy Kabul",
        date(2006, 11, 21),
        "DECL: 11/20/2017",
        "PTER AF",
        "received",
    ),
    (
        "06KABUL3002",
        "SECRET",
        "Embassy Kabul",
        date(2006, 7, 1),
        "DECL: 06/30/2016",
        "PTER AF",
        "released",
    ),
    (
        "07TOKYO1001",
        "CONFIDENTIAL",
        "Embassy Tokyo",
        date(2007, 12, 20),
        "DECL: 12/19/2017",
        "PREL JA",
        "received",
    ),
    (
        "07TOKYO1002",
        "SECRET",
        "Embassy Tokyo",
        date(2007, 12, 20),
        "DECL: 12/19/2017",
        "PARM JA",
        "in_review",
    ),
    (
        "08PARIS2001",
        "CONFIDENTIAL",
        "Embassy Paris",
        date(2008, 1, 16),
        "DECL: 01/15/2018",
        "ECON FR",
        "received",
    ),
    (
        "08PARIS2002",
        "SECRET//NOFORN",
        "Embassy Paris",
        date(2008, 3, 2),
        "DECL: 2018/03/01",
        "PREL FR",
        "received",
    ),
    (
        "08PARIS2003",
        "CONFIDENTIAL",
        "Embassy Paris",
        date(2008, 3, 3),
        "DECL: 03/02/2018",
        "ECON FR",
        "received",
    ),
    (
        "96STATE4001",
        "CONFIDENTIAL",
        "Secretary of State",
        date(1996, 3, 5),
        "DECL: OADR",
        "PREL",
        "received",
    ),
    (
        "07TOKYO1003",
        "UNCLASSIFIED",
        "Embassy Tokyo",
        date(2007, 12, 20),
        "N/A",
        "PREL JA",
        "received",
    ),
)
MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")


def subject_of(ref_id: str) -> str:
    return f"SUBJECT OF {ref_id}"


def cable_text(
    ref_id: str, classification: str, origin: str, day: date, decl: str, tags: str
) -> str:
    """A small cable in the corpus layout whose parsed fields are the arguments."""
    level = classification.split("//")[0]
    post = "STATE" if origin == "Secretary of State" else origin.split()[-1].upper()
    return TEMPLATE.format(
        ref_id=ref_id,
        subject=subject_of(ref_id),
        date_line=f"{datetime(day.year, day.month, day.day):%a %b %d} 00:00:00 +0100 {day.year}",
        classification=classification,
        origin=origin,
        dtg=f"{day.day:02d}0753Z {MONTHS[day.month - 1]} {day:%y}",
        post=post,
        banner=BANNERS.get(level, "S E C R E T"),
        serial=int(ref_id[-4:]),
        decl=decl,
        tags=tags,
        mark={"UNCLASSIFIED": "U", "CONFIDENTIAL": "C"}.get(level, "S"),
    )


def ingest_all(engine: Engine) -> None:
    """Ingest `CABLES` through the cable service and set their statuses."""
    with unit_of_work(engine) as session:
        for ref_id, classification, origin, day, decl, tags, status in CABLES:
            text = cable_text(ref_id, classification, origin, day, decl, tags)
            ingest_cable(session, text=text, actor=system_principal("tests"))
            session.execute(update(Cable).where(col(Cable.ref_id) == ref_id).values(status=status))
