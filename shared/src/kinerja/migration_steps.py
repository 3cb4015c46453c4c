"""Alembic steps that several services' migrations take alike, written once.

Each step does exactly what the migration that first wrote it out did; a migration calls it with
its own table names, so its revision still says what it changes. Changing a step here changes
history that databases have already run: add a new step instead.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

# the channel the relays LISTEN on (kinerja.messaging.outbox.NOTIFY_CHANNEL)
_NOTIFY_FUNCTION = "kinerja_outbox_notify"
_NOTIFY_TRIGGER = "outbox_notify"


def upgrade_outbox_notify_processed_trim(*, processed_table: str = "processed_events",
                                         outbox_table: str = "outbox") -> None:
    """An index on ``processed_table.processed_at``, and on PostgreSQL a trigger on
    ``outbox_table`` that notifies ``kinerja_outbox`` when rows commit."""
    # the consumer deletes records older than its retention: by processed_at, through this index
    with op.batch_alter_table(processed_table, schema=None) as batch_op:
        batch_op.create_index(f"ix_{processed_table}_processed_at", ["processed_at"], unique=False)

    if op.get_bind().dialect.name == "postgresql":
        # wakes the relays (LISTEN kinerja_outbox) when outbox rows commit, instead of their poll
        op.execute(f"CREATE OR REPLACE FUNCTION {_NOTIFY_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS "
                   "$$ BEGIN PERFORM pg_notify('kinerja_outbox', ''); RETURN NULL; END $$")
        op.execute(f"CREATE TRIGGER {_NOTIFY_TRIGGER} AFTER INSERT ON {outbox_table} "
                   f"FOR EACH STATEMENT EXECUTE FUNCTION {_NOTIFY_FUNCTION}()")


def downgrade_outbox_notify_processed_trim(*, processed_table: str = "processed_events",
                                           outbox_table: str = "outbox") -> None:
    """Undoes :func:`upgrade_outbox_notify_processed_trim`."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP TRIGGER IF EXISTS {_NOTIFY_TRIGGER} ON {outbox_table}")
        op.execute(f"DROP FUNCTION IF EXISTS {_NOTIFY_FUNCTION}()")
    with op.batch_alter_table(processed_table, schema=None) as batch_op:
        batch_op.drop_index(f"ix_{processed_table}_processed_at")


def upgrade_outbox_unsent_partial(*, outbox_table: str = "outbox") -> None:
    """``ix_outbox_unsent`` holds the unsent rows only, ``(id) WHERE sent_at IS NULL``, in place of
    ``(sent_at, id)`` over every row: every reader of it asks for the unsent rows, so a relay's
    mark takes a row out of it instead of adding an entry for the sent row (one index entry a
    mark less), and it stays the size of the backlog instead of everything the retention keeps."""
    op.drop_index("ix_outbox_unsent", table_name=outbox_table)
    op.create_index("ix_outbox_unsent", outbox_table, ["id"], unique=False,
                    postgresql_where=sa.text("sent_at IS NULL"), sqlite_where=sa.text("sent_at IS NULL"))


def downgrade_outbox_unsent_partial(*, outbox_table: str = "outbox") -> None:
    """Undoes :func:`upgrade_outbox_unsent_partial`."""
    op.drop_index("ix_outbox_unsent", table_name=outbox_table)
    op.create_index("ix_outbox_unsent", outbox_table, ["sent_at", "id"], unique=False)
