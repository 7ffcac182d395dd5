"""`declass ingest FILE...` in batches: the same database as ingesting the files one by one
through `ingest_cable` (rows, queues and assignees, `cable.ingested` detail), every file
counted once as stored, unchanged or rejected, and a file the database refuses rejected
alone. Corpus-free: variants of the demo cable."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from factories import create_user
from sqlalchemy import Engine, select, text
from sqlmodel import Session, col
from typer.testing import CliRunner

from service.audit.models import AuditAction, AuditEvent
from service.audit.service import flush_audit
from service.audit.verify import verify_chain
from service.auth.models import Role
from service.auth.principal import system_principal
from service.cables.batch_ingest import FileResult, Outcome, ingest_files
from service.cables.models import Cable, Portion
from service.cables.service import ingest_cable
from service.cli import app
from service.db import unit_of_work
from service.errors import DomainError
from service.markings import Level
from service.settings import get_settings

SEED = Path(__file__).resolve().parents[2] / "service" / "demo" / "07TOKYO5624.txt"
ACTOR = system_principal("cli")
REFUSED_REF_ID = "07TOKYO7003"


@pytest.fixture
def cli_env(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("DECLASS_ENVIRONMENT", "test")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture
def reviewers(engine: Engine) -> None:
    """Mixed clearances in the demo cable's queue, so loads decide who gets what."""
    for name, clearance in [
        ("ada", Level.TOP_SECRET),
        ("bo", Level.SECRET),
        ("cy", Level.CONFIDENTIAL),
        ("di", Level.SECRET),
    ]:
        create_user(
            engine,
            username=name,
            roles=[Role.reviewer],
            clearance=clearance,
            queues=["general", "foreign-government"],
        )


def variant(n: int) -> str:
    """The demo cable under reference id 07TOKYO{7000 + n}, some paragraphs re-marked so
    the variants need different clearances."""
    body = SEED.read_text(encoding="utf-8").replace("07TOKYO5624", f"07TOKYO{7000 + n}")
    if n % 3 == 1:
        body = body.replace("¶2. (C)", "¶2. (S)").replace("¶5. (C)", "¶5. (S)")
    if n % 3 == 2:
        body = body.replace("¶3. (C)", "¶3. (U)")
    return body


def write_files(tmp_path: Path) -> list[Path]:
    """Ten new cables, then: one already stored before the run, the same text as an earlier
    file of the same batch, the same text as a file of an earlier batch, other text under
    a reference id of an earlier batch and of the same batch, and two unreadable files."""
    texts: list[str | bytes] = [variant(n) for n in range(10)]
    texts[5:5] = [variant(4)]  # same batch (of 4) as variant 4: unchanged
    texts += [
        SEED.read_text(encoding="utf-8"),  # stored before the run: unchanged
        variant(1),  # earlier batch: unchanged
        variant(2).replace("Kajita", "Kajitani"),  # earlier batch, other text: rejected
        b"no reference id here\n",  # unreadable: rejected
        b"\xff\xfe not UTF-8",  # unreadable: rejected
    ]
    texts.insert(9, variant(7).replace("Kajita", "Kaji"))  # same batch, other text
    paths = []
    for i, body in enumerate(texts):
        path = tmp_path / f"{i:02d}.txt"
        if isinstance(body, bytes):
            path.write_bytes(body)
        else:
            path.write_text(body, encoding="utf-8")
        paths.append(path)
    return paths


def snapshot(session: Session) -> dict[str, Any]:
    """Every cable, portion and `cable.ingested` event, without ids and timestamps."""
    cables = [
        {k: v for k, v in c.model_dump().items() if k not in {"id", "created_at", "updated_at"}}
        for c in session.execute(select(Cable).order_by(col(Cable.id))).scalars()
    ]
    dropped = {"id", "cable_id", "created_at", "updated_at"}
    portions = [
        {"ref_id": ref_id, **{k: v for k, v in p.model_dump().items() if k not in dropped}}
        for ref_id, p in session.execute(
            select(Cable.ref_id, Portion)
            .join(Cable, col(Cable.id) == col(Portion.cable_id))
            .order_by(col(Cable.id), col(Portion.seq))
        )
    ]
    events = [
        (e.actor, e.actor_sub, e.entity, e.entity_id, e.ref_id, e.detail)
        for e in session.execute(
            select(AuditEvent)
            .where(col(AuditEvent.action) == AuditAction.cable_ingested.value)
            .order_by(col(AuditEvent.seq))
        ).scalars()
    ]
    return {"cables": cables, "portions": portions, "events": events}


class RolledBack(Exception):
    pass


def one_by_one(engine: Engine, paths: list[Path], seen: dict[str, Any]) -> None:
    """Each file through `ingest_cable` in order (as `declass ingest` did before batches),
    then everything rolled back, so the batched run starts from the same database."""
    results: list[FileResult] = []
    with unit_of_work(engine) as session:
        for path in paths:
            try:
                with session.begin_nested():
                    created = ingest_cable(session, text=path.read_bytes(), actor=ACTOR).created
            except DomainError as error:
                results.append(FileResult(str(path), Outcome.rejected, error.detail))
                continue
            outcome = Outcome.stored if created else Outcome.unchanged
            results.append(FileResult(str(path), outcome))
        flush_audit(session)
        seen["results"], seen["db"] = results, snapshot(session)
        raise RolledBack


