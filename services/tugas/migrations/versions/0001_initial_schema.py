"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-28 19:52:00.031319
"""
from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('employees',
    sa.Column('nip', sa.String(length=18), nullable=False),
    sa.Column('nama', sa.String(length=200), nullable=False),
    sa.Column('agency', sa.String(length=64), nullable=False),
    sa.Column('unit', sa.String(length=200), nullable=False),
    sa.Column('atasan_nip', sa.String(length=18), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('nip')
    )
    with op.batch_alter_table('employees', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_employees_agency'), ['agency'], unique=False)
        batch_op.create_index(batch_op.f('ix_employees_atasan_nip'), ['atasan_nip'], unique=False)

    op.create_table('outbox',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('event_id', sa.String(length=64), nullable=False),
    sa.Column('topic', sa.String(length=200), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('event_id')
    )
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_unsent', ['sent_at', 'id'], unique=False)

    op.create_table('processed_events',
    sa.Column('event_id', sa.String(length=200), nullable=False),
    sa.Column('topic', sa.String(length=200), nullable=False),
    sa.Column('partition', sa.Integer(), nullable=False),
    sa.Column('offset', sa.BigInteger(), nullable=False),
    sa.Column('processed_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('event_id')
    )
    op.create_table('skps',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('nip', sa.String(length=18), nullable=False),
    sa.Column('agency', sa.String(length=64), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('atasan_nip', sa.String(length=18), nullable=True),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('approved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('nip', 'year', name='uq_skp_nip_year')
    )
    with op.batch_alter_table('skps', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_skps_agency'), ['agency'], unique=False)

    op.create_table('rhks',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('skp_id', sa.String(length=36), nullable=False),
    sa.Column('nip', sa.String(length=18), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('parent_rhk_id', sa.String(length=36), nullable=True),
    sa.Column('indicators', sa.JSON(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['parent_rhk_id'], ['rhks.id'], ),
    sa.ForeignKeyConstraint(['skp_id'], ['skps.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('rhks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rhks_nip'), ['nip'], unique=False)
        batch_op.create_index(batch_op.f('ix_rhks_skp_id'), ['skp_id'], unique=False)

    op.create_table('tasks',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('agency', sa.String(length=64), nullable=False),
    sa.Column('nip', sa.String(length=18), nullable=False),
    sa.Column('atasan_nip', sa.String(length=18), nullable=True),
    sa.Column('assigned_by', sa.String(length=18), nullable=False),
    sa.Column('title', sa.String(length=500), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('category', sa.String(length=100), nullable=True),
    sa.Column('rhk_id', sa.String(length=36), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.Column('target_quantity', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('realised_quantity', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('quality', sa.Integer(), nullable=True),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('approved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('links', sa.JSON(), nullable=False),
    sa.Column('overdue_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['rhk_id'], ['rhks.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.create_index('ix_tasks_agency_nip', ['agency', 'nip'], unique=False)
        batch_op.create_index(batch_op.f('ix_tasks_atasan_nip'), ['atasan_nip'], unique=False)
        batch_op.create_index('ix_tasks_open_due', ['status', 'due_date'], unique=False)
        batch_op.create_index(batch_op.f('ix_tasks_rhk_id'), ['rhk_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tasks_rhk_id'))
        batch_op.drop_index('ix_tasks_open_due')
        batch_op.drop_index(batch_op.f('ix_tasks_atasan_nip'))
        batch_op.drop_index('ix_tasks_agency_nip')

    op.drop_table('tasks')
    with op.batch_alter_table('rhks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rhks_skp_id'))
        batch_op.drop_index(batch_op.f('ix_rhks_nip'))

    op.drop_table('rhks')
    with op.batch_alter_table('skps', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_skps_agency'))

    op.drop_table('skps')
    op.drop_table('processed_events')
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_unsent')

    op.drop_table('outbox')
    with op.batch_alter_table('employees', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_employees_atasan_nip'))
        batch_op.drop_index(batch_op.f('ix_employees_agency'))

    op.drop_table('employees')
