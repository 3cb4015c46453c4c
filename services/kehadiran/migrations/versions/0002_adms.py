"""adms: device status columns, command queue, device users and operation log

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 20:04:55.275600
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('device_commands',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('device_sn', sa.String(length=64), nullable=False),
    sa.Column('command', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('result_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('return_code', sa.Integer(), nullable=True),
    sa.Column('result', sa.JSON(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('device_commands', schema=None) as batch_op:
        batch_op.create_index('ix_device_commands_queue', ['device_sn', 'status', 'id'], unique=False)

    op.create_table('device_oplog',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('device_sn', sa.String(length=64), nullable=False),
    sa.Column('op', sa.String(length=16), nullable=False),
    sa.Column('admin', sa.String(length=32), nullable=False),
    sa.Column('op_time', sa.DateTime(), nullable=False),
    sa.Column('objects', sa.String(length=200), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('device_sn', 'op', 'admin', 'op_time', 'objects', name='uq_device_oplog')
    )
    op.create_table('device_users',
    sa.Column('device_sn', sa.String(length=64), nullable=False),
    sa.Column('pin', sa.String(length=20), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('privilege', sa.Integer(), nullable=True),
    sa.Column('card', sa.String(length=32), nullable=True),
    sa.Column('group', sa.String(length=16), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('device_sn', 'pin')
    )
    with op.batch_alter_table('devices', schema=None) as batch_op:
        batch_op.add_column(sa.Column('firmware', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('user_count', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('fp_count', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('log_count', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('info', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('options', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('options_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('attlog_stamp', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('operlog_stamp', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('last_rejected', sa.JSON(), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('devices', schema=None) as batch_op:
        batch_op.drop_column('last_rejected')
        batch_op.drop_column('operlog_stamp')
        batch_op.drop_column('attlog_stamp')
        batch_op.drop_column('options_at')
        batch_op.drop_column('options')
        batch_op.drop_column('info')
        batch_op.drop_column('log_count')
        batch_op.drop_column('fp_count')
        batch_op.drop_column('user_count')
        batch_op.drop_column('firmware')

    op.drop_table('device_users')
    op.drop_table('device_oplog')
    with op.batch_alter_table('device_commands', schema=None) as batch_op:
        batch_op.drop_index('ix_device_commands_queue')

    op.drop_table('device_commands')
