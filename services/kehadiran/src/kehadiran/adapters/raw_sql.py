"""Hand-written SQL on the DBAPI cursor of a SQLAlchemy connection, for the few statements every
punch request runs. The transaction stays SQLAlchemy's (begun and committed by the caller); these
statements skip what costs most per execution (compiling or looking up a compiled statement,
parameter and result processing: about 200,000 instructions a statement on SQLite, more than
the statement itself).

Values are written the way SQLAlchemy's column types write them, so rows from either path are the
same rows (the punch identity's uniqueness included): on SQLite an instant is UTC text
``YYYY-MM-DD HH:MM:SS.ffffff``, a date ``YYYY-MM-DD``, a boolean 0/1; psycopg adapts Python
values itself.
"""
from __future__ import annotations

from contextlib import ExitStack, contextmanager
from datetime import date, datetime, timezone
from functools import lru_cache
from typing import Any, Callable, Iterator, Sequence

import orjson
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from kinerja import sqlite_wal
from kinerja.db import autocommit_connection
from kinerja.wakeup import note_insert


class Raw:
    __slots__ = ("pg", "cursor", "conn")

    def __init__(self, conn: Session | Connection, *, shared: bool = False):
        """``shared`` (PostgreSQL): the connection's one reused cursor (a new one is ~14 Python
        calls), for a statement whose rows are read before the next one runs on it."""
        if isinstance(conn, Session):
            conn = conn.connection()
        self.pg = conn.dialect.name == "postgresql"
        self.cursor = _shared_cursor(conn) if shared and self.pg else conn.connection.dbapi_connection.cursor()
        self.conn = conn

    def sql(self, text: str) -> str:
        """``?`` placeholders as the driver wants them."""
        return _pg(text) if self.pg else text

    def instant(self, value: datetime | None):
        if value is None or self.pg:
            return value
        return sqlite_datetime(value.astimezone(timezone.utc))

    def wall(self, value: datetime | None):
        """A naive wall-clock time (a device's clock)."""
        return value if value is None or self.pg else sqlite_datetime(value)

    def day(self, value: date):
        return value if self.pg else value.isoformat()

    def in_list(self, column: str, values: Sequence) -> tuple[str, list]:
        """``column IN (...)`` and its parameters: one array parameter on PostgreSQL (one
        statement text whatever the count), a placeholder each on SQLite."""
        if self.pg:
            return f"{column} = ANY(?)", [list(values)]
        return f"{column} IN ({_marks(len(values))})", list(values)

    def query(self, text: str, params: Sequence[Any] = ()) -> list[tuple]:
        try:
            self.cursor.execute(self.sql(text), params)
            return self.cursor.fetchall()
        except Exception as exc:
            if self.pg:
                raise
            # SQLite, a read outside a transaction (``punch_connection``): BUSY while the WAL is recovered
            return sqlite_wal.read_outside(self.conn.connection.dbapi_connection,
                                               lambda: self._run(text, params), exc)

    def _run(self, text: str, params: Sequence[Any]) -> list[tuple]:
        self.cursor.execute(self.sql(text), params)
        return self.cursor.fetchall()

    def query_first(self, text: str, params: Sequence[Any] = ()) -> list[tuple]:
        """``query``, for a read that comes before the transaction's first write. On PostgreSQL,
        with no transaction open yet, it runs as a statement of its own (autocommit): psycopg
        sends no BEGIN ahead of it, a round trip of its own; the transaction's BEGIN goes out
        with its first writes instead (``commit_with``: in their pipeline). Under READ COMMITTED
        a statement sees the same rows in a transaction or outside it, and a plain SELECT keeps
        no lock, so nothing the request relies on changes."""
        dbapi_conn = self.conn.connection.dbapi_connection if self.pg else None
        if dbapi_conn is None or dbapi_conn.autocommit or dbapi_conn.info.transaction_status != _IDLE:
            return self.query(text, params)
        dbapi_conn.autocommit = True
        try:
            return self.query(text, params)
        finally:
            if not dbapi_conn.closed:
                dbapi_conn.autocommit = False

    def insert_rows(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]], *,
                    suffix: str = "", few: int | None = None) -> list[tuple]:
        """The rows inserted in order, with ``suffix`` (ON CONFLICT ..., RETURNING ...); the rows
        RETURNING gave, if any: one multi-row ``INSERT ... VALUES (...), (...)`` a chunk of rows
        at a time. On PostgreSQL, more than a few rows go in one statement whatever the count,
        the rows one JSON parameter read as the table's row type (``json_populate_recordset``):
        its text is the same every time, so psycopg converts it once, where a VALUES list of 500
        rows costs it a parse of a new text of thousands of placeholders every time (more than
        the server takes to run it); a few rows (a one-punch request) are cheaper as VALUES
        (``few``: up to how many; 0 for rows whose values only the JSON way passes, a dict for
        a JSON column)."""
        if self.pg and len(rows) > (FEW_ROWS if few is None else few):
            self.cursor.execute(pg_insert_text(table, tuple(columns), suffix),
                                [orjson.dumps([dict(zip(columns, row)) for row in rows]).decode()])
            return self.cursor.fetchall() if "RETURNING" in suffix else []
        if not self.pg and rows:
            # SQLite: the commit wakes the table's waiters (the outbox's relay; PostgreSQL's
            # triggers notify), which SQLAlchemy's events cannot see from this cursor
            note_insert(self.conn, table)
        out: list[tuple] = []
        for i in range(0, len(rows), CHUNK):
            chunk = rows[i:i + CHUNK]
            text = _insert_text(table, tuple(columns), len(chunk), suffix)
            self.cursor.execute(self.sql(text), [v for row in chunk for v in row])
            if "RETURNING" in suffix:
                out.extend(self.cursor.fetchall())
        return out


    def insert_records(self, table: str, columns: Sequence[str], records: Sequence[dict[str, Any]], *,
                       suffix: str = "", few: int | None = None) -> list[tuple]:
        """``insert_rows`` of rows given as dicts keyed by ``columns`` (other keys ignored): on
        PostgreSQL's JSON way they are encoded as they are, not taken apart and put together."""
        if self.pg and len(records) > (FEW_ROWS if few is None else few):
            self.cursor.execute(pg_insert_text(table, tuple(columns), suffix), [orjson.dumps(records).decode()])
            return self.cursor.fetchall() if "RETURNING" in suffix else []
        return self.insert_rows(table, columns, [tuple(r[c] for c in columns) for r in records], suffix=suffix,
                                few=few)


