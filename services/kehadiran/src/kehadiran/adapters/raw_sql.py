"""Hand-written SQL on the DBAPI cursor of a SQLAlchemy connection, for the few statements every
punch request runs. The transaction stays SQLAlchemy's (begun and committed by the caller, for a
punch request ``punch_transaction``); these statements skip what costs most per execution
(compiling or looking up a compiled statement, parameter and result processing: about 200,000
instructions a statement on SQLite, more than the statement itself).

Values are written the way SQLAlchemy's column types write them, so rows from either path are the
same rows (the punch identity's uniqueness included): on SQLite an instant is UTC text
``YYYY-MM-DD HH:MM:SS.ffffff``, a date ``YYYY-MM-DD``, a boolean 0/1 (``raw_sql_text``); psycopg
adapts Python values itself.
"""
from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any, Sequence

import orjson
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from kehadiran.adapters.raw_sql_text import insert_text, marks, pg_insert_text, pg_placeholders, sqlite_datetime
from kinerja import sqlite_wal
from kinerja.wakeup import note_insert

IDLE = 0  # libpq's PQTRANS_IDLE (psycopg.pq.TransactionStatus.IDLE): no transaction open


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
        return pg_placeholders(text) if self.pg else text

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
        return f"{column} IN ({marks(len(values))})", list(values)

    def query(self, text: str, params: Sequence[Any] = ()) -> list[tuple]:
        try:
            self.cursor.execute(self.sql(text), params)
            return self.cursor.fetchall()
        except Exception as exc:
            if self.pg:
                raise
            # SQLite, a read outside a transaction (``punch_transaction.punch_connection``): BUSY
            # while the WAL is recovered
            return sqlite_wal.read_outside(self.conn.connection.dbapi_connection,
                                               lambda: self._run(text, params), exc)

    def _run(self, text: str, params: Sequence[Any]) -> list[tuple]:
        self.cursor.execute(self.sql(text), params)
        return self.cursor.fetchall()

    def query_first(self, text: str, params: Sequence[Any] = ()) -> list[tuple]:
        """``query``, for a read that comes before the transaction's first write. On PostgreSQL,
        with no transaction open yet, it runs as a statement of its own (autocommit): psycopg
        sends no BEGIN ahead of it, a round trip of its own; the transaction's BEGIN goes out
        with its first writes instead (``punch_transaction.commit_with``: in their pipeline).
        Under READ COMMITTED a statement sees the same rows in a transaction or outside it, and
        a plain SELECT keeps no lock, so nothing the request relies on changes."""
        dbapi_conn = self.conn.connection.dbapi_connection if self.pg else None
        if dbapi_conn is None or dbapi_conn.autocommit or dbapi_conn.info.transaction_status != IDLE:
            return self.query(text, params)
        dbapi_conn.autocommit = True
        try:
            return self.query(text, params)
        finally:
            if not dbapi_conn.closed:
                dbapi_conn.autocommit = False

    def insert_rows(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]], *,
                    suffix: str = "", few: int | None = None, wake: bool = True) -> list[tuple]:
        """The rows inserted in order, with ``suffix`` (ON CONFLICT ..., RETURNING ...); the rows
        RETURNING gave, if any: one multi-row ``INSERT ... VALUES (...), (...)`` a chunk of rows
        at a time. On PostgreSQL, more than a few rows go in one statement whatever the count,
        the rows one JSON parameter read as the table's row type (``json_populate_recordset``):
        its text is the same every time, so psycopg converts it once, where a VALUES list of 500
        rows costs it a parse of a new text of thousands of placeholders every time (more than
        the server takes to run it); a few rows (a one-punch request) are cheaper as VALUES
        (``few``: up to how many; 0 for rows whose values only the JSON way passes, a dict for
        a JSON column). ``wake`` False: on SQLite the commit does not wake the table's waiters for
        these rows (PostgreSQL's statement says so itself: ``punch_write``)."""
        if self.pg and len(rows) > (FEW_ROWS if few is None else few):
            self.cursor.execute(pg_insert_text(table, tuple(columns), suffix),
                                [orjson.dumps([dict(zip(columns, row)) for row in rows]).decode()])
            return self.cursor.fetchall() if "RETURNING" in suffix else []
        if not self.pg and rows and wake:
            # SQLite: the commit wakes the table's waiters (the outbox's relay; PostgreSQL's
            # triggers notify), which SQLAlchemy's events cannot see from this cursor
            note_insert(self.conn, table)
        out: list[tuple] = []
        for i in range(0, len(rows), CHUNK):
            chunk = rows[i:i + CHUNK]
            text = insert_text(table, tuple(columns), len(chunk), suffix)
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
