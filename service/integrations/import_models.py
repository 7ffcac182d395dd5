"""Import jobs: one `import_job` row per bulk import, one `import_rejection` row per row that
could not be stored.

A job's progress (`byte_offset`, `rows_done` and the counters) is updated in the same
transaction as the batch of cables it describes, so after any crash the row says exactly
which rows are in the database: a restarted worker resumes at `byte_offset` and no row is
imported twice or lost. `lease_owner`/`lease_until` say which worker is running the job; a
batch commits only while its worker still holds the lease (compare-and-set), so two
processes never commit the same batch.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlmodel import Field, SQLModel

from service.orm import UTCDateTime, utcnow


class ImportStatus(StrEnum):
    queued = "queued"
    running = "running"
    completed = "completed"
    failed = "failed"


class ImportRunner(StrEnum):
    server = "server"  # the server's background worker runs it
    cli = "cli"  # `declass import` runs it in its own process


class ImportJob(SQLModel, table=True):
    __tablename__ = "import_job"
    __table_args__ = (
        UniqueConstraint("created_by_sub", "idempotency_key"),
        Index("ix_import_job_status_created_at", "status", "created_at"),
    )

    id: str = Field(sa_column=Column(String(32), primary_key=True))
    status: str = Field(default=ImportStatus.queued, sa_column=Column(String(16), nullable=False))
    format: str = Field(sa_column=Column(String(16), nullable=False))
    runner: str = Field(default=ImportRunner.server, sa_column=Column(String(16), nullable=False))
    source_name: str | None = Field(default=None, sa_column=Column(String(255)))
    spool_path: str = Field(sa_column=Column(Text, nullable=False))
    size_bytes: int = Field(sa_column=Column(BigInteger, nullable=False))
    body_sha256: str = Field(sa_column=Column(String(64), nullable=False))
    created_by: str = Field(sa_column=Column(String(128), nullable=False))
    created_by_sub: str = Field(sa_column=Column(String(128), nullable=False))
    idempotency_key: str | None = Field(default=None, sa_column=Column(String(255)))
    byte_offset: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    rows_done: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    imported: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    duplicates: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    rejected: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    batches: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    error: str | None = Field(default=None, sa_column=Column(Text))
    lease_owner: str | None = Field(default=None, sa_column=Column(String(64)))
    lease_until: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    started_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    finished_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))


class ImportRejection(SQLModel, table=True):
    __tablename__ = "import_rejection"
    __table_args__ = (Index("ix_import_rejection_import_id_row", "import_id", "row"),)

    id: int | None = Field(default=None, primary_key=True)
    import_id: str = Field(
        sa_column=Column(String(32), ForeignKey("import_job.id"), nullable=False)
    )
    row: int = Field(sa_column=Column(Integer, nullable=False))
    ref_id: str | None = Field(default=None, sa_column=Column(String(64)))
    error: str = Field(sa_column=Column(Text, nullable=False))
