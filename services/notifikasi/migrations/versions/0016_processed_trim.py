"""processed_events trimmed by age

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02 10:00:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # the consumer deletes records older than its retention: by processed_at, through this index
    with op.batch_alter_table('processed_events', schema=None) as batch_op:
        batch_op.create_index('ix_processed_events_processed_at', ['processed_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('processed_events', schema=None) as batch_op:
        batch_op.drop_index('ix_processed_events_processed_at')
