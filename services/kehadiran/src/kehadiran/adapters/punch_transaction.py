"""A punch request's connection and transaction on hand-written SQL (``raw_sql``): its reads
outside any transaction, its write committed alone where it is one statement, and otherwise its
last writes sent with the COMMIT (PostgreSQL: one round trip), the driver's errors raised as
SQLAlchemy's so that the web layer answers a lost database 503."""
from __future__ import annotations

from contextlib import ExitStack, contextmanager
from typing import Callable, Iterator

from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from kehadiran.adapters.raw_sql import IDLE
from kinerja.db import autocommit_connection


@contextmanager
def commit_with(conn: Connection) -> Iterator[None]:
    """The block's writes and the transaction's COMMIT sent together at its end: on PostgreSQL one
    round trip for all of them (psycopg's pipeline mode, its one Sync at the end; a statement whose
    rows the block reads inside is still answered at once, a round trip of its own, while rows read
    after the block cost nothing more). The block ends the transaction: it commits when the block
    completes, and an error in any statement (raised at the latest at the block's end) leaves
    nothing of it stored and the connection out of its transaction. Nothing may run in the
    transaction after the block; keep ORM flushes out of it (their row counts come late)."""
    if conn.dialect.name != "postgresql":
        yield
        conn.commit()
        return
    dbapi_conn = conn.connection.dbapi_connection
    # nothing sent in the transaction yet (its reads went first, ``query_first``): its BEGIN goes
    # in the pipeline too. psycopg's own BEGIN would be answered first, a round trip of its own
    # (it syncs behind it), so the driver is told it runs none (autocommit) and BEGIN is ours
    begin = not dbapi_conn.autocommit and dbapi_conn.info.transaction_status == IDLE
    try:
        if begin:  # outside the pipeline: inside, psycopg syncs to check there is no transaction
            dbapi_conn.autocommit = True
        with dbapi_conn.pipeline():
            if begin:
                dbapi_conn.execute("BEGIN", prepare=False)
            yield
            # queued behind the block's statements, answered with them at the pipeline's end: one
            # Sync, one round trip (the driver's commit() syncs, and the pipeline's end syncs once
            # more: a second round trip). Never prepared: it is no plannable statement
            dbapi_conn.execute("COMMIT", prepare=False)
        # SQLAlchemy's end of the transaction; the driver finds it ended and sends nothing
        conn.commit()
    except BaseException as exc:
        # a failed statement makes the server skip the rest of the pipeline, COMMIT included, and
        # leaves its transaction aborted: end it here, so the connection goes back to the pool clean
        if not dbapi_conn.closed and dbapi_conn.info.transaction_status != IDLE:
            try:
                dbapi_conn.rollback()
            except conn.dialect.loaded_dbapi.Error:
                pass  # the connection is lost: the pool's reset on its return fails and drops it
        if not isinstance(exc, conn.dialect.loaded_dbapi.Error):
            raise
        # the driver's error as SQLAlchemy raises it from a statement of its own: the web layer
        # answers a lost database 503 (retry), as it did when SQLAlchemy sent the COMMIT
        raise DBAPIError.instance("COMMIT", None, exc, conn.dialect.loaded_dbapi.Error,
                                  dialect=conn.dialect) from exc
    finally:
        if begin and not dbapi_conn.closed and dbapi_conn.info.transaction_status == IDLE:
            dbapi_conn.autocommit = False


@contextmanager
def punch_connection(engine) -> Iterator[tuple[Connection, Callable[[], None]]]:
    """A punch request's connection, and ``transaction()`` to call before its first write unless
    that write is ONE statement (``punch_write``: the punches, their outbox rows and markers
    chained in it), which on PostgreSQL then commits alone: the driver's autocommit, no BEGIN, no
    COMMIT, no pipeline. Its reads go out the same way (under READ COMMITTED a statement sees
    the same rows in a transaction or outside it, and a plain SELECT keeps no lock).

    SQLite: the reads outside any transaction, each its own WAL snapshot (no BEGIN and COMMIT of
    their own: 9 statements a one-punch request, now 6; ``Raw.query`` waits out a recovery's BUSY);
    ``transaction()`` (before the first write; again does nothing) takes the write lock (BEGIN
    IMMEDIATE) as late as the request can. What was read may have changed meanwhile, as on
    PostgreSQL: the INSERT's ``ON CONFLICT DO NOTHING`` decides what is new, not the read.

    After ``transaction()``, the block's end commits (``commit_with`` earlier)."""
    if engine.dialect.name != "postgresql":
        with engine.connect() as conn:
            # the reads each a statement of their own (pysqlite's autocommit); SQLAlchemy's
            # transaction (a tenth of a one-punch request's Python calls) is the write's alone
            writing = False

            def write_lock() -> None:
                nonlocal writing
                if not writing:
                    writing = True
                    conn.begin()  # BEGIN IMMEDIATE (``kinerja.sqlite_locking``)

            yield conn, write_lock
            if writing and conn.in_transaction():
                conn.commit()
        return
    # in autocommit from one punch request to the next (``kinerja.db.autocommit_connection``)
    conn, pooled_as_is = autocommit_connection(engine)
    dbapi_conn = conn.connection.dbapi_connection
    with conn, ExitStack() as stack:

        def transaction() -> None:
            if dbapi_conn.autocommit:
                dbapi_conn.autocommit = False  # nothing sent since: no transaction is open
            stack.enter_context(conn.begin())

        try:
            with _DriverErrors(conn):
                yield conn, transaction
        finally:
            if (not pooled_as_is and not dbapi_conn.closed and dbapi_conn.autocommit
                    and dbapi_conn.info.transaction_status == IDLE):
                dbapi_conn.autocommit = False  # the pool's other users run transactions


def pg(conn: Connection) -> bool:
    return conn.dialect.name == "postgresql"


class _DriverErrors:
    """The driver's errors (statements on its cursor) raised as SQLAlchemy raises them from its
    own: the web layer answers a lost database 503 (retry)."""

    __slots__ = ("conn",)

    def __init__(self, conn: Connection):
        self.conn = conn

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind, exc, _tb) -> bool:
        dialect = self.conn.dialect
        if exc is not None and isinstance(exc, dialect.loaded_dbapi.Error):
            raise DBAPIError.instance(None, None, exc, dialect.loaded_dbapi.Error, dialect=dialect) from exc
        return False
