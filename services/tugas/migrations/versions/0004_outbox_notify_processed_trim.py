"""outbox notify trigger, processed_events trimmed by age

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 10:00:00.000000
"""
from kinerja.migration_steps import (downgrade_outbox_notify_processed_trim,
                                     upgrade_outbox_notify_processed_trim)


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    upgrade_outbox_notify_processed_trim(processed_table='processed_events', outbox_table='outbox')


def downgrade() -> None:
    downgrade_outbox_notify_processed_trim(processed_table='processed_events', outbox_table='outbox')
