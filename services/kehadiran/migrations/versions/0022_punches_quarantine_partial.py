"""punches' quarantine index holds the quarantined punches only: (agency, person_key) WHERE nip
IS NULL in place of (agency, person_key, nip). Every reader of it asks for ``nip IS NULL`` (the
release of a PIN, a device's quarantine count, an agency's quarantined PINs); a punch of a known
ASN, nearly every punch, now adds no entry to it: one index entry a punch less on every ingest
path, and an index the size of the quarantine instead of the whole table

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-11 09:00:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('punches', schema=None) as batch_op:
        batch_op.drop_index('ix_punches_quarantine')
        batch_op.create_index('ix_punches_quarantine', ['agency', 'person_key'], unique=False,
                              postgresql_where=sa.text('nip IS NULL'), sqlite_where=sa.text('nip IS NULL'))


def downgrade() -> None:
    with op.batch_alter_table('punches', schema=None) as batch_op:
        batch_op.drop_index('ix_punches_quarantine')
        batch_op.create_index('ix_punches_quarantine', ['agency', 'person_key', 'nip'], unique=False)
