"""e-mail delivery status: the recipient's agency on each e-mail, and the mailer's state (issue 19)

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-05 15:00:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('emails', schema=None) as batch_op:
        batch_op.add_column(sa.Column('agency', sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f('ix_emails_agency'), ['agency'], unique=False)
    # the notification's agency, else the preference's, else the roster's (a digest to its address)
    op.execute("UPDATE emails SET agency = COALESCE("
               "(SELECT n.agency FROM notifications n WHERE n.id = emails.notification_id), "
               "(SELECT p.agency FROM email_preferences p WHERE p.nip = emails.recipient_nip), "
               "(SELECT e.agency FROM employees e WHERE e.nip = emails.recipient_nip))")
    op.create_table('mailer_state',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('endpoint', sa.String(length=300), nullable=True),
    sa.Column('last_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_success_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('last_error_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('consecutive_failures', sa.Integer(), nullable=False),
    sa.Column('failing_since', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )


def downgrade() -> None:
    op.drop_table('mailer_state')
    with op.batch_alter_table('emails', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_emails_agency'))
        batch_op.drop_column('agency')
