"""outbox notify trigger, processed_events trimmed by age

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02 10:00:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # the consumer deletes records older than its retention: by processed_at, through this index
    with op.batch_alter_table('processed_events', schema=None) as batch_op:
        batch_op.create_index('ix_processed_events_processed_at', ['processed_at'], unique=False)

    if op.get_bind().dialect.name == "postgresql":
        # wakes the relays (LISTEN kinerja_outbox) when outbox rows commit, instead of their poll
        op.execute("CREATE OR REPLACE FUNCTION kinerja_outbox_notify() RETURNS trigger LANGUAGE plpgsql AS "
                   "$$ BEGIN PERFORM pg_notify('kinerja_outbox', ''); RETURN NULL; END $$")
        op.execute("CREATE TRIGGER outbox_notify AFTER INSERT ON outbox "
                   "FOR EACH STATEMENT EXECUTE FUNCTION kinerja_outbox_notify()")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS outbox_notify ON outbox")
        op.execute("DROP FUNCTION IF EXISTS kinerja_outbox_notify()")
    with op.batch_alter_table('processed_events', schema=None) as batch_op:
        batch_op.drop_index('ix_processed_events_processed_at')
