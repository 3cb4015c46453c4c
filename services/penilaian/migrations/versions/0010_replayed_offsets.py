"""how far a rebuild applied each partition: the consumer takes every message below as applied

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 16:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('replayed_offsets',
    sa.Column('topic', sa.String(length=255), nullable=False),
    sa.Column('partition', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('next_offset', sa.BigInteger(), nullable=False),
    sa.Column('replayed_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('topic', 'partition')
    )


def downgrade() -> None:
    op.drop_table('replayed_offsets')
