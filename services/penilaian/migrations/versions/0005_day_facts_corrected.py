"""day facts: corrected (the day rests on an approved correction, lupa absen)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05 13:10:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('day_facts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('corrected', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('day_facts', schema=None) as batch_op:
        batch_op.drop_column('corrected')