def test_batched_ingest_stores_exactly_what_one_by_one_ingest_stores(
    engine: Engine, tmp_path: Path, reviewers: None
) -> None:
    with unit_of_work(engine) as session:
        ingest_cable(session, text=SEED.read_bytes(), actor=ACTOR)
    paths = write_files(tmp_path)
    seen: dict[str, Any] = {}
    with pytest.raises(RolledBack):
        one_by_one(engine, paths, seen)
    advanced: list[int] = []
    results = ingest_files(engine, paths, actor=ACTOR, batch_size=4, advance=advanced.append)
    assert advanced == [4, 4, 4, 4, 1]
    assert results == seen["results"]
    assert [r.outcome.value for r in results] == [
        *["stored"] * 5,
        "unchanged",
        *["stored"] * 3,
        "rejected",
        *["stored"] * 2,
        "unchanged",
        "unchanged",
        "rejected",
        "rejected",
        "rejected",
    ]
    conflict = results[9].reason or ""
    assert conflict.startswith("07TOKYO7007 is already stored with different text (stored ")
    assert (results[14].reason or "").startswith("07TOKYO7002 is already stored with different")
    assert (results[15].reason or "").startswith("The cable cannot be read: ")
    with Session(engine) as session:
        db = snapshot(session)
        assert verify_chain(session).valid
    assert db == seen["db"]
    assert len(db["cables"]) == 11
    assert {p["assignee"] for p in db["portions"]} == {"ada", "bo", "cy", "di"}


def test_the_cli_counts_stored_unchanged_and_rejected_and_exits_1(
    engine: Engine, tmp_path: Path, reviewers: None, cli_env: None
) -> None:
    with unit_of_work(engine) as session:
        ingest_cable(session, text=SEED.read_bytes(), actor=ACTOR)
    paths = write_files(tmp_path)
    result = CliRunner().invoke(app, ["ingest", "--batch-size", "4", *map(str, paths)])
    assert result.exit_code == 1, result.output
    assert summary_row(result.output) == ["10", "3", "4"]
    # Rich wraps long lines: compare without whitespace.
    flat = "".join(result.output.split())
    assert flat.count("rejected/") == 4
    assert all(f"rejected{paths[i]}:" in flat for i in (9, 14, 15, 16))
    again = CliRunner().invoke(app, ["ingest", *map(str, paths[:9])])
    assert again.exit_code == 0, again.output
    assert summary_row(again.output) == ["0", "9", "0"]


def summary_row(output: str) -> list[str]:
    """(stored, unchanged, rejected) of the summary table."""
    return [line.split()[1::2] for line in output.splitlines() if "│" in line][-1]


def refuse_one_cable(engine: Engine) -> None:
    """A trigger that makes the database refuse the cable `REFUSED_REF_ID` (as a constraint
    would: an IntegrityError)."""
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            conn.execute(
                text(
                    "CREATE TRIGGER refuse_cable BEFORE INSERT ON cable "
                    f"WHEN NEW.ref_id = '{REFUSED_REF_ID}' "
                    "BEGIN SELECT RAISE(ABORT, 'refused'); END"
                )
            )
        else:
            conn.execute(
                text(
                    "CREATE FUNCTION refuse_cable() RETURNS trigger LANGUAGE plpgsql AS $$ "
                    f"BEGIN IF NEW.ref_id = '{REFUSED_REF_ID}' THEN "
                    "RAISE EXCEPTION 'refused' USING ERRCODE = 'check_violation'; END IF; "
                    "RETURN NEW; END $$"
                )
            )
            conn.execute(
                text(
                    "CREATE TRIGGER refuse_cable BEFORE INSERT ON cable "
                    "FOR EACH ROW EXECUTE FUNCTION refuse_cable()"
                )
            )


def test_a_file_the_database_refuses_is_rejected_alone(
    engine: Engine, tmp_path: Path, reviewers: None
) -> None:
    refuse_one_cable(engine)
    paths = []
    for n in range(6):
        path = tmp_path / f"{n}.txt"
        path.write_text(variant(n), encoding="utf-8")
        paths.append(path)
    results = ingest_files(engine, paths, actor=ACTOR, batch_size=4)
    assert [(r.outcome.value, r.reason) for r in results] == [
        ("stored", None),
        ("stored", None),
        ("stored", None),
        ("rejected", "the database refused the cable (IntegrityError)"),
        ("stored", None),
        ("stored", None),
    ]
    with Session(engine) as session:
        stored = list(session.execute(select(Cable.ref_id).order_by(col(Cable.id))).scalars())
        events = session.execute(
            select(AuditEvent.entity_id).where(
                col(AuditEvent.action) == AuditAction.cable_ingested.value
            )
        ).scalars()
        assert sorted(events) == sorted(stored)
        assert verify_chain(session).valid
    assert stored == ["07TOKYO7000", "07TOKYO7001", "07TOKYO7002", "07TOKYO7004", "07TOKYO7005"]


def test_a_file_that_cannot_be_read_is_rejected_alone(engine: Engine, tmp_path: Path) -> None:
    first, gone, last = (tmp_path / f"{n}.txt" for n in range(3))
    first.write_text(variant(0), encoding="utf-8")
    last.write_text(variant(2), encoding="utf-8")
    results = ingest_files(engine, [first, gone, last], actor=ACTOR, batch_size=10)
    assert [(r.name, r.outcome.value, r.reason) for r in results] == [
        (str(first), "stored", None),
        (str(gone), "rejected", "cannot be read: No such file or directory"),
        (str(last), "stored", None),
    ]
    with Session(engine) as session:
        stored = list(session.execute(select(Cable.ref_id).order_by(col(Cable.id))).scalars())
    assert stored == ["07TOKYO7000", "07TOKYO7002"]
