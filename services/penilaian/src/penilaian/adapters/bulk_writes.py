"""Rows written a batch at a time: one statement per table per batch, whatever the number of rows.

``upsert`` writes full rows by primary key, the last stated winning (``INSERT ... ON CONFLICT DO
UPDATE``): the caller has already decided which rows changed, under the locks that make its
reading stable (``service_layer.locks``), so the statement only stores them. ``insert`` adds rows.

On PostgreSQL the rows go as one array a column, ``INSERT ... SELECT * FROM unnest(...)``: the
statement's text is the same for any number of rows, so psycopg parses it once; the arrays go in
binary (``%b``: the text format escapes every element with a regular expression, and a JSON
string has many quotes), a column of nothing but NULLs as text (a binary array must name its
element type). (SQLAlchemy's multi-row VALUES, "insertmanyvalues", was tried: psycopg re-parses a
statement of thousands of placeholders on every call, in Python, and that cost more than the one
statement a row it saved.) On SQLite the rows go as multi-row VALUES (SQLite parses in C); without
RETURNING support (SQLite < 3.35) as one executemany.
"""
from __future__ import annotations

import json
from typing import Any, Callable, Iterable

from sqlalchemy import JSON, Dialect, Engine, Table, TypeDecorator
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import Session

_STATEMENTS: dict[tuple, Any] = {}


def multirow_inserts(engine: Engine) -> Engine:
    """On SQLite, every plain INSERT executemany of the engine (``processed_events``, outbox and
    ORM inserts) as multi-row VALUES: one statement a thousand rows. Not on PostgreSQL (see the
    module's doc)."""
    if engine.dialect.name == "sqlite" and engine.dialect.use_insertmanyvalues:
        engine.dialect.use_insertmanyvalues_wo_returning = True  # this engine's own dialect instance
    return engine


def _converter(column, dialect: Dialect) -> Callable[[Any], Any] | None:
    kind = column.type
    if isinstance(kind, TypeDecorator):
        return lambda v, kind=kind: kind.process_bind_param(v, dialect)
    if isinstance(kind, JSON):
        return lambda v: None if v is None else json.dumps(v)
    return None


def _postgres(table: Table, dialect: Dialect, columns: tuple[str, ...], on_conflict: bool, as_text: tuple[bool, ...],
              prefix: str = "c"):
    key = ("pg", table.name, columns, on_conflict, as_text, prefix)
    made = _STATEMENTS.get(key)
    if made is None:
        quote = dialect.identifier_preparer.quote
        cols = [table.c[c] for c in columns]
        arrays = ", ".join(f"CAST(%({prefix}{i}){'s' if t else 'b'} AS {_sql_type(c, dialect)}[])"
                           for i, (c, t) in enumerate(zip(cols, as_text)))
        sql = (f"INSERT INTO {dialect.identifier_preparer.format_table(table)} "
               f"({', '.join(quote(c.name) for c in cols)}) SELECT * FROM unnest({arrays})")
        if on_conflict:
            keys = [c.name for c in table.primary_key.columns]
            sql += (f" ON CONFLICT ({', '.join(quote(k) for k in keys)}) DO UPDATE SET "
                    + ", ".join(f"{quote(c.name)} = EXCLUDED.{quote(c.name)}" for c in cols if c.name not in keys))
        made = _STATEMENTS[key] = sql
    return made


def _sql_type(column, dialect: Dialect) -> str:
    kind = column.type.impl if isinstance(column.type, TypeDecorator) else column.type
    return kind.compile(dialect=dialect)


def _sqlite(table: Table, dialect: Dialect, on_conflict: bool):
    key = ("sqlite", table.name, on_conflict, dialect.insert_returning)
    stmt = _STATEMENTS.get(key)
    if stmt is None:
        ins = sqlite.insert(table)
        stmt = ins
        if on_conflict:
            keys = list(table.primary_key.columns)
            stmt = ins.on_conflict_do_update(
                index_elements=keys, set_={c.name: ins.excluded[c.name] for c in table.columns if not c.primary_key})
            if dialect.insert_returning:  # what lets SQLAlchemy send an ON CONFLICT insert multi-row
                stmt = stmt.returning(keys[0])
        stmt = _STATEMENTS[key] = stmt
    return stmt


