"""day worker markers: dirty_days, dirty_pins, and the trigger that wakes the workers

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06 09:00:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('dirty_days',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('nip', sa.String(length=18), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('dirty_pins',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('agency', sa.String(length=64), nullable=False),
    sa.Column('pin', sa.String(length=20), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    if op.get_bind().dialect.name == "postgresql":
        # wakes the day workers (LISTEN kehadiran_dirty) when markers commit, instead of a poll
        op.execute("CREATE OR REPLACE FUNCTION kehadiran_dirty_notify() RETURNS trigger LANGUAGE plpgsql AS "
                   "$$ BEGIN PERFORM pg_notify('kehadiran_dirty', ''); RETURN NULL; END $$")
        for table in ('dirty_days', 'dirty_pins'):
            op.execute(f"CREATE TRIGGER {table}_notify AFTER INSERT ON {table} "
                       "FOR EACH STATEMENT EXECUTE FUNCTION kehadiran_dirty_notify()")
    # punches already waiting in quarantine are the worker's to release from now on
    op.execute("INSERT INTO dirty_pins (agency, pin) SELECT DISTINCT agency, person_key FROM punches "
               "WHERE nip IS NULL")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in ('dirty_days', 'dirty_pins'):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_notify ON {table}")
        op.execute("DROP FUNCTION IF EXISTS kehadiran_dirty_notify()")
    op.drop_table('dirty_pins')
    op.drop_table('dirty_days')
