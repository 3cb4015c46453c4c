"""the roster's e-mail address (and its digest's cursor); a preference may leave the address to it

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-05 10:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('employees', schema=None) as batch_op:
        batch_op.add_column(sa.Column('email', sa.String(length=320), nullable=True))
        batch_op.add_column(sa.Column('last_digest_at', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('email_preferences', schema=None) as batch_op:
        batch_op.alter_column('email', existing_type=sa.String(length=320), nullable=True)


def downgrade() -> None:
    with op.batch_alter_table('email_preferences', schema=None) as batch_op:
        batch_op.alter_column('email', existing_type=sa.String(length=320), nullable=False)
    with op.batch_alter_table('employees', schema=None) as batch_op:
        batch_op.drop_column('last_digest_at')
        batch_op.drop_column('email')