def _postgres_part(table: Table, dialect: Dialect, rows: list[dict[str, Any]], on_conflict: bool,
                   prefix: str = "c") -> tuple[str, dict[str, Any]]:
    """The statement writing ``rows`` and its parameters (named ``<prefix><column number>``)."""
    columns = tuple(rows[0])
    params = {}
    for i, name in enumerate(columns):
        values = [r[name] for r in rows]
        convert = _converter(table.c[name], dialect)
        params[f"{prefix}{i}"] = values if convert is None else [convert(v) for v in values]
    as_text = tuple(all(v is None for v in values) for values in params.values())
    return _postgres(table, dialect, columns, on_conflict, as_text, prefix), params


def postgres_insert(table: Table, dialect: Dialect, rows: list[dict[str, Any]], prefix: str) -> tuple[str, dict[str, Any]]:
    """The plain ``INSERT ... SELECT * FROM unnest(...)`` of ``rows`` and its parameters (named
    ``<prefix><column number>``), for a statement that adds to it (``claims``)."""
    return _postgres_part(table, dialect, rows, False, prefix)


def _write(session: Session, table: Table, rows: list[dict[str, Any]], on_conflict: bool) -> int:
    if not rows:
        return 0
    dialect = session.get_bind().dialect
    if dialect.name == "postgresql":
        session.connection().exec_driver_sql(*_postgres_part(table, dialect, rows, on_conflict))
    else:
        session.execute(_sqlite(table, dialect, on_conflict), rows)
    return len(rows)


def _by_key(table: Table, rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    keys = [c.key for c in table.primary_key.columns]
    return sorted(rows, key=lambda r: tuple(r[k] for k in keys))


def upsert(session: Session, table: Table, rows: Iterable[dict[str, Any]]) -> int:
    """Store ``rows`` (each a full row by column key, the same keys in each, primary keys
    distinct), in primary-key order (two writers of the same rows take their row locks in one
    order). Returns how many."""
    return _write(session, table, _by_key(table, rows), True)


def insert(session: Session, table: Table, rows: list[dict[str, Any]]) -> int:
    """Add ``rows`` (the same keys in each) in the order given."""
    return _write(session, table, rows, False)


class Writes:
    """The last writes of a transaction, gathered (``upsert``, ``insert``) and sent together by
    ``run``: on PostgreSQL as ONE statement, each write but the last a data-modifying ``WITH`` of
    it (a transaction's month totals, score rows, outbox events and processed ids: one round trip
    instead of four); elsewhere one statement a write, in the order given.

    Only writes nothing later in the transaction reads may be gathered: the sub-statements of a
    ``WITH`` see the snapshot the statement started with, not each other's rows, and run in no
    set order. So each table is written at most once a statement (a second write to one goes in a
    statement of its own, after), and the rows a statement locks are guarded already: score rows
    and month totals by their ASN's lock, taken first (``service_layer.locks``), outbox rows are
    new, and the processed ids go in id order as before (two transactions handed the same events
    wait on each other's in one order)."""

    def __init__(self) -> None:
        self.parts: list[tuple[Table, list[dict[str, Any]], bool]] = []

    def upsert(self, table: Table, rows: Iterable[dict[str, Any]]) -> None:
        rows = _by_key(table, rows)
        if rows:
            self.parts.append((table, rows, True))

    def insert(self, table: Table, rows: Iterable[dict[str, Any]]) -> None:
        rows = list(rows)
        if rows:
            self.parts.append((table, rows, False))

    def run(self, session: Session) -> None:
        parts, self.parts = self.parts, []
        if not parts:
            return
        dialect = session.get_bind().dialect
        if dialect.name != "postgresql":
            for table, rows, on_conflict in parts:
                _write(session, table, rows, on_conflict)
            return
        while parts:
            group, seen = [], set()
            while parts and parts[0][0].name not in seen:
                seen.add(parts[0][0].name)
                group.append(parts.pop(0))
            sqls, params = [], {}
            for j, (table, rows, on_conflict) in enumerate(group):
                sql, bound = _postgres_part(table, dialect, rows, on_conflict, prefix=f"w{j}c")
                sqls.append(sql)
                params.update(bound)
            sql = sqls[-1] if len(sqls) == 1 else (
                "WITH " + ", ".join(f"w{j} AS ({s})" for j, s in enumerate(sqls[:-1])) + " " + sqls[-1])
            session.connection().exec_driver_sql(sql, params)
