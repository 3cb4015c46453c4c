"""JSON columns read by orjson on PostgreSQL. psycopg loads a ``json`` value itself, with
``json.loads`` by default: the deducted days' deductions and punch ids of every month a batch
recomputes, the score rows' detail and the ratings' levels, ~10,000 values a 1,000-event poll.
``kinerja.events.trusted.loads`` gives what ``json.loads`` gives for any text (orjson, and
``json.loads`` for what orjson refuses or would read otherwise: a run of 19 digits, NaN), a few times
faster. SQLite's JSON columns are read by SQLAlchemy's deserializer, left as it is."""
from __future__ import annotations

from sqlalchemy import Engine, event

from kinerja.events.trusted import loads


def read_json_fast(engine: Engine) -> Engine:
    """``engine`` whose PostgreSQL connections load ``json``/``jsonb`` values with ``trusted.loads``."""
    if engine.dialect.name == "postgresql":
        from psycopg.types.json import set_json_loads

        @event.listens_for(engine, "connect")
        def _orjson_loads(dbapi_connection, _record) -> None:
            set_json_loads(loads, dbapi_connection)
    return engine
