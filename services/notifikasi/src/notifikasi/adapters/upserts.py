"""Multi-row inserts that skip rows already there: ``INSERT ... ON CONFLICT (...) DO NOTHING
RETURNING ...``, on SQLite and PostgreSQL. A list of rows with RETURNING goes as one statement of
many VALUES (SQLAlchemy's "insertmanyvalues", a thousand rows a statement), where a plain
executemany runs one statement a row; the rows take their ids in the order given. RETURNING
gives back the rows inserted (in no particular order: match them by key), so a check for rows
already there, and a read of the new ids, are not needed."""
from __future__ import annotations

from typing import Any, Sequence

from sqlalchemy import Table
from sqlalchemy.orm import Session

_STATEMENTS: dict[tuple, Any] = {}


def insert_new(session: Session, table: Table, rows: list[dict[str, Any]], *, unique: Sequence[str] = (),
               returning: Sequence[str] = ("id",)) -> list[tuple]:
    """Insert ``rows`` in order, skipping any whose ``unique`` columns match a row there (none
    skipped when ``unique`` is empty); returns the ``returning`` columns of the rows inserted."""
    if not rows:
        return []
    dialect = session.get_bind().dialect.name
    key = (dialect, table, tuple(unique), tuple(returning))
    stmt = _STATEMENTS.get(key)
    if stmt is None:  # built once: a poll's statement is then found in the compiled cache at once
        if dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        stmt = insert(table)
        if unique:
            stmt = stmt.on_conflict_do_nothing(index_elements=[table.c[c] for c in unique])
        stmt = _STATEMENTS[key] = stmt.returning(*(table.c[c] for c in returning))
    # through the session: SQLite's inbox wake-up watches its inserts (``inbox_wakeup``)
    return [tuple(r) for r in session.execute(stmt, rows)]
