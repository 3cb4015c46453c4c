"""the outbox's and the day markers' trigger functions send no notification from a transaction
that deferred them (``kinerja.notify_after_commit`` on: a punch request, whose process sends them
once it has committed, ``kinerja.after_commit_notify``). A notifying commit holds a lock of the
whole cluster across its flush to disk, so on a durable server every punch request waited for
the one before it to reach the disk

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-07 14:00:00.000000
"""
from alembic import op

revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None

# the bodies as they stand from this revision on (frozen here: the code's copies may move on)
_DEFERRABLE = ("$$ BEGIN IF current_setting('kinerja.notify_after_commit', true) IS DISTINCT FROM 'on' THEN "
               "PERFORM pg_notify('{channel}', ''); END IF; RETURN NULL; END $$")
_ALWAYS = "$$ BEGIN PERFORM pg_notify('{channel}', ''); RETURN NULL; END $$"
_FUNCTIONS = {"kinerja_outbox_notify": "kinerja_outbox", "kehadiran_dirty_notify": "kehadiran_dirty"}


def _replace(body: str) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for function, channel in _FUNCTIONS.items():
        op.execute(f"CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS "
                   + body.format(channel=channel))


def upgrade() -> None:
    _replace(_DEFERRABLE)


def downgrade() -> None:
    _replace(_ALWAYS)
