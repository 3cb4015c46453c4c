"""Rows written a batch at a time: one statement per table per batch, whatever the number of rows.

``upsert`` writes full rows by primary key, the last stated winning (``INSERT ... ON CONFLICT DO
UPDATE``): the caller has already decided which rows changed, under the locks that make its
reading stable (``service_layer.locks``), so the statement only stores them. ``insert`` adds rows.

On PostgreSQL the rows go as ONE JSON text a write, ``INSERT ... SELECT ... FROM
json_populate_recordset(NULL::table, ...)``: the text is made in C (``orjson``, one call for all
the rows) and parsed by the server into the table's own column types, and the statement's text is
the same for any number of rows, so psycopg parses it once. (Before, the rows went as one array a
column, ``unnest(...)``: psycopg dumps an array element by element in Python, and that was a sixth
of a live batch's CPU; before that SQLAlchemy's multi-row VALUES, "insertmanyvalues": psycopg
re-parsed a statement of thousands of placeholders on every call.) A JSON column's value goes in
as JSON, not as a string of it; a decimal as its exact text; an instant with its offset, as
psycopg would send it. On SQLite the rows go as multi-row VALUES (SQLite parses in C); without
RETURNING support (SQLite < 3.35) as one executemany.
"""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from operator import itemgetter
from typing import Any, Callable, Iterable

import orjson
from sqlalchemy import Dialect, Engine, Table, TypeDecorator
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import Session

from kinerja.db import UtcDateTime
from penilaian.adapters.orm import Cents

_STATEMENTS: dict[tuple, Any] = {}


def multirow_inserts(engine: Engine) -> Engine:
    """On SQLite, every plain INSERT executemany of the engine (``processed_events``, outbox and
    ORM inserts) as multi-row VALUES: one statement a thousand rows. Not on PostgreSQL (see the
    module's doc)."""
    if engine.dialect.name == "sqlite" and engine.dialect.use_insertmanyvalues:
        engine.dialect.use_insertmanyvalues_wo_returning = True  # this engine's own dialect instance
    return engine


_CENTS, _INSTANT, _OTHER = 1, 2, 3


def _converter(column, dialect: Dialect) -> tuple[int, Callable[[Any], Any]] | None:
    """How a column's value is made ready for the JSON: None (as it is), else (kind, the type's
    own conversion). The two kinds a batch writes by the hundred are done inline by
    ``_postgres_part`` (no call a value): ``Cents`` of a Decimal (its hundredths, exact) and a
    ``UtcDateTime`` that has its zone (orjson writes the instant with its offset, which the
    server reads as the same instant); anything else by the type's ``process_bind_param``."""
    kind = column.type
    if not isinstance(kind, TypeDecorator):
        return None
    convert = lambda v, kind=kind: kind.process_bind_param(v, dialect)  # noqa: E731
    tag = _CENTS if isinstance(kind, Cents) else _INSTANT if isinstance(kind, UtcDateTime) else _OTHER
    return tag, convert


def _postgres(table: Table, dialect: Dialect, columns: tuple[str, ...], on_conflict: bool, param: str) -> str:
    key = ("pg", table.name, columns, on_conflict, param)
    made = _STATEMENTS.get(key)
    if made is None:
        quote = dialect.identifier_preparer.quote
        name = dialect.identifier_preparer.format_table(table)
        cols = ", ".join(quote(c) for c in columns)
        sql = (f"INSERT INTO {name} ({cols}) SELECT {cols} FROM "
               f"json_populate_recordset(CAST(NULL AS {name}), CAST(%({param})s AS json))")
        if on_conflict:
            keys = [c.name for c in table.primary_key.columns]
            sql += (f" ON CONFLICT ({', '.join(quote(k) for k in keys)}) DO UPDATE SET "
                    + ", ".join(f"{quote(c)} = EXCLUDED.{quote(c)}" for c in columns if c not in keys))
        made = _STATEMENTS[key] = sql
    return made


def _exact(value: Any) -> str:
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not written as JSON")


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
    """The statement writing ``rows`` and its one parameter (named ``<prefix>rows``)."""
    columns = tuple(rows[0])
    converters = [(name, *c) for name in columns if (c := _converter(table.c[name], dialect)) is not None]
    if converters:
        rows = [dict(r) for r in rows]
        for r in rows:
            for name, tag, convert in converters:
                v = r[name]
                if v is None:
                    continue
                if tag == _CENTS and type(v) is Decimal:
                    r[name] = int((v * 100).to_integral_value())
                elif tag == _INSTANT and type(v) is datetime and v.tzinfo is not None:
                    pass
                else:
                    r[name] = convert(v)
    param = f"{prefix}rows"
    return _postgres(table, dialect, columns, on_conflict, param), {param: orjson.dumps(rows, default=_exact).decode()}


def postgres_insert(table: Table, dialect: Dialect, rows: list[dict[str, Any]], prefix: str) -> tuple[str, dict[str, Any]]:
    """The plain ``INSERT ... SELECT ... FROM json_populate_recordset(...)`` of ``rows`` and its
    parameter (named ``<prefix>rows``), for a statement that adds to it (``claims``)."""
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
    # itemgetter: the sort key made in C (a lambda and a generator were two calls a row)
    return sorted(rows, key=itemgetter(*(c.key for c in table.primary_key.columns)))


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
                sql, bound = _postgres_part(table, dialect, rows, on_conflict, prefix=f"w{j}")
                sqls.append(sql)
                params.update(bound)
            sql = sqls[-1] if len(sqls) == 1 else (
                "WITH " + ", ".join(f"w{j} AS ({s})" for j, s in enumerate(sqls[:-1])) + " " + sqls[-1])
            session.connection().exec_driver_sql(sql, params)
