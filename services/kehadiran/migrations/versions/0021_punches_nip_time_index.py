"""punches(nip, time) index in place of punches(nip): the day worker reads an ASN's punches of a
few days; by NIP alone it went through every punch the ASN ever made (a year: hundreds per day
recomputed) to keep the few of those days

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-10 09:00:00.000000
"""
from alembic import op


revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('punches', schema=None) as batch_op:
        batch_op.create_index('ix_punches_nip_time', ['nip', 'time'], unique=False)
        batch_op.drop_index('ix_punches_nip')


def downgrade() -> None:
    with op.batch_alter_table('punches', schema=None) as batch_op:
        batch_op.create_index('ix_punches_nip', ['nip'], unique=False)
        batch_op.drop_index('ix_punches_nip_time')
