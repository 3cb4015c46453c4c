"""field realities: agency settings (time zone, ignore_pin_zeros, burst window), employees.pin_key,
command attempts, photos and biometric templates a terminal uploads

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-08 09:00:00.000000
"""
from alembic import op
import sqlalchemy as sa



revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('agency_settings',
    sa.Column('agency', sa.String(length=64), nullable=False),
    sa.Column('timezone', sa.String(length=40), nullable=True),
    sa.Column('ignore_pin_zeros', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('burst_window_s', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_by', sa.String(length=64), nullable=True),
    sa.PrimaryKeyConstraint('agency')
    )
    with op.batch_alter_table('employees', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pin_key', sa.String(length=20), nullable=True))
        batch_op.create_index('ix_employees_agency_pin_key', ['agency', 'pin_key'], unique=False)
    # the PIN without its leading zeros ('007' and '7' are both '7'; '000' is '0')
    op.execute("UPDATE employees SET pin_key = CASE WHEN ltrim(pin, '0') = '' THEN '0' ELSE ltrim(pin, '0') END "
               "WHERE pin IS NOT NULL")
    with op.batch_alter_table('device_commands', schema=None) as batch_op:
        batch_op.add_column(sa.Column('attempts', sa.Integer(), server_default='0', nullable=False))
    op.execute("UPDATE device_commands SET attempts = 1 WHERE sent_at IS NOT NULL")
    op.create_table('device_uploads',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('device_sn', sa.String(length=64), nullable=False),
    sa.Column('agency', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('pin', sa.String(length=20), nullable=True),
    sa.Column('label', sa.String(length=100), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('device_sn', 'kind', 'sha256', name='uq_device_upload')
    )
    op.create_index('ix_device_uploads_sn', 'device_uploads', ['device_sn', 'kind', 'id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_device_uploads_sn', table_name='device_uploads')
    op.drop_table('device_uploads')
    with op.batch_alter_table('device_commands', schema=None) as batch_op:
        batch_op.drop_column('attempts')
    with op.batch_alter_table('employees', schema=None) as batch_op:
        batch_op.drop_index('ix_employees_agency_pin_key')
        batch_op.drop_column('pin_key')
    op.drop_table('agency_settings')
