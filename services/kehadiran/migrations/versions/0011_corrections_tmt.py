"""corrections (lupa absen), correction punches, TMT per ASN

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05 12:40:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('correction_requests',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('nip', sa.String(length=18), nullable=False),
    sa.Column('agency', sa.String(length=64), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('punches', sa.JSON(), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('requested_by', sa.String(length=64), nullable=False),
    sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_by', sa.String(length=64), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('note', sa.String(length=500), nullable=False),
    sa.Column('punch_ids', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('correction_requests', schema=None) as batch_op:
        batch_op.create_index('ix_correction_requests_agency_status', ['agency', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_correction_requests_nip'), ['nip'], unique=False)

    with op.batch_alter_table('employees', schema=None) as batch_op:
        batch_op.add_column(sa.Column('tmt', sa.Date(), nullable=True))

    with op.batch_alter_table('punches', schema=None) as batch_op:
        batch_op.add_column(sa.Column('correction_id', sa.String(length=36), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('punches', schema=None) as batch_op:
        batch_op.drop_column('correction_id')

    with op.batch_alter_table('employees', schema=None) as batch_op:
        batch_op.drop_column('tmt')

    with op.batch_alter_table('correction_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_correction_requests_nip'))
        batch_op.drop_index('ix_correction_requests_agency_status')

    op.drop_table('correction_requests')
