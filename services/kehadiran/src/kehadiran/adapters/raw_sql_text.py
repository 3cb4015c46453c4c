"""The texts hand-written SQL (``raw_sql``) hands its driver: statement texts for either dialect
(``?`` placeholders, multi-row VALUES, PostgreSQL's JSON row set), made once a shape and cached, and
a datetime as SQLAlchemy writes it on SQLite, so rows from either path are the same rows."""
from __future__ import annotations

from datetime import datetime
from functools import lru_cache


def sqlite_datetime(value: datetime) -> str:
    """A datetime as SQLAlchemy writes it on SQLite (its wall clock; UTC for an instant)."""
    return (f"{value.year:04d}-{value.month:02d}-{value.day:02d} {value.hour:02d}:{value.minute:02d}:"
            f"{value.second:02d}.{value.microsecond:06d}")


@lru_cache(maxsize=256)
def pg_placeholders(text: str) -> str:
    return text.replace("?", "%s")


@lru_cache(maxsize=1024)
def marks(n: int) -> str:
    return ", ".join("?" * n)


@lru_cache(maxsize=2048)
def insert_text(table: str, columns: tuple[str, ...], n: int, suffix: str) -> str:
    row = f"({marks(len(columns))})"
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES {', '.join([row] * n)}{' ' + suffix if suffix else ''}"


@lru_cache(maxsize=256)
def pg_insert_text(table: str, columns: tuple[str, ...], suffix: str) -> str:
    # ORDER BY the rows' position: serial ids (the outbox's order) follow the order given
    names = ", ".join(columns)
    return (f"INSERT INTO {table} ({names}) SELECT {', '.join('r.' + c for c in columns)} "
            f"FROM json_populate_recordset(NULL::{table}, %s::json) WITH ORDINALITY AS r ORDER BY r.ordinality"
            f"{' ' + suffix if suffix else ''}")
