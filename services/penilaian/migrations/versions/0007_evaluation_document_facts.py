"""the evaluation document's facts: approved SKPs, feedback, a task's RHK, the ASN's jabatan

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 09:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('skp_facts',
    sa.Column('nip', sa.String(length=18), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('skp_id', sa.String(length=64), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.String(length=200), nullable=False),
    sa.Column('atasan_nip', sa.String(length=18), nullable=True),
    sa.Column('approved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('rhk', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('nip', 'year')
    )
    op.create_table('feedback_facts',
    sa.Column('message_id', sa.String(length=64), nullable=False),
    sa.Column('nip', sa.String(length=18), nullable=False),
    sa.Column('author_nip', sa.String(length=18), nullable=False),
    sa.Column('task_id', sa.String(length=200), nullable=True),
    sa.Column('rhk_id', sa.String(length=64), nullable=True),
    sa.Column('text', sa.String(length=5000), nullable=False),
    sa.Column('posted_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('message_id')
    )
    with op.batch_alter_table('feedback_facts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_feedback_facts_nip'), ['nip'], unique=False)
    with op.batch_alter_table('employees', schema=None) as batch_op:
        batch_op.add_column(sa.Column('jabatan', sa.String(length=200), nullable=False, server_default=''))
    with op.batch_alter_table('task_facts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('rhk_id', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('task_facts', schema=None) as batch_op:
        batch_op.drop_column('rhk_id')
    with op.batch_alter_table('employees', schema=None) as batch_op:
        batch_op.drop_column('jabatan')
    with op.batch_alter_table('feedback_facts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_feedback_facts_nip'))
    op.drop_table('feedback_facts')
    op.drop_table('skp_facts')
