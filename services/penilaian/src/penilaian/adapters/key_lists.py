"""A list of keys bound to a statement built once (``both``): on PostgreSQL as ONE array parameter,
``column = ANY(:keys)``; elsewhere as SQLAlchemy's expanding ``IN``.

Why: an expanding ``IN`` is re-rendered at every execution with a placeholder a key (a poll's
hundreds of NIPs, in each branch of a union), so the statement's text differs at every size:
SQLAlchemy renders it and psycopg converts it in Python each time, and the server parses and plans
it anew. One array parameter keeps the text the same for any number of keys: rendered and
converted once. Still planned at each run (``kinerja.db.planned_each_time``, by the callers), as
the lists were: a generic plan sees a parameter, not the keys, and an array parameter in a
sequential scan (a table analysed while empty) is searched row by row, keys × rows, where the
custom plan's constant array is hashed."""
from __future__ import annotations

from typing import Any, Callable

from sqlalchemy import any_, bindparam
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.sql import ColumnElement

Match = Callable[[Any, str], ColumnElement[bool]]


def _in(column, name: str) -> ColumnElement[bool]:
    return column.in_(bindparam(name, expanding=True))


def _any(column, name: str) -> ColumnElement[bool]:
    return column == any_(bindparam(name, type_=ARRAY(column.type)))


def both(build: Callable[[Match], Any]) -> dict[bool, Any]:
    """``build(match)`` twice, ``match(column, name)`` giving the clause "column is one of the
    keys bound as ``name``": {True: the PostgreSQL statement, False: the others'}."""
    return {True: build(_any), False: build(_in)}


def on_postgres(connection) -> bool:
    return connection.dialect.name == "postgresql"


def one_of(column, keys: list, postgres: bool) -> ColumnElement[bool]:
    """``column`` is one of ``keys`` (bound now), for a statement built at each use: an array on
    PostgreSQL (``postgres``), an expanding ``IN`` elsewhere."""
    if postgres:
        return column == any_(bindparam(None, keys, type_=ARRAY(column.type)))
    return column.in_(keys)
