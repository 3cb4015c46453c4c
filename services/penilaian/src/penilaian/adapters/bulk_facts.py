"""Writing many fact rows at once into a fresh table: ``COPY ... FROM STDIN`` on PostgreSQL
(psycopg's copy), one ``executemany`` of an INSERT on SQLite (SQLAlchemy's types turn the dates
and JSON into what the ORM would store)."""
from __future__ import annotations

import json
from typing import Any, Iterable

from sqlalchemy import JSON, Table, insert
from sqlalchemy.orm import Session

CHUNK = 20_000


def bulk_insert(session: Session, table: Table, rows: Iterable[dict[str, Any]]) -> int:
    """Insert ``rows`` (column name → value, every column given) in the session's transaction."""
    columns = [c.name for c in table.columns]
    n = 0
    if session.get_bind().dialect.name == "postgresql":
        as_json = {c.name for c in table.columns if isinstance(c.type, JSON)}
        conn = session.connection().connection.driver_connection
        names = ", ".join(f'"{c}"' for c in columns)
        with conn.cursor() as cur, cur.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
            for row in rows:
                copy.write_row([json.dumps(row[c]) if c in as_json and row[c] is not None else row[c]
                                for c in columns])
                n += 1
        return n
    chunk: list[dict] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= CHUNK:
            session.execute(insert(table), chunk)
            n += len(chunk)
            chunk = []
    if chunk:
        session.execute(insert(table), chunk)
        n += len(chunk)
    return n
