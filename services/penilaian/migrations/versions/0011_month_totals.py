"""month totals: each ASN's month as the sums its scores are folded from; score rows no longer
store their ledger (it is assembled from the facts when read, by the policy version the row names
in policy_id)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05 22:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('month_totals',
    sa.Column('nip', sa.String(length=18), nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('workdays', sa.Integer(), nullable=False),
    sa.Column('deductions', sa.String(length=32), nullable=False),
    sa.Column('task_sum', sa.String(length=32), nullable=False),
    sa.Column('task_count', sa.Integer(), nullable=False),
    sa.Column('late_tasks', sa.Integer(), nullable=False),
    sa.Column('penalty', sa.String(length=32), nullable=False),
    sa.Column('innovations', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('nip', 'month')
    )
    with op.batch_alter_table('scores', schema=None) as batch_op:
        batch_op.add_column(sa.Column('policy_id', sa.String(length=64), nullable=True))
    # the months of the scores stored so far, summed from their facts (quarters and years are
    # folded from them from now on), and the version each row is read by; the rows keep their
    # values and ledgers until they are next recomputed
    from penilaian.service_layer.month_backfill import backfill_month_totals

    backfill_month_totals(op.get_bind())


def downgrade() -> None:
    # a row recomputed since keeps no ledger: put it back by a rebuild (``kinerja scores rebuild``)
    with op.batch_alter_table('scores', schema=None) as batch_op:
        batch_op.drop_column('policy_id')
    op.drop_table('month_totals')
