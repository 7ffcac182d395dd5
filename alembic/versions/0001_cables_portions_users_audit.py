"""cables portions users audit

Revision ID: 0001
Revises:
Create Date: 2026-11-29 17:09:15.642050
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

import service.orm

revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('audit_event',
    sa.Column('seq', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('at', service.orm.UTCDateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=128), nullable=False),
    sa.Column('actor_sub', sa.String(length=128), nullable=True),
    sa.Column('action', sa.String(length=48), nullable=False),
    sa.Column('entity', sa.String(length=32), nullable=False),
    sa.Column('entity_id', sa.String(length=128), nullable=False),
    sa.Column('ref_id', sa.String(length=64), nullable=True),
    sa.Column('detail', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('request_id', sa.String(length=64), nullable=True),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_audit_event')),
    sa.UniqueConstraint('hash', name=op.f('uq_audit_event_hash')),
    sa.UniqueConstraint('prev_hash', name=op.f('uq_audit_event_prev_hash'))
    )
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.create_index('ix_audit_event_action_seq', ['action', 'seq'], unique=False)
        batch_op.create_index('ix_audit_event_actor_seq', ['actor', 'seq'], unique=False)
        batch_op.create_index('ix_audit_event_ref_id_seq', ['ref_id', 'seq'], unique=False)

    op.create_table('cable',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ref_id', sa.String(length=64), nullable=False),
    sa.Column('subject', sa.Text(), nullable=True),
    sa.Column('origin', sa.String(length=200), nullable=True),
    sa.Column('sent_at', service.orm.UTCDateTime(timezone=True), nullable=True),
    sa.Column('cable_date', sa.Date(), nullable=True),
    sa.Column('classification', sa.String(length=16), nullable=False),
    sa.Column('caveats', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('eo', sa.String(length=32), nullable=True),
    sa.Column('decl', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=True),
    sa.Column('decl_kind', sa.String(length=16), nullable=True),
    sa.Column('declassify_on', sa.Date(), nullable=True),
    sa.Column('declassify_basis', sa.Text(), nullable=True),
    sa.Column('classified_by', sa.Text(), nullable=True),
    sa.Column('reasons', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('tags', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('references', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('signer', sa.String(length=200), nullable=True),
    sa.Column('warnings', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('raw_text', sa.Text(), nullable=False),
    sa.Column('raw_sha256', sa.String(length=64), nullable=False),
    sa.Column('created_at', service.orm.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', service.orm.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cable')),
    sa.UniqueConstraint('ref_id', name=op.f('uq_cable_ref_id'))
    )
    with op.batch_alter_table('cable', schema=None) as batch_op:
        batch_op.create_index('ix_cable_classification_declassify_on', ['classification', 'declassify_on'], unique=False)
        batch_op.create_index('ix_cable_declassify_on_ref_id', ['declassify_on', 'ref_id'], unique=False)
        batch_op.create_index('ix_cable_origin_declassify_on', ['origin', 'declassify_on'], unique=False)
        batch_op.create_index('ix_cable_status_declassify_on', ['status', 'declassify_on'], unique=False)

    op.create_table('service_account',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.String(length=64), nullable=False),
    sa.Column('secret_hash', sa.String(length=256), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('roles', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('clearance', sa.String(length=16), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('created_at', service.orm.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', service.orm.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_service_account')),
    sa.UniqueConstraint('client_id', name=op.f('uq_service_account_client_id'))
    )
    op.create_table('user',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('password_hash', sa.String(length=256), nullable=False),
    sa.Column('roles', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('clearance', sa.String(length=16), nullable=False),
    sa.Column('queues', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('created_at', service.orm.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', service.orm.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user')),
    sa.UniqueConstraint('username', name=op.f('uq_user_username'))
    )
    op.create_table('cable_tag',
    sa.Column('cable_id', sa.Integer(), nullable=False),
    sa.Column('tag', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['cable_id'], ['cable.id'], name=op.f('fk_cable_tag_cable_id_cable'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('cable_id', 'tag', name=op.f('pk_cable_tag'))
    )
    with op.batch_alter_table('cable_tag', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cable_tag_tag'), ['tag'], unique=False)

    op.create_table('portion',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cable_id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=16), nullable=True),
    sa.Column('marking', sa.String(length=64), nullable=True),
    sa.Column('level', sa.String(length=16), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('queue', sa.String(length=64), nullable=True),
    sa.Column('assignee', sa.String(length=64), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', service.orm.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', service.orm.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['cable_id'], ['cable.id'], name=op.f('fk_portion_cable_id_cable')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_portion')),
    sa.UniqueConstraint('cable_id', 'seq', name=op.f('uq_portion_cable_id_seq'))
    )
    with op.batch_alter_table('portion', schema=None) as batch_op:
        batch_op.create_index('ix_portion_assignee_status', ['assignee', 'status'], unique=False)
        batch_op.create_index('ix_portion_queue_status', ['queue', 'status'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('portion', schema=None) as batch_op:
        batch_op.drop_index('ix_portion_queue_status')
        batch_op.drop_index('ix_portion_assignee_status')

    op.drop_table('portion')
    with op.batch_alter_table('cable_tag', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cable_tag_tag'))

    op.drop_table('cable_tag')
    op.drop_table('user')
    op.drop_table('service_account')
    with op.batch_alter_table('cable', schema=None) as batch_op:
        batch_op.drop_index('ix_cable_status_declassify_on')
        batch_op.drop_index('ix_cable_origin_declassify_on')
        batch_op.drop_index('ix_cable_declassify_on_ref_id')
        batch_op.drop_index('ix_cable_classification_declassify_on')

    op.drop_table('cable')
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_event_ref_id_seq')
        batch_op.drop_index('ix_audit_event_actor_seq')
        batch_op.drop_index('ix_audit_event_action_seq')

    op.drop_table('audit_event')
