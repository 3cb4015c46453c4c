"""``punch_transaction.commit_with``: a request's last writes and its COMMIT go out together
(PostgreSQL: one round trip), and the transaction stays one: an error in any of them, even one
only the commit brings back, leaves nothing of it stored. On SQLite and PostgreSQL."""
import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from kehadiran.adapters.punch_transaction import commit_with, punch_connection
from kehadiran.adapters.raw_sql import Raw
from kinerja.db import make_engine

pytestmark = pytest.mark.integration


@pytest.fixture
def engine(database_url):
    engine = make_engine(database_url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)"))
    yield engine
    engine.dispose()


def ids(engine) -> list[int]:
    with engine.connect() as conn:
        return list(conn.execute(text("SELECT id FROM t ORDER BY id")).scalars())


def insert(conn, *rows) -> list[tuple]:
    return Raw(conn).insert_rows("t", ("id", "v"), list(rows), suffix="ON CONFLICT (id) DO NOTHING RETURNING id")


def test_the_writes_and_rows_read_inside_are_committed_at_the_end(engine):
    with engine.begin() as conn:
        with commit_with(conn):
            assert [tuple(r) for r in insert(conn, (1, "a"), (2, "b"))] == [(1,), (2,)]  # answered at once
            assert insert(conn, (2, "again")) == []
            Raw(conn).insert_rows("t", ("id", "v"), [(3, "c")])  # answered with the COMMIT
    assert ids(engine) == [1, 2, 3]


def test_an_error_the_commit_brings_back_leaves_nothing_stored(engine):
    # the error is SQLAlchemy's (PostgreSQL: the pipeline's end brings it back) or the driver's (SQLite)
    with pytest.raises((IntegrityError, engine.dialect.loaded_dbapi.IntegrityError)):
        with engine.begin() as conn:
            with commit_with(conn):
                insert(conn, (1, "a"))
                Raw(conn).insert_rows("t", ("id", "v"), [(2, "b")])
                Raw(conn).insert_rows("t", ("id", "v"), [(3, None)])  # NOT NULL: fails
    assert ids(engine) == []
    with engine.begin() as conn:  # the connection went back to the pool usable
        insert(conn, (4, "d"))
    assert ids(engine) == [4]


def test_a_punch_connection_commits_its_one_statement_alone_and_refuses_it_whole(engine):
    """``punch_connection``: without ``transaction()`` each statement commits alone (PostgreSQL:
    the driver's autocommit), so a request's one-statement write is atomic by itself; the pool
    gets the connection back running transactions for its other users."""
    with engine.connect() as conn:
        pooled = conn.connection.dbapi_connection
    with punch_connection(engine) as (conn, _transaction):
        insert(conn, (1, "a"), (2, "b"))
    assert ids(engine) == [1, 2]
    with pytest.raises((IntegrityError, engine.dialect.loaded_dbapi.IntegrityError)):
        with punch_connection(engine) as (conn, _transaction):
            Raw(conn).insert_rows("t", ("id", "v"), [(3, "c"), (4, None)])  # NOT NULL: the whole statement fails
    assert ids(engine) == [1, 2]
    with engine.connect() as conn:
        assert conn.connection.dbapi_connection is pooled  # the same connection (the pool keeps one idle)
        if engine.dialect.name == "postgresql":
            assert not pooled.autocommit
        conn.execute(text("INSERT INTO t (id, v) VALUES (9, 'z')"))
        conn.rollback()  # a transaction: nothing of it kept
    assert ids(engine) == [1, 2]


def test_after_transaction_the_writes_of_a_punch_connection_are_one_transaction(engine):
    with pytest.raises((IntegrityError, engine.dialect.loaded_dbapi.IntegrityError)):
        with punch_connection(engine) as (conn, transaction):
            transaction()
            with commit_with(conn):
                insert(conn, (1, "a"))
                Raw(conn).insert_rows("t", ("id", "v"), [(2, None)])  # fails: the first is not kept either
    assert ids(engine) == []
    with punch_connection(engine) as (conn, transaction):
        transaction()
        with commit_with(conn):
            insert(conn, (1, "a"))
            Raw(conn).insert_rows("t", ("id", "v"), [(2, "b")])
    assert ids(engine) == [1, 2]
