"""A batch's event ids checked and recorded in ``processed_events`` with one statement:
``INSERT ... ON CONFLICT (event_id) DO NOTHING RETURNING event_id`` gives back the ids that were
not recorded yet, so the check (a SELECT) and the record (an INSERT, one per row as an
executemany) become one multi-row statement whatever the number of events. An id another
consumer has recorded but not committed yet waits for that commit (the row lock), then counts as
recorded: nothing is applied twice. SQLite (>= 3.35) and PostgreSQL."""
from __future__ import annotations

from typing import Any

from sqlalchemy import Table
from sqlalchemy.orm import Session

_STATEMENTS: dict[tuple[str, Table], Any] = {}


def claim_new_ids(session: Session, table: Table, rows: list[dict[str, Any]]) -> set[str]:
    """Record ``rows`` (``processed_events`` rows, one per distinct id, in the order their row
    locks are to be taken) and return the ids among them that were not recorded before."""
    if not rows:
        return set()
    dialect = session.get_bind().dialect.name
    stmt = _STATEMENTS.get((dialect, table))
    if stmt is None:
        if dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        stmt = _STATEMENTS[(dialect, table)] = (
            insert(table).on_conflict_do_nothing(index_elements=[table.c.event_id]).returning(table.c.event_id))
    # a list of parameter sets with RETURNING goes as multi-row VALUES ("insertmanyvalues")
    return set(session.execute(stmt, rows).scalars())
