"""device ownership: a serial stays with the agency that registered it until released (issue 15),
its registration audited; commands carry the agency that queued them; the communication key and
the source addresses a device may call from

Revision ID: 0015
Revises: 0012
Create Date: 2026-12-05 12:17:22.931796
"""
from alembic import op
import sqlalchemy as sa


revision = '0015'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('device_audit',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('device_sn', sa.String(length=64), nullable=False),
    sa.Column('agency', sa.String(length=64), nullable=False),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('device_audit', schema=None) as batch_op:
        batch_op.create_index('ix_device_audit_sn', ['device_sn', 'id'], unique=False)

    with op.batch_alter_table('device_commands', schema=None) as batch_op:
        batch_op.add_column(sa.Column('agency', sa.String(length=64), nullable=True))

    with op.batch_alter_table('devices', schema=None) as batch_op:
        batch_op.add_column(sa.Column('active', sa.Boolean(), server_default=sa.true(), nullable=False))
        batch_op.add_column(sa.Column('released_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('comm_key_sha256', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('addresses', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('keyed_address', sa.String(length=45), nullable=True))
        batch_op.add_column(sa.Column('last_address', sa.String(length=45), nullable=True))
        batch_op.add_column(sa.Column('address_changed_at', sa.DateTime(timezone=True), nullable=True))

    # the commands queued so far were queued by the device's agency of the time: its agency now
    op.execute("UPDATE device_commands SET agency = "
               "(SELECT devices.agency FROM devices WHERE devices.sn = device_commands.device_sn)")



def downgrade() -> None:
    with op.batch_alter_table('devices', schema=None) as batch_op:
        batch_op.drop_column('address_changed_at')
        batch_op.drop_column('last_address')
        batch_op.drop_column('keyed_address')
        batch_op.drop_column('addresses')
        batch_op.drop_column('comm_key_sha256')
        batch_op.drop_column('released_at')
        batch_op.drop_column('active')

    with op.batch_alter_table('device_commands', schema=None) as batch_op:
        batch_op.drop_column('agency')

    with op.batch_alter_table('device_audit', schema=None) as batch_op:
        batch_op.drop_index('ix_device_audit_sn')

    op.drop_table('device_audit')
