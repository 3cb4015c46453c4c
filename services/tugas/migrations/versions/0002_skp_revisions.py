"""skp revisions

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 19:56:05.137599
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('skp_revisions',
    sa.Column('skp_id', sa.String(length=36), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('approved_by', sa.String(length=18), nullable=False),
    sa.Column('approved_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('content', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['skp_id'], ['skps.id'], ),
    sa.PrimaryKeyConstraint('skp_id', 'revision')
    )


def downgrade() -> None:
    op.drop_table('skp_revisions')
