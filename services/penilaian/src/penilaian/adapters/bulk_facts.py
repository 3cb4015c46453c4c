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
    # SQLite: the driver's executemany with each column's own bind processor (what SQLAlchemy's
    # executemany applies, without its per-row parameter building, most of its cost here)
    dialect = bind.dialect
    procs = [(c.name, c.type.dialect_impl(dialect).bind_processor(dialect)) for c in table.columns]
    sql = str(insert(table).compile(dialect=dialect))
    if dialect.paramstyle != "qmark" or "?" not in sql:
        raise RuntimeError(f"bulk_insert: unexpected SQL for {dialect.name}: {sql}")
    cursor = session.connection().connection.driver_connection.cursor()
    try:
        chunk: list[tuple] = []
        for row in rows:
            chunk.append(tuple(p(row[c]) if p is not None else row[c] for c, p in procs))
            if len(chunk) >= CHUNK:
                cursor.executemany(sql, chunk)
                n += len(chunk)
                chunk = []
        if chunk:
            cursor.executemany(sql, chunk)
            n += len(chunk)
    finally:
        cursor.close()
    return n
