"""working time

Revision ID: 0010
Revises: 0002
Create Date: 2026-11-28 20:04:11.223666
"""
from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('closing_cursors',
    sa.Column('agency', sa.String(length=64), nullable=False),
    sa.Column('closed_through', sa.Date(), nullable=False),
    sa.PrimaryKeyConstraint('agency')
    )

    op.create_table('discipline_alerts',
    sa.Column('nip', sa.String(length=18), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('threshold', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('raised_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('nip', 'year', 'kind', 'threshold')
    )
    op.create_table('holidays',
    sa.Column('agency', sa.String(length=64), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.PrimaryKeyConstraint('agency', 'day')
    )
    op.create_table('leaves',
    sa.Column('nip', sa.String(length=18), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('note', sa.String(length=500), nullable=False),
    sa.Column('entered_by', sa.String(length=64), nullable=False),
    sa.Column('entered_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('nip', 'day')
    )
    op.create_table('ramadan_schedules',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('agency', sa.String(length=64), nullable=False),
    sa.Column('unit', sa.String(length=200), nullable=True),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=False),
    sa.Column('hours', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('ramadan_schedules', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ramadan_schedules_agency'), ['agency'], unique=False)

    op.create_table('shifts',
    sa.Column('nip', sa.String(length=18), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('start', sa.String(length=5), nullable=True),
    sa.Column('end', sa.String(length=5), nullable=True),
    sa.Column('name', sa.String(length=50), nullable=False),
    sa.PrimaryKeyConstraint('nip', 'day')
    )
    op.create_table('tracking',
    sa.Column('nip', sa.String(length=18), nullable=False),
    sa.Column('since', sa.Date(), nullable=False),
    sa.PrimaryKeyConstraint('nip')
    )
    op.create_table('unit_locations',
    sa.Column('agency', sa.String(length=64), nullable=False),
    sa.Column('unit', sa.String(length=200), nullable=False),
    sa.Column('lat', sa.Float(), nullable=False),
    sa.Column('lon', sa.Float(), nullable=False),
    sa.Column('radius_m', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('agency', 'unit')
    )
    op.create_table('unit_schedules',
    sa.Column('agency', sa.String(length=64), nullable=False),
    sa.Column('unit', sa.String(length=200), nullable=False),
    sa.Column('hours', sa.JSON(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('agency', 'unit')
    )



def downgrade() -> None:
    
    op.drop_table('unit_schedules')
    op.drop_table('unit_locations')
    op.drop_table('tracking')
    op.drop_table('shifts')
    with op.batch_alter_table('ramadan_schedules', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ramadan_schedules_agency'))

    op.drop_table('ramadan_schedules')
    op.drop_table('leaves')
    op.drop_table('holidays')
    op.drop_table('discipline_alerts')

    op.drop_table('closing_cursors')
