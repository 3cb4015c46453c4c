"""outbox's unsent index holds the unsent rows only: (id) WHERE sent_at IS NULL in place of
(sent_at, id). A relay's mark then takes a row out of it instead of adding an entry (one index
entry a sent row less), and the index is the size of the backlog, not of the retention's rows

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07 03:00:00.000000
"""
from kinerja.migration_steps import downgrade_outbox_unsent_partial, upgrade_outbox_unsent_partial


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    upgrade_outbox_unsent_partial(outbox_table='outbox')


def downgrade() -> None:
    downgrade_outbox_unsent_partial(outbox_table='outbox')
