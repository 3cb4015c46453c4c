"""A batch's event ids checked and recorded in ``processed_events`` with one statement:
``INSERT ... ON CONFLICT (event_id) DO NOTHING RETURNING event_id`` gives back the ids that were
not recorded yet, so the check (a SELECT) and the record (an INSERT, one per row as an
executemany) become one statement whatever the number of events, its text the same for any number. An id another
consumer has recorded but not committed yet waits for that commit (the row lock), then counts as
recorded: nothing is applied twice. SQLite (>= 3.35) and PostgreSQL."""
from __future__ import annotations

from typing import Any

from sqlalchemy import Table
from sqlalchemy.orm import Session

from kinerja.fixed_inserts import insert_new


def claim_new_ids(session: Session, table: Table, rows: list[dict[str, Any]]) -> set[str]:
    """Record ``rows`` (``processed_events`` rows, one per distinct id, in the order their row
    locks are to be taken) and return the ids among them that were not recorded before."""
    # one statement of the same text for any number of ids (``kinerja.fixed_inserts``)
    return {r[0] for r in insert_new(session, table, rows, unique=("event_id",), returning=("event_id",))}
