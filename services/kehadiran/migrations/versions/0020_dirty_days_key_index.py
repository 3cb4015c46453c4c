"""dirty_days(nip, day) index: a day worker's claim sweeps every marker of the keys it took

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-09 09:00:00.000000
"""
from alembic import op


revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_dirty_days_nip_day', 'dirty_days', ['nip', 'day'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_dirty_days_nip_day', table_name='dirty_days')
