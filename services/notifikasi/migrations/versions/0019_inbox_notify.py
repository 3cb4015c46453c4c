"""inbox notify trigger: inbox rows wake the stream tailers at commit (LISTEN notifikasi_inbox)
instead of the tailers polling the table

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-08 10:00:00.000000
"""
from alembic import op


revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE OR REPLACE FUNCTION notifikasi_inbox_notify() RETURNS trigger LANGUAGE plpgsql AS "
                   "$$ BEGIN PERFORM pg_notify('notifikasi_inbox', ''); RETURN NULL; END $$")
        op.execute("CREATE TRIGGER notifications_notify AFTER INSERT ON notifications "
                   "FOR EACH STATEMENT EXECUTE FUNCTION notifikasi_inbox_notify()")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS notifications_notify ON notifications")
        op.execute("DROP FUNCTION IF EXISTS notifikasi_inbox_notify()")