CHUNK = 500
FEW_ROWS = 8
_CURSOR = "kinerja_raw_cursor"


def _shared_cursor(conn: Connection):
    """The DBAPI connection's reused cursor, kept in its pool record's ``info`` with its
    connection: one the pool replaced gets its own, never the dead one's."""
    fairy = conn.connection
    dbapi_conn = fairy.dbapi_connection
    found = fairy.info.get(_CURSOR)
    if found is None or found[0] is not dbapi_conn:  # nothing closes it but its connection
        found = fairy.info[_CURSOR] = (dbapi_conn, dbapi_conn.cursor())
    return found[1]


_IDLE = 0  # libpq's PQTRANS_IDLE (psycopg.pq.TransactionStatus.IDLE)


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
    begin = not dbapi_conn.autocommit and dbapi_conn.info.transaction_status == _IDLE
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
        if not dbapi_conn.closed and dbapi_conn.info.transaction_status != _IDLE:
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
        if begin and not dbapi_conn.closed and dbapi_conn.info.transaction_status == _IDLE:
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
                    and dbapi_conn.info.transaction_status == _IDLE):
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


def sqlite_datetime(value: datetime) -> str:
    """A datetime as SQLAlchemy writes it on SQLite (its wall clock; UTC for an instant)."""
    return (f"{value.year:04d}-{value.month:02d}-{value.day:02d} {value.hour:02d}:{value.minute:02d}:"
            f"{value.second:02d}.{value.microsecond:06d}")


@lru_cache(maxsize=256)
def _pg(text: str) -> str:
    return text.replace("?", "%s")


@lru_cache(maxsize=1024)
def _marks(n: int) -> str:
    return ", ".join("?" * n)


@lru_cache(maxsize=2048)
def _insert_text(table: str, columns: tuple[str, ...], n: int, suffix: str) -> str:
    row = f"({_marks(len(columns))})"
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES {', '.join([row] * n)}{' ' + suffix if suffix else ''}"


@lru_cache(maxsize=256)
def pg_insert_text(table: str, columns: tuple[str, ...], suffix: str) -> str:
    # ORDER BY the rows' position: serial ids (the outbox's order) follow the order given
    names = ", ".join(columns)
    return (f"INSERT INTO {table} ({names}) SELECT {', '.join('r.' + c for c in columns)} "
            f"FROM json_populate_recordset(NULL::{table}, %s::json) WITH ORDINALITY AS r ORDER BY r.ordinality"
            f"{' ' + suffix if suffix else ''}")
