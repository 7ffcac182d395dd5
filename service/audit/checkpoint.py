"""Signed checkpoints of the audit chain, kept in a file outside the database.

A checkpoint is `(count, head, at)`: the number of events, the hash of the last one and when
the checkpoint was taken, signed with HMAC-SHA256 under `DECLASS_AUDIT_CHECKPOINT_KEY`. The
hash chain shows any edit inside the log; the checkpoint also shows removal of its tail
(fewer events than the checkpoint counted, or a different hash at that count), which a chain
alone cannot. Whoever can rewrite the file needs the key to make it verify.

The file is JSON, written atomically (temporary file in the same directory, fsync, rename):
`{"version": 1, "count": 412, "head": "<sha256 hex>", "at": "2026-11-29T17:12:54.221077Z",
"mac": "<hmac-sha256 hex>"}`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from service.audit.chain import canonical_json, format_at
from service.settings import Settings

FORMAT_VERSION = 1
MIN_KEY_BYTES = 32


class CheckpointError(Exception):
    """The checkpoint cannot be used: not configured, unreadable, or its MAC does not verify."""


@dataclass(frozen=True, slots=True)
class Checkpoint:
    count: int
    head: str
    at: datetime


@dataclass(frozen=True, slots=True)
class CheckpointConfig:
    path: Path
    key: bytes


def checkpoint_config(settings: Settings) -> CheckpointConfig | None:
    """The configured checkpoint file and key; None when no file is configured.

    Raises `CheckpointError` when a file is configured without a usable key.
    """
    if settings.audit_checkpoint_file is None:
        return None
    secret = settings.audit_checkpoint_key
    if secret is None:
        raise CheckpointError(
            "DECLASS_AUDIT_CHECKPOINT_FILE is set but DECLASS_AUDIT_CHECKPOINT_KEY is not"
        )
    key = secret.get_secret_value().encode("utf-8")
    if len(key) < MIN_KEY_BYTES:
        raise CheckpointError(
            f"DECLASS_AUDIT_CHECKPOINT_KEY must be at least {MIN_KEY_BYTES} bytes"
        )
    return CheckpointConfig(path=settings.audit_checkpoint_file, key=key)


def _signed_text(checkpoint: Checkpoint) -> bytes:
    payload = {
        "version": FORMAT_VERSION,
        "count": checkpoint.count,
        "head": checkpoint.head,
        "at": format_at(checkpoint.at),
    }
    return canonical_json(payload).encode("utf-8")


def sign(checkpoint: Checkpoint, key: bytes) -> str:
    """HMAC-SHA256 (hex) over the canonical JSON of (version, count, head, at)."""
    return hmac.new(key, _signed_text(checkpoint), hashlib.sha256).hexdigest()


def read_checkpoint(config: CheckpointConfig) -> Checkpoint | None:
    """The checkpoint in the file, or None when the file does not exist yet.

    Raises `CheckpointError` when the file is unreadable, malformed or its MAC does not
    verify under the configured key.
    """
    try:
        raw = config.path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as error:
        raise CheckpointError(f"cannot read {config.path}: {error.strerror}") from None
    try:
        data = json.loads(raw)
        if data["version"] != FORMAT_VERSION:
            raise CheckpointError(f"{config.path}: unknown checkpoint version")
        checkpoint = Checkpoint(
            count=int(data["count"]),
            head=str(data["head"]),
            at=datetime.fromisoformat(str(data["at"]).replace("Z", "+00:00")),
        )
        mac = str(data["mac"])
    except (ValueError, KeyError, TypeError):
        raise CheckpointError(f"{config.path} is not a checkpoint file") from None
    if not hmac.compare_digest(mac, sign(checkpoint, config.key)):
        raise CheckpointError(f"{config.path}: the checkpoint signature does not verify")
    return checkpoint


def write_checkpoint(config: CheckpointConfig, *, count: int, head: str) -> Checkpoint:
    """Sign and atomically replace the checkpoint file; returns what was written.

    A reader sees the old file or the new one, never a partial write.
    """
    checkpoint = Checkpoint(count=count, head=head, at=datetime.now(UTC))
    body = {
        "version": FORMAT_VERSION,
        "count": checkpoint.count,
        "head": checkpoint.head,
        "at": format_at(checkpoint.at),
        "mac": sign(checkpoint, config.key),
    }
    directory = config.path.parent
    directory.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(prefix=f".{config.path.name}.", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(json.dumps(body, indent=2) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, config.path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    directory_fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(directory_fd)
    finally:
        os.close(directory_fd)
    return checkpoint
