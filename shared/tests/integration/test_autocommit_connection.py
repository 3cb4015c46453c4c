"""``kinerja.db.autocommit_connection``: a hot path of statements each committed alone keeps its
pooled PostgreSQL connection in autocommit from one use to the next (no toggle a request), while
every other user of the pool still gets the driver's transactions (what it writes rolls back)."""
from __future__ import annotations

import psycopg
import pytest
from sqlalchemy import text

from kinerja.db import autocommit_connection, make_engine

pytestmark = pytest.mark.integration


@pytest.fixture
def engine(postgres_url):
    engine = make_engine(postgres_url, pool_size=1)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE IF NOT EXISTS autocommit_probe (x int)"))
        conn.execute(text("DELETE FROM autocommit_probe"))
    yield engine
    engine.dispose()


@pytest.fixture
def toggles(monkeypatch) -> list[bool]:
    """Every value the driver's autocommit is set to."""
    seen: list[bool] = []
    setter = psycopg.Connection.set_autocommit

    def counted(self, value):
        seen.append(bool(value))
        return setter(self, value)

    monkeypatch.setattr(psycopg.Connection, "set_autocommit", counted)
    return seen


def test_autocommit_stays_between_its_users_and_the_pools_other_users_get_transactions(engine, toggles):
    conn, as_is = autocommit_connection(engine)
    dbapi_conn = conn.connection.dbapi_connection
    assert as_is and dbapi_conn.autocommit and toggles == [True]
    conn.close()
    for _ in range(3):  # the same connection (a pool of one), found in autocommit: no toggle
        conn, _ = autocommit_connection(engine)
        assert conn.connection.dbapi_connection is dbapi_conn and dbapi_conn.autocommit
        conn.exec_driver_sql("INSERT INTO autocommit_probe VALUES (1)")  # committed alone
        conn.close()
    assert toggles == [True]
    # anyone else: out of autocommit at checkout, so a rollback takes its writes back
    with engine.connect() as other:
        assert other.connection.dbapi_connection is dbapi_conn and not dbapi_conn.autocommit
        other.execute(text("INSERT INTO autocommit_probe VALUES (2)"))
        other.rollback()
    assert toggles == [True, False]
    with engine.connect() as other:
        assert other.execute(text("SELECT x FROM autocommit_probe")).scalars().all() == [1, 1, 1]


def test_an_engine_not_made_here_is_given_back_out_of_autocommit_by_the_caller(postgres_url):
    from sqlalchemy import create_engine

    from kinerja.db import normalise_url

    engine = create_engine(normalise_url(postgres_url), pool_size=1)
    try:
        conn, as_is = autocommit_connection(engine)
        assert conn.connection.dbapi_connection.autocommit and not as_is  # no checkout resets it here
        conn.close()
    finally:
        engine.dispose()
