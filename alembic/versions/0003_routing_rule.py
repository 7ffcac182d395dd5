"""routing_rule table with the default rules of DOMAIN.md section 6

Revision ID: 0003
Revises: 0002

The defaults are rows, so supervisors change them like any rule. Lower priority fires
first; see docs/routing.md for why the order is senior, intelligence, defense/WMD, then
foreign government. Each reason list also names the same category under E.O. 12958
(`1.5(x)`) and E.O. 12356 (`1.3(a)(n)`) and the exemption codes of every order (`X1`,
`25X1`, `50X1-HUM`, ...), so cables of every era reach the queue meant for them.
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

import service.orm

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql")

DEFAULT_RULES: list[dict[str, object]] = [
    {
        "name": "senior-restricted-distribution",
        "priority": 10,
        "caveats": ["NODIS", "EXDIS"],
        "queue": "senior",
    },
    {
        "name": "intelligence-equities",
        "priority": 20,
        "reasons": ["1.4(c)", "1.5(c)", "1.3(a)(4)", "X1", "25X1", "50X1-HUM"],
        "queue": "intelligence-equities",
    },
    {
        "name": "defense-wmd",
        "priority": 30,
        "reasons": [
            *("1.4(a)", "1.4(g)", "1.4(h)", "1.5(a)", "1.5(g)", "1.3(a)(1)", "1.3(a)(2)"),
            *("X2", "25X2", "50X2-WMD"),
        ],
        "queue": "defense-wmd",
    },
    {
        "name": "foreign-government-information",
        "priority": 40,
        "reasons": ["1.4(b)", "1.5(b)", "1.3(a)(3)"],
        "queue": "foreign-government",
    },
    {
        "name": "foreign-government-noforn",
        "priority": 50,
        "caveats": ["NOFORN"],
        "queue": "foreign-government",
    },
]
LIST_FIELDS = ("levels", "markings", "reasons", "tags", "origins", "decl_kinds", "caveats")


def upgrade() -> None:
    table = op.create_table(
        "routing_rule",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("levels", JSON, nullable=False),
        sa.Column("markings", JSON, nullable=False),
        sa.Column("reasons", JSON, nullable=False),
        sa.Column("tags", JSON, nullable=False),
        sa.Column("origins", JSON, nullable=False),
        sa.Column("decl_kinds", JSON, nullable=False),
        sa.Column("caveats", JSON, nullable=False),
        sa.Column("queue", sa.String(length=64), nullable=False),
        sa.Column("min_clearance", sa.String(length=16), nullable=True),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", service.orm.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", service.orm.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_routing_rule")),
        sa.UniqueConstraint("name", name=op.f("uq_routing_rule_name")),
    )
    now = datetime.now(UTC)
    op.bulk_insert(
        table,
        [
            {
                **{field: list(rule.get(field, [])) for field in LIST_FIELDS},
                "name": rule["name"],
                "priority": rule["priority"],
                "queue": rule["queue"],
                "min_clearance": None,
                "is_active": True,
                "version": 1,
                "created_at": now,
                "updated_at": now,
            }
            for rule in DEFAULT_RULES
        ],
    )


def downgrade() -> None:
    op.drop_table("routing_rule")
