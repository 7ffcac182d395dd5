"""Alembic is the only way the schema is made: every revision upgrades and downgrades, and
the models have no drift from the migrations (the `alembic check` test)."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect

from service import migrations
from service.schema import metadata


def _diff(engine: Engine) -> list[object]:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, metadata))


def test_fresh_database_is_at_head_without_drift(engine: Engine) -> None:
    assert migrations.is_at_head(engine)
    assert _diff(engine) == []


def test_downgrade_to_base_and_upgrade_again(engine: Engine) -> None:
    migrations.downgrade(engine, "base")
    remaining = set(inspect(engine).get_table_names()) - {"alembic_version"}
    assert remaining == set()
    assert migrations.current_revision(engine) is None

    migrations.upgrade(engine)
    assert migrations.is_at_head(engine)
    assert _diff(engine) == []
    assert {"cable", "portion", "cable_tag", "audit_event", "user", "service_account"} <= set(
        inspect(engine).get_table_names()
    )


def test_each_revision_downgrades_one_step(engine: Engine) -> None:
    head = migrations.head_revision(engine)
    assert head is not None
    migrations.downgrade(engine, "-1")
    assert migrations.current_revision(engine) != head
    migrations.upgrade(engine)
    assert migrations.current_revision(engine) == head
