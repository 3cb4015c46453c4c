"""SQLAlchemy 2 engine and session helpers that behave the same on SQLite and PostgreSQL."""
from __future__ import annotations

import os
import threading
import time
import weakref
from contextlib import contextmanager
from datetime import timezone
from pathlib import Path
from typing import Callable, Iterator

from sqlalchemy import Connection, DateTime, Engine, TypeDecorator, create_engine, event, exc
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from kinerja import sqlite_locking, wakeup
from kinerja.config import number, whole_number
from kinerja.sqlite_locking import read_only  # noqa: F401 - part of this module's API


def normalise_url(url: str) -> str:
    """``postgresql://`` means psycopg 3 here (the driver we install), not psycopg2."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


# a pooled PostgreSQL connection idle at least this long is pinged before it is handed out
PING_AFTER_IDLE_S = 1.0
PING_AFTER_IDLE_ENV = "KINERJA_DB_PING_AFTER_IDLE_S"
_IDLE_SINCE = "kinerja_idle_since"


def ping_after_idle(engine: Engine, idle_s: float) -> None:
    """Ping a pooled connection on checkout only when it sat in the pool ``idle_s`` or longer.

    ``pool_pre_ping`` pings on every checkout: a round trip (and a tenth of a one-punch
    request's CPU) that only ever finds something when the connection has been idle (a restarted
    or failed-over server, a firewall's idle timeout). A dead connection the ping finds is
    replaced before the caller sees it, and every connection pooled before it is dropped with it
    (``InvalidatePoolError``: after a restart they are all dead). A connection that dies while in
    busy use fails its statement as before: the request answers 503 with Retry-After
    (``kinerja.web``), and that failure invalidates the pool too."""

    _RESET_AT_CHECKOUT.add(engine)  # its checkout (below) ends an autocommit left behind

    @event.listens_for(engine, "connect")
    def _fresh(_dbapi_conn, record):  # a new connection needs no ping (nor does a reconnected record)
        record.info.pop(_IDLE_SINCE, None)

    @event.listens_for(engine, "checkin")
    def _idle_from(_dbapi_conn, record):
        if record is not None:
            record.info[_IDLE_SINCE] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_conn, record, _proxy):
        if dbapi_conn.autocommit and not _checkout.autocommit:
            # left in autocommit by an ``autocommit_connection`` user: everyone else gets the
            # driver's transactions
            dbapi_conn.autocommit = False
        since = record.info.get(_IDLE_SINCE)
        if since is None or time.monotonic() - since < idle_s:
            return
        try:
            engine.dialect.do_ping(dbapi_conn)
        except engine.dialect.loaded_dbapi.Error as err:
            raise exc.InvalidatePoolError(f"pooled connection found dead after {time.monotonic() - since:.1f} s "
                                          f"idle: {err}") from err


class _Checkout(threading.local):
    autocommit = False  # this thread's checkout is an ``autocommit_connection``'s


_checkout = _Checkout()
# engines whose checkout takes a connection out of autocommit (``make_engine``'s PostgreSQL ones)
_RESET_AT_CHECKOUT: "weakref.WeakSet[Engine]" = weakref.WeakSet()


def autocommit_connection(engine: Engine) -> tuple[Connection, bool]:
    """``engine.connect()`` with its driver connection in autocommit (PostgreSQL, psycopg), and
    whether it may be returned to the pool that way. For a hot path of plain statements each
    committed alone (a punch request): with the pool's checkout putting every connection back in
    the driver's transactions for its other users, the connection stays in autocommit from one
    such request to the next (the pool hands out the connection returned last), no toggle
    either way (a dozen Python calls and a lock each). False: the caller must take it out of
    autocommit before it closes the connection (an engine not made by ``make_engine``)."""
    _checkout.autocommit = True
    try:
        conn = engine.connect()
    finally:
        _checkout.autocommit = False
    try:
        dbapi_conn = conn.connection.dbapi_connection
        if not dbapi_conn.autocommit:
            dbapi_conn.autocommit = True
    except BaseException:
        conn.close()
        raise
    return conn, engine in _RESET_AT_CHECKOUT


def ping_after_idle_s() -> float:
    """``KINERJA_DB_PING_AFTER_IDLE_S`` (seconds; 0 pings on every checkout), else 1 s."""
    return number(os.environ, PING_AFTER_IDLE_ENV, PING_AFTER_IDLE_S, low=0)


# connections a pool keeps: a web worker's threads (gunicorn's 16 by default) each hold one while
# they serve a request. With fewer, every connection beyond them was closed at its return and a
# new one opened for the next burst (about one a dozen single-punch requests under load on
# PostgreSQL: a server process forked, its statements prepared again). A pool opens connections
# only as they are needed at once, so a process with one thread still holds one.
POOL_SIZE = 16
POOL_SIZE_ENV = "KINERJA_DB_POOL_SIZE"
MAX_OVERFLOW = 10


def pool_size_setting() -> int:
    """``KINERJA_DB_POOL_SIZE`` (connections a pool keeps; set it to at least a web worker's
    threads), else ``POOL_SIZE``."""
    return whole_number(os.environ, POOL_SIZE_ENV, POOL_SIZE, low=1)


def make_engine(url: str, *, pool_size: int | None = None, ping_idle_s: float | None = None) -> Engine:
    """``pool_size``: connections kept (None: ``pool_size_setting``). The pool hands out the
    connection returned last (LIFO): under light load a few stay busy (warm, their statements
    prepared, never idle long enough to be pinged) and the rest stay idle."""
    pool_size = pool_size_setting() if pool_size is None else pool_size
    url = normalise_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        path = str(Path(parsed.database).resolve()) if parsed.database and parsed.database != ":memory:" else None
        engine = create_engine(url, connect_args={"timeout": sqlite_locking.WRITE_LOCK_TIMEOUT_S,
                                                  "check_same_thread": False,
                                                  "factory": sqlite_locking.WriterConnection},
                               # a file's pool (an in-memory database has one connection a thread)
                               **({"pool_size": pool_size, "max_overflow": MAX_OVERFLOW, "pool_use_lifo": True}
                                  if path else {}))

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # pragma: no cover - exercised by every test
            sqlite_locking.on_connect(dbapi_conn, path)

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn):  # pragma: no cover
            # writers take the write lock at BEGIN (see kinerja.sqlite_locking); read_only() ones none
            sqlite_locking.begin(conn.connection.dbapi_connection,
                                 read_only=conn.get_execution_options().get(sqlite_locking.READ_ONLY, False))

        # a commit that inserted outbox rows wakes the relays at once (PostgreSQL: a trigger)
        wakeup.announce_inserts(engine, {"outbox": wakeup.OUTBOX_CHANNEL})
        return engine
    engine = create_engine(url, pool_size=pool_size, max_overflow=MAX_OVERFLOW, pool_use_lifo=True)
    ping_after_idle(engine, ping_after_idle_s() if ping_idle_s is None else ping_idle_s)
    return engine


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def read_only_session(session_factory: Callable[[], Session]) -> Session:
    """A session of ``session_factory`` whose transaction only reads (``read_only``: on SQLite
    it takes no write lock; elsewhere the same as ``session_factory()``). One transaction: use it
    as ``with read_only_session(factory) as session:`` and close it."""
    session = session_factory()
    session.connection(execution_options={sqlite_locking.READ_ONLY: True})
    return session


def is_postgres(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


# -- statements planned with their parameters -----------------------------------------------------
# A statement that polls a queue runs every second or so while the queue is empty. psycopg prepares
# a statement after its 5th run on a connection (``prepare_threshold``) and PostgreSQL switches a
# prepared statement to its generic plan after 5 more; that plan is made for the table as it was
# (vacuumed empty: no pages, one row estimated) and kept until the table is analysed again. When
# the queue then fills (20,000 rows), such a plan rescans the table for each of its rows (the day
# worker's claim: 284 s; the outbox trim: 90 s for one chunk of 5,000 over 40,000 rows) or looks
# through a list parameter once per row (the relay's ``id <> ALL($n)`` read: ~1 s). A statement
# planned with its parameters at each run is planned for the table's size of the moment (its
# current pages), its arrays known as constants (hashed for ``= ANY`` / ``<> ALL``). It costs the
# planning (some tens of microseconds of server CPU a statement), worth it for a queue's statements,
# not for every statement.
def _psycopg_connection(conn):
    """The psycopg connection under a SQLAlchemy ``Connection`` or ``Session``, or ``conn`` itself;
    None when it is not PostgreSQL's."""
    if isinstance(conn, Session):
        conn = conn.connection()
    if hasattr(conn, "dialect"):  # a SQLAlchemy Connection
        if conn.dialect.name != "postgresql":
            return None
        return conn.connection.dbapi_connection
    return conn if hasattr(conn, "prepare_threshold") else None


@contextmanager
def planned_each_time(conn) -> Iterator[None]:
    """Every statement run on ``conn`` (a SQLAlchemy ``Connection`` or ``Session``, or a psycopg
    connection) inside the block is planned with its parameters when it runs: on PostgreSQL the
    driver prepares none of them (psycopg's ``prepare_threshold`` None for the block, restored
    after; no statement is sent for it), so the server keeps no plan of them from one run to the
    next. Elsewhere (SQLite) nothing changes."""
    dbapi_conn = _psycopg_connection(conn)
    if dbapi_conn is None:
        yield
        return
    before = dbapi_conn.prepare_threshold
    dbapi_conn.prepare_threshold = None
    try:
        yield
    finally:
        dbapi_conn.prepare_threshold = before


def exec_planned(pgconn, sql: bytes, params: list[bytes]):
    """``planned_each_time`` at libpq's level (``psycopg.pq.PGconn``, as the relay runs its
    statements): ``sql`` as an unnamed statement (``PQexecParams``), planned with ``params`` (as
    text) at this run; the raw result."""
    return pgconn.exec_params(sql, params)


class UtcDateTime(TypeDecorator):
    """An instant, stored as UTC and always read back timezone-aware, on SQLite (which keeps no
    offset) as on PostgreSQL. Naive values are refused: their zone would be a guess."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given for an instant; attach its timezone")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)
