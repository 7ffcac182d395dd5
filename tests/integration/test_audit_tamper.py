"""Tamper evidence: edits made behind the service's back (as a superuser would, triggers off)
are found by verification, and removal of the tail is found by the signed checkpoint."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from audit_helpers import events_since, tamper, trigger_names
from pydantic import SecretStr
from sqlalchemy import Engine
from sqlmodel import Session

from service.audit.checkpoint import CheckpointConfig, CheckpointError, read_checkpoint
from service.audit.models import AuditAction
from service.audit.service import record
from service.audit.verify import VerifyResult, take_checkpoint, verify_chain, verify_log
from service.auth.principal import system_principal
from service.db import unit_of_work
from service.settings import Settings

KEY = "checkpoint-key-0123456789abcdef0123456789"


def _fill(engine: Engine, count: int) -> None:
    with unit_of_work(engine) as session:
        for n in range(count):
            record(
                session,
                actor=system_principal("tester"),
                action=AuditAction.user_changed,
                entity="user",
                entity_id=f"u{n}",
                detail={"roles": {"old": [], "new": ["reviewer"]}},
            )


def _verify(engine: Engine, settings: Settings | None = None, batch: int = 7) -> VerifyResult:
    with unit_of_work(engine, write=False) as session:
        if settings is not None:
            return verify_log(session, settings=settings)
        return verify_chain(session, batch_size=batch)


@pytest.fixture
def signed(settings: Settings, tmp_path: Path) -> Settings:
    return settings.model_copy(
        update={
            "audit_checkpoint_file": tmp_path / "outside" / "audit.checkpoint",
            "audit_checkpoint_key": SecretStr(KEY),
        }
    )


def _checkpoint(engine: Engine, settings: Settings) -> tuple[VerifyResult, bool]:
    with unit_of_work(engine, write=False) as session:
        return take_checkpoint(session, settings=settings)


def test_an_edited_detail_is_reported_at_its_seq(engine: Engine) -> None:
    _fill(engine, 30)
    before = trigger_names(engine)
    tamper(engine, "UPDATE audit_event SET detail = :d WHERE seq = 17", d='{"roles": "admin"}')
    assert trigger_names(engine) == before  # the triggers are back

    result = _verify(engine)
    assert (result.valid, result.first_bad_seq, result.count) == (False, 17, 30)
    assert result.reason == "seq 17: the stored hash does not match the event's contents"
    # In batches of 7 or all at once, the answer is the same.
    assert _verify(engine, batch=1000) == result


def test_an_edit_with_a_recomputed_hash_breaks_the_next_link(engine: Engine) -> None:
    _fill(engine, 10)
    tamper(engine, "UPDATE audit_event SET actor = 'mallory', hash = :h WHERE seq = 4", h="a" * 64)
    result = _verify(engine)
    assert (result.valid, result.first_bad_seq) == (False, 4)
    tamper(engine, "UPDATE audit_event SET hash = :h WHERE seq = 10", h="b" * 64)
    assert _verify(engine).first_bad_seq == 4


def test_a_deleted_event_in_the_middle_is_a_gap(engine: Engine) -> None:
    _fill(engine, 12)
    tamper(engine, "DELETE FROM audit_event WHERE seq = 6")
    result = _verify(engine)
    assert (result.valid, result.first_bad_seq, result.count) == (False, 6, 11)
    assert result.reason == "seq 6 is missing (the next event is seq 7)"


def test_deleting_the_tail_is_caught_by_the_checkpoint(engine: Engine, signed: Settings) -> None:
    _fill(engine, 20)
    result, written = _checkpoint(engine, signed)
    assert (result.valid, result.count, written) == (True, 20, True)
    assert signed.audit_checkpoint_file is not None
    stored = json.loads(signed.audit_checkpoint_file.read_text())
    assert (stored["count"], stored["head"]) == (20, result.head)

    _fill(engine, 5)  # the log grows after the checkpoint: still valid
    assert _verify(engine, signed).valid is True

    tamper(engine, "DELETE FROM audit_event WHERE seq > 17")
    assert _verify(engine).valid is True  # the chain alone cannot see a missing tail
    result = _verify(engine, signed)
    assert (result.valid, result.count, result.first_bad_seq) == (False, 17, 18)
    assert result.reason is not None
    assert "counted 20 events; events from seq 18 were removed" in result.reason

    # A broken log is never checkpointed, so the truncation cannot be blessed afterwards.
    again, written = _checkpoint(engine, signed)
    assert (again.valid, written) == (False, False)
    assert json.loads(signed.audit_checkpoint_file.read_text()) == stored


def test_a_rewritten_log_differs_from_the_checkpoint(engine: Engine, signed: Settings) -> None:
    _fill(engine, 8)
    _checkpoint(engine, signed)
    # Replace events 7 and 8 with a consistent forgery: the chain verifies, the checkpoint not.
    tamper(engine, "DELETE FROM audit_event WHERE seq > 6")
    _fill(engine, 2)
    assert _verify(engine).valid is True
    result = _verify(engine, signed)
    assert (result.valid, result.first_bad_seq) == (False, 8)
    assert result.reason is not None
    assert "differs from the signed checkpoint" in result.reason


def test_a_forged_checkpoint_file_is_refused(engine: Engine, signed: Settings) -> None:
    _fill(engine, 5)
    _checkpoint(engine, signed)
    path = signed.audit_checkpoint_file
    assert path is not None
    body = json.loads(path.read_text())
    path.write_text(json.dumps({**body, "count": 3}))
    result = _verify(engine, signed)
    assert (result.valid, result.count, result.first_bad_seq) == (False, 5, None)
    assert result.reason is not None
    assert result.reason.endswith("the checkpoint signature does not verify")


def test_a_checkpoint_under_another_key_is_refused(engine: Engine, signed: Settings) -> None:
    _fill(engine, 2)
    _checkpoint(engine, signed)
    other = CheckpointConfig(path=signed.audit_checkpoint_file or Path(), key=b"k" * 32)
    with pytest.raises(CheckpointError, match="signature does not verify"):
        read_checkpoint(other)


def test_checkpoint_configuration_errors(engine: Engine, signed: Settings) -> None:
    with pytest.raises(CheckpointError, match="DECLASS_AUDIT_CHECKPOINT_FILE is not set"):
        _checkpoint(engine, signed.model_copy(update={"audit_checkpoint_file": None}))
    no_key = signed.model_copy(update={"audit_checkpoint_key": None})
    with pytest.raises(CheckpointError, match="DECLASS_AUDIT_CHECKPOINT_KEY is not"):
        _checkpoint(engine, no_key)
    short = signed.model_copy(update={"audit_checkpoint_key": SecretStr("short")})
    with pytest.raises(CheckpointError, match="at least 32 bytes"):
        _checkpoint(engine, short)
    # No checkpoint file yet: verification checks the chain alone.
    assert _verify(engine, signed) == VerifyResult(True, 0, "0" * 64)


def test_checkpoint_write_leaves_no_temporary_files(engine: Engine, signed: Settings) -> None:
    _fill(engine, 3)
    _checkpoint(engine, signed)
    _checkpoint(engine, signed)
    assert signed.audit_checkpoint_file is not None
    assert [p.name for p in signed.audit_checkpoint_file.parent.iterdir()] == ["audit.checkpoint"]


def test_verification_reads_in_batches(engine: Engine) -> None:
    _fill(engine, 25)
    statements: list[str] = []
    with Session(engine) as session:
        from sqlalchemy import event

        def count(*args: object) -> None:
            statements.append(str(args[2]))

        event.listen(engine, "before_cursor_execute", count)
        try:
            result = verify_chain(session, batch_size=10)
        finally:
            event.remove(engine, "before_cursor_execute", count)
    assert (result.valid, result.count) == (True, 25)
    scans = [s for s in statements if "FROM audit_event" in s]
    assert len(scans) == 4  # 10 + 10 + 5 + an empty read
    assert all("LIMIT" in s for s in scans)
    assert len(events_since(engine, 0)) == 25
