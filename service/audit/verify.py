"""Verifying the audit chain, and taking signed checkpoints of it.

`verify_chain` reads the log in `seq` order, in batches (keyset pagination on the primary
key, so memory stays flat for millions of events), and checks for every event that
- its `seq` is the previous one + 1, starting at 1 (no gap),
- its `prev_hash` is the previous event's `hash` (the genesis hash for seq 1),
- its `hash` is the SHA-256 recomputed from its stored fields (no edit),
and, given a checkpoint, that the log still holds at least `checkpoint.count` events and
that the event at that `seq` has the checkpointed hash (no removal of the tail, no rewrite).
The first failure is reported by `seq`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from sqlalchemy import func, select
from sqlmodel import Session, col

from service.audit.chain import event_hash
from service.audit.checkpoint import (
    Checkpoint,
    CheckpointError,
    checkpoint_config,
    read_checkpoint,
    write_checkpoint,
)
from service.audit.models import GENESIS_HASH, AuditEvent
from service.settings import Settings

DEFAULT_BATCH = 2000

_COLUMNS = (
    col(AuditEvent.seq),
    col(AuditEvent.at),
    col(AuditEvent.actor),
    col(AuditEvent.actor_sub),
    col(AuditEvent.action),
    col(AuditEvent.entity),
    col(AuditEvent.entity_id),
    col(AuditEvent.ref_id),
    col(AuditEvent.detail),
    col(AuditEvent.request_id),
    col(AuditEvent.prev_hash),
    col(AuditEvent.hash),
)


@dataclass(frozen=True, slots=True)
class VerifyResult:
    """`count` events were read and `head` is the last one's hash (the genesis hash for an
    empty log). When `valid` is false, `first_bad_seq` names the first event that fails (or
    the first missing one) and `reason` says why."""

    valid: bool
    count: int
    head: str
    first_bad_seq: int | None = None
    reason: str | None = None
    checkpoint_count: int | None = None


def _check_event(row: dict[str, object], expected_seq: int, prev_hash: str) -> str | None:
    if row["seq"] != expected_seq:
        return f"seq {expected_seq} is missing (the next event is seq {row['seq']})"
    if row["prev_hash"] != prev_hash:
        return f"seq {expected_seq}: prev_hash is not the hash of the event before it"
    if event_hash(row) != row["hash"]:
        return f"seq {expected_seq}: the stored hash does not match the event's contents"
    return None


def _check_checkpoint(row: dict[str, object], seq: int, checkpoint: Checkpoint) -> str | None:
    if seq != checkpoint.count or row["hash"] == checkpoint.head:
        return None
    return (
        f"seq {seq}: the hash differs from the signed checkpoint of "
        f"{checkpoint.at:%Y-%m-%dT%H:%M:%SZ}; the log was rewritten at or before this event"
    )


def _totals(session: Session) -> tuple[int, str]:
    count = session.execute(select(func.count()).select_from(AuditEvent)).scalar_one()
    last = session.execute(
        select(col(AuditEvent.hash)).order_by(col(AuditEvent.seq).desc()).limit(1)
    ).scalar_one_or_none()
    return int(count), last or GENESIS_HASH


def verify_chain(
    session: Session, *, checkpoint: Checkpoint | None = None, batch_size: int = DEFAULT_BATCH
) -> VerifyResult:
    """Check the whole chain (and the checkpoint, if given); never raises for a broken log,
    it reports it. Reads in batches of `batch_size` events."""
    expected_seq, prev_hash, count = 1, GENESIS_HASH, 0
    checkpoint_count = checkpoint.count if checkpoint is not None else None
    while True:
        statement = (
            select(*_COLUMNS)
            .where(col(AuditEvent.seq) >= expected_seq)
            .order_by(col(AuditEvent.seq))
            .limit(batch_size)
        )
        rows = session.execute(statement).mappings().all()
        if not rows:
            break
        for mapping in rows:
            row = dict(mapping)
            problem = _check_event(row, expected_seq, prev_hash)
            if problem is None and checkpoint is not None:
                problem = _check_checkpoint(row, expected_seq, checkpoint)
            if problem is not None:
                total, head = _totals(session)
                return VerifyResult(False, total, head, expected_seq, problem, checkpoint_count)
            prev_hash = str(row["hash"])
            expected_seq += 1
            count += 1
    if checkpoint is not None and count < checkpoint.count:
        return VerifyResult(
            False,
            count,
            prev_hash,
            count + 1,
            f"the log ends at seq {count} but the signed checkpoint of "
            f"{checkpoint.at:%Y-%m-%dT%H:%M:%SZ} counted {checkpoint.count} events; "
            f"events from seq {count + 1} were removed",
            checkpoint_count,
        )
    return VerifyResult(True, count, prev_hash, checkpoint_count=checkpoint_count)


def verify_log(session: Session, *, settings: Settings) -> VerifyResult:
    """Verify the chain against the configured checkpoint file, if any.

    A checkpoint that cannot be used (configured without a key, unreadable, or failing its
    signature) makes the result invalid, with the reason; the chain is still checked.
    """
    try:
        config = checkpoint_config(settings)
        checkpoint = read_checkpoint(config) if config is not None else None
    except CheckpointError as error:
        result = verify_chain(session)
        reason = result.reason or f"checkpoint: {error}"
        return replace(result, valid=False, reason=reason)
    return verify_chain(session, checkpoint=checkpoint)


def take_checkpoint(session: Session, *, settings: Settings) -> tuple[VerifyResult, bool]:
    """Verify the log and, only when it is intact, write a new signed checkpoint of it.

    Returns the verification result and whether a checkpoint was written; a broken log is
    never checkpointed, so a truncated log cannot be blessed after the fact. Raises
    `CheckpointError` when no checkpoint file and key are configured.
    """
    config = checkpoint_config(settings)
    if config is None:
        raise CheckpointError("DECLASS_AUDIT_CHECKPOINT_FILE is not set")
    result = verify_log(session, settings=settings)
    if not result.valid:
        return result, False
    write_checkpoint(config, count=result.count, head=result.head)
    return replace(result, checkpoint_count=result.count), True
