"""Multi-row inserts whose SQL text is the same for any number of rows: ``INSERT ... SELECT`` from
the rows sent as ONE parameter, a JSON array of rows (PostgreSQL: ``json_array_elements``, each
value cast to its column's type; SQLite: ``json_each``), ``ON CONFLICT (...) DO NOTHING RETURNING``.

SQLAlchemy's multi-row VALUES ("insertmanyvalues") writes a new text for each row count, which
the driver and the server parse again (psycopg prepares a text only after it has seen it five
times, and a consumer's polls come in every size); a fixed text is parsed once and then runs as a
prepared statement. One text parameter (orjson-encoded) also costs the driver one dump, where an
array a column cost psycopg a few hundred Python calls a poll. The rows take their ids in the
order given (the JSON array's index, ``ORDER BY`` it, as SQLAlchemy itself relies on for "sort by
parameter order"). The array is expanded once in ``FROM``, never per row (under a generic plan
too: tried at 20,000 rows with ``plan_cache_mode = force_generic_plan``).
RETURNING gives back the rows inserted, in no particular order: match them by key.

Column defaults given in Python (``default=`` a value or a function of no arguments) are filled
in here, as a Core insert does.
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

import orjson
from sqlalchemy import JSON, Dialect, Table, TypeDecorator, text
from sqlalchemy.orm import Session

_STATEMENTS: dict[tuple, Any] = {}
_CONVERTERS: dict[tuple, Any] = {}


def insert_new(session: Session, table: Table, rows: list[dict[str, Any]], *, unique: Sequence[str] = (),
               returning: Sequence[str] = ("id",)) -> list[tuple]:
    """Insert ``rows`` (the same keys in each) in order, skipping any whose ``unique`` columns
    match a row there (or an earlier one of ``rows``; none skipped when ``unique`` is empty);
    returns the ``returning`` columns of the rows inserted."""
    if not rows:
        return []
    dialect = session.get_bind().dialect
    given = tuple(rows[0])
    defaults = _defaults(table, given)
    columns = given + tuple(defaults)
    if defaults:
        filled = {name: (d() if callable(d) else d) for name, d in defaults.items()}
        rows = [{**r, **filled} for r in rows]
    converters = _converters(table, columns, dialect)
    packed = orjson.dumps([[v if c is None else c(v) for c, v in zip(converters, (r[n] for n in columns))]
                           for r in rows]).decode()
    # through the session, so its hooks see it (``execution_options(inserts_into=table)``)
    result = session.execute(_statement(table, dialect, columns, tuple(unique), tuple(returning)), {"rows": packed})
    return [tuple(r) for r in result]


def _defaults(table: Table, given: tuple[str, ...]) -> dict[str, Any]:
    """The Python-side defaults of the columns not given: a value, or a function of no arguments."""
    key = ("defaults", table, given)
    found = _CONVERTERS.get(key)
    if found is None:
        found = _CONVERTERS[key] = _find_defaults(table, given)
    return found


def _find_defaults(table: Table, given: tuple[str, ...]) -> dict[str, Any]:
    out = {}
    for column in table.columns:
        if column.key in given or column.default is None:
            continue
        default = column.default
        if default.is_scalar:
            out[column.key] = default.arg
        elif default.is_callable:
            out[column.key] = lambda fn=default.arg: fn(None)  # SQLAlchemy wraps fn() as fn(context)
        else:
            raise ValueError(f"{table.name}.{column.key}: a default this insert cannot fill in")
    return out


def _converters(table: Table, columns: tuple[str, ...], dialect: Dialect) -> list[Callable[[Any], Any] | None]:
    """Each column's value as the row's JSON carries it: on SQLite what SQLAlchemy would bind
    (JSON as its text, a datetime in SQLite's text form); on PostgreSQL a type's own conversion
    only (``TypeDecorator``), JSON staying a JSON value and datetimes ISO text, which the statement
    casts."""
    key = (dialect.name, table, columns)
    made = _CONVERTERS.get(key)
    if made is None:
        made = []
        for name in columns:
            kind = table.c[name].type
            if dialect.name != "postgresql":
                made.append(kind._cached_bind_processor(dialect))
            elif isinstance(kind, TypeDecorator):
                made.append(lambda v, kind=kind: kind.process_bind_param(v, dialect))
            else:
                made.append(None)
        _CONVERTERS[key] = made
    return made


def _sql_type(column, dialect: Dialect) -> str:
    kind = column.type.impl if isinstance(column.type, TypeDecorator) else column.type
    return kind.compile(dialect=dialect)


def _tail(table: Table, dialect: Dialect, unique: tuple[str, ...], returning: tuple[str, ...]) -> str:
    quote = dialect.identifier_preparer.quote
    sql = ""
    if unique:
        sql += f" ON CONFLICT ({', '.join(quote(table.c[c].name) for c in unique)}) DO NOTHING"
    if returning:
        sql += f" RETURNING {', '.join(quote(table.c[c].name) for c in returning)}"
    return sql


def _statement(table: Table, dialect: Dialect, columns: tuple[str, ...], unique: tuple[str, ...],
               returning: tuple[str, ...]):
    key = (dialect.name, table, columns, unique, returning)
    stmt = _STATEMENTS.get(key)
    if stmt is None:
        quote = dialect.identifier_preparer.quote
        if dialect.name == "postgresql":
            # one JSON text, expanded once in FROM (never per row, under a generic plan too)
            values = ", ".join(f"r -> {i}" if isinstance(_impl(table.c[c]), JSON)
                               else f"CAST(r ->> {i} AS {_sql_type(table.c[c], dialect)})"
                               for i, c in enumerate(columns))
            source = "json_array_elements(CAST(:rows AS json)) WITH ORDINALITY AS u(r, n) ORDER BY n"
        else:
            values = ", ".join(f"json_extract(value, '$[{i}]')" for i in range(len(columns)))
            # WHERE true: without it SQLite reads ON CONFLICT as a join's ON (its documented advice)
            source = "json_each(:rows) WHERE true ORDER BY key"
        sql = (f"INSERT INTO {dialect.identifier_preparer.format_table(table)} "
               f"({', '.join(quote(table.c[c].name) for c in columns)}) SELECT {values} FROM {source}"
               + _tail(table, dialect, unique, returning))
        stmt = _STATEMENTS[key] = text(sql).execution_options(inserts_into=table)
    return stmt


def _impl(column):
    return column.type.impl if isinstance(column.type, TypeDecorator) else column.type
