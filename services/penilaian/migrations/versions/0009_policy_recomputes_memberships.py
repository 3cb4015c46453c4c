"""a policy version's recompute done by the consumer in batches; the ASN's agency from a month on

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05 09:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('policy_recomputes',
    sa.Column('policy_id', sa.String(length=64), nullable=False),
    sa.Column('agency', sa.String(length=64), nullable=False),
    sa.Column('effective_from', sa.Date(), nullable=False),
    sa.Column('cursor_nip', sa.String(length=18), nullable=True),
    sa.Column('asn', sa.Integer(), nullable=False),
    sa.Column('batches', sa.Integer(), nullable=False),
    sa.Column('queued_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('done_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('policy_id')
    )
    with op.batch_alter_table('policy_recomputes', schema=None) as batch_op:
        batch_op.create_index('ix_policy_recomputes_pending', ['done_at', 'queued_at'], unique=False)
    op.create_table('agency_memberships',
    sa.Column('nip', sa.String(length=18), nullable=False),
    sa.Column('since', sa.Date(), nullable=False),
    sa.Column('agency', sa.String(length=64), nullable=False),
    sa.Column('stated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('event_id', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('nip', 'since')
    )
    with op.batch_alter_table('agency_memberships', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agency_memberships_agency'), ['agency'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('agency_memberships', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_agency_memberships_agency'))
    op.drop_table('agency_memberships')
    with op.batch_alter_table('policy_recomputes', schema=None) as batch_op:
        batch_op.drop_index('ix_policy_recomputes_pending')
    op.drop_table('policy_recomputes')
