"""scores.total_partial: the provisional total while hasil kerja or perilaku kerja is unrated

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 09:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('scores', schema=None) as batch_op:
        batch_op.add_column(sa.Column('total_partial', sa.Integer(), nullable=True))
    # rows stored before: a total that weighed only the rated part is provisional, not final
    op.execute("UPDATE scores SET total_partial = total, total = NULL "
               "WHERE total IS NOT NULL AND (hasil_kerja IS NULL OR perilaku IS NULL)")


def downgrade() -> None:
    op.execute("UPDATE scores SET total = total_partial WHERE total IS NULL AND total_partial IS NOT NULL")
    with op.batch_alter_table('scores', schema=None) as batch_op:
        batch_op.drop_column('total_partial')
