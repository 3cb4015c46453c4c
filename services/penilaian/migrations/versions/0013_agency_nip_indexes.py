"""scores and agency_memberships indexed by (agency, nip) in place of (agency): a policy
recompute's batch (the next ASN of the agency after its cursor, in NIP order) reads its few hundred
entries along the index and stops; on (agency) alone it read every row of the agency and sorted
them, for each batch (a plan made on a nearly empty table's statistics, 60,000 score rows). Every
read that used (agency) uses its leading column as before.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 11:00:00.000000
"""
from alembic import op


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table in ('scores', 'agency_memberships'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(f'ix_{table}_agency_nip', ['agency', 'nip'], unique=False)
            batch_op.drop_index(f'ix_{table}_agency')


def downgrade() -> None:
    for table in ('scores', 'agency_memberships'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(f'ix_{table}_agency', ['agency'], unique=False)
            batch_op.drop_index(f'ix_{table}_agency_nip')
