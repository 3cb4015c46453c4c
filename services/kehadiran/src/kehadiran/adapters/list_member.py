"""A list of values as one statement parameter (``MEMBER``: ``column`` is one of the list
``name``), as each database does it best, and the JSON-encoded bind type it rests on. Apart from
``day_store`` because the day worker's other stores (``schedule_store``, ``alert_store``) read their
lists the same way."""
from __future__ import annotations

import orjson
from sqlalchemy import Text, bindparam, func, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.types import TypeDecorator


class JsonList(TypeDecorator):
    """A list of strings bound as one JSON text: orjson encodes it in C, where psycopg dumps an
    array parameter element by element in Python (a regex search each: a fifth of a round's CPU)."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return orjson.dumps(list(value)).decode()


def _member_pg(column, name: str):
    # one parameter: the statement's text is the same whatever the count, where an expanding IN
    # is compiled again, and parsed again by the driver, every execution. ARRAY(SELECT ...) is an
    # InitPlan: the server expands the list once per execution, never once per row, and the
    # column's index takes it as it takes an array parameter, under a generic plan too
    # (``test_day_round_plans``; 9ef9b0d's ``string_to_array($n)`` was an expression of its own)
    listed = text(f"(ARRAY(SELECT json_array_elements_text(CAST(:{name} AS json))))").bindparams(
        bindparam(name, type_=JsonList()))
    return column.op("= ANY")(listed)


def _member_sqlite(column, name: str):
    # one JSON parameter, as on PostgreSQL: an expanding IN was rendered again for every execution
    # (a bind name per value, ~15 % of a SQLite round's CPU) and split into chunks of the driver's
    # parameter limit; the index on ``column`` is probed once per element (``LIST SUBQUERY``)
    return column.in_(select(func.json_each(bindparam(name, type_=JsonList())).table_valued("value").c.value))


# ``column`` is one of the list parameter ``name``, as each database does it best
MEMBER = {"postgresql": _member_pg, "sqlite": _member_sqlite}


def lists(conn: Connection, seq: list) -> list[list]:
    """``seq`` in the pieces one statement takes: whole (one JSON parameter on either database)."""
    return [seq] if seq else []
