"""``raw_sql.Raw(conn, shared=True)``: the punch path's statements reuse their PostgreSQL
connection's one cursor (not a new one a statement), and a connection the pool replaced never
hands on the dead one's cursor."""
from __future__ import annotations

import pytest

from kehadiran.adapters.raw_sql import Raw
from kinerja.db import make_engine

pytestmark = pytest.mark.integration


def test_the_shared_cursor_is_its_connections_own_and_goes_with_it(postgres_url):
    engine = make_engine(postgres_url, pool_size=1)
    try:
        with engine.connect() as conn:
            first = Raw(conn, shared=True).cursor
            assert Raw(conn, shared=True).cursor is first
            assert Raw(conn).cursor is not first  # a statement whose rows are read late gets its own
        with engine.connect() as conn:  # the next checkout of that connection: the same cursor
            assert Raw(conn, shared=True).cursor is first
            conn.invalidate()  # a dead connection, as a failed statement leaves it
        with engine.connect() as conn:
            raw = Raw(conn, shared=True)
            assert raw.cursor is not first and raw.cursor.connection is conn.connection.dbapi_connection
            assert raw.query("SELECT 1") == [(1,)]
    finally:
        engine.dispose()
