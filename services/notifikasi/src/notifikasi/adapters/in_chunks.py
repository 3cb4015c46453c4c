"""Long ``IN (...)`` lists read a slice at a time: a statement may carry only so many bound
parameters (SQLite's limit, PostgreSQL's 65,535), and a roster or a batch of events can be longer.
``member_of_param`` takes a list as one parameter instead (an array on PostgreSQL, a JSON text on
SQLite), so its statement's text is the same whatever the count (an expanding ``IN`` is a new text
for each count, compiled again by SQLAlchemy and parsed again by the driver and the server), and
the statement can be built once.

``probe_each`` is its shape on PostgreSQL for a look-up of a poll's keys in a table of the whole
roster: ``unnest`` of the list joined to one index probe of the table per key (``LATERAL ...
LIMIT 1``, which the planner cannot turn into a join of the whole table), run planned with its
list each time (``kinerja.db.planned_each_time``, by the caller). As ``nip = ANY(<list>)`` the
audience read of notifikasi's poll (preferences joined to the roster), prepared by psycopg after
five polls and planned while the roster held one row, kept a plan that scanned the roster again
for each preference (20,000 ASN, a poll of 200: 7.7 million rows examined); planned with their
lists, at 200 keys the planner still took a walk of the roster (the roster read: 20,001 rows; the
audience read, a hash join over it: 20,805) as cheaper than 200 probes (``test_poll_plans``)."""
from __future__ import annotations

import json
from typing import Iterator, Sequence, TypeVar

from sqlalchemy import String, any_, bindparam, func, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

T = TypeVar("T")

IN_CHUNK = 500


def chunks(values: Sequence[T], size: int = IN_CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(values), size):
        yield values[start:start + size]


def pairs_where_in(session: Session, first, second, key, values: Sequence) -> set[tuple]:
    """The (``first``, ``second``) column pairs of the rows whose ``key`` is one of ``values``."""
    out: set[tuple] = set()
    for part in chunks(values):
        out.update(tuple(row) for row in session.execute(select(first, second).where(key.in_(part))).all())
    return out


def member_of_param(column, name: str, dialect: str):
    """``member_of`` with a named parameter, for a statement built once: its value ``list_value``."""
    if dialect == "postgresql":
        return column == any_(bindparam(name, type_=ARRAY(column.type)))
    return column.in_(select(func.json_each(bindparam(name, type_=String)).table_valued("value").c.value))


def probe_each(table: str, key: str, columns: str, param: str, where: str = "") -> str:
    """PostgreSQL: ``SELECT <columns> FROM unnest(:<param>) AS k(<key>) CROSS JOIN LATERAL (the
    row of ``table`` whose ``key`` is the list's element, and ``where``) AS <table>``, for a
    statement built once: ``columns`` name the table's by ``<table>.<column>``; its list's value
    ``list_value``. A key with no row gives no row."""
    extra = f" AND {where}" if where else ""
    return (f"SELECT {columns} FROM unnest(CAST(:{param} AS varchar[])) AS k({key}) CROSS JOIN LATERAL "
            f"(SELECT * FROM {table} WHERE {table}.{key} = k.{key}{extra} LIMIT 1) AS {table}")


def list_value(values: Sequence, dialect: str):
    """The value of a ``member_of_param`` parameter."""
    return list(values) if dialect == "postgresql" else json.dumps(list(values))

