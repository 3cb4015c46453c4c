"""Writing many rows at once into a fresh table: ``COPY ... FROM STDIN`` on PostgreSQL (psycopg's
copy; JSON columns serialised, a column type of our own, such as ``orm.Cents``, turned into what it
stores), one ``executemany`` of an INSERT on SQLite (SQLAlchemy's types turn the dates, JSON and
our own types into what the ORM would store)."""
from __future__ import annotations

import json
from typing import Any, Iterable

from sqlalchemy import JSON, Table, insert
from sqlalchemy.orm import Session
from sqlalchemy.types import TypeDecorator

CHUNK = 20_000


def bulk_insert(session: Session, table: Table, rows: Iterable[dict[str, Any]]) -> int:
    """Insert ``rows`` (column name → value, every column given) in the session's transaction."""
    columns = [c.name for c in table.columns]
    n = 0
    bind = session.get_bind()
    if bind.dialect.name == "postgresql":
        convert = {}
        for c in table.columns:
            if isinstance(c.type, JSON):
                convert[c.name] = lambda v: None if v is None else json.dumps(v)
            elif isinstance(c.type, TypeDecorator):
                convert[c.name] = lambda v, t=c.type, d=bind.dialect: t.process_bind_param(v, d)
        conn = session.connection().connection.driver_connection
        names = ", ".join(f'"{c}"' for c in columns)
        plain = [c for c in columns if c not in convert]
        with conn.cursor() as cur, cur.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
            for row in rows:
                copy.write_row([convert[c](row[c]) if c in convert else row[c] for c in columns]
                               if convert else [row[c] for c in plain])
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
