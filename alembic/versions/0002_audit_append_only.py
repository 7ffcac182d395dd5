"""audit_event is append-only: triggers reject UPDATE and DELETE (and TRUNCATE on PostgreSQL)

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PG_UP = [
    """
    CREATE FUNCTION audit_event_reject_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'audit_event is append-only (% rejected)', TG_OP
            USING ERRCODE = '42501';
    END
    $$
    """,
    """
    CREATE TRIGGER audit_event_no_update_delete BEFORE UPDATE OR DELETE ON audit_event
    FOR EACH ROW EXECUTE FUNCTION audit_event_reject_change()
    """,
    """
    CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_event
    FOR EACH STATEMENT EXECUTE FUNCTION audit_event_reject_change()
    """,
]
PG_DOWN = [
    "DROP TRIGGER audit_event_no_truncate ON audit_event",
    "DROP TRIGGER audit_event_no_update_delete ON audit_event",
    "DROP FUNCTION audit_event_reject_change()",
]
SQLITE_UP = [
    """
    CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event
    BEGIN SELECT RAISE(ABORT, 'audit_event is append-only (UPDATE rejected)'); END
    """,
    """
    CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event
    BEGIN SELECT RAISE(ABORT, 'audit_event is append-only (DELETE rejected)'); END
    """,
]
SQLITE_DOWN = [
    "DROP TRIGGER audit_event_no_delete",
    "DROP TRIGGER audit_event_no_update",
]


def _statements(up: bool) -> list[str]:
    postgres = op.get_bind().dialect.name == "postgresql"
    if up:
        return PG_UP if postgres else SQLITE_UP
    return PG_DOWN if postgres else SQLITE_DOWN


def upgrade() -> None:
    for statement in _statements(up=True):
        op.execute(statement)


def downgrade() -> None:
    for statement in _statements(up=False):
        op.execute(statement)
