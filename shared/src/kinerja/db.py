"""SQLAlchemy 2 engine and session helpers that behave the same on SQLite and PostgreSQL."""
from __future__ import annotations

import os
import time
from datetime import timezone
from pathlib import Path
from typing import Callable

from sqlalchemy import DateTime, Engine, TypeDecorator, create_engine, event, exc
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from kinerja import sqlite_locking, wakeup
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

    @event.listens_for(engine, "connect")
    def _fresh(_dbapi_conn, record):  # a new connection needs no ping (nor does a reconnected record)
        record.info.pop(_IDLE_SINCE, None)

    @event.listens_for(engine, "checkin")
    def _idle_from(_dbapi_conn, record):
        if record is not None:
            record.info[_IDLE_SINCE] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_conn, record, _proxy):
        since = record.info.get(_IDLE_SINCE)
        if since is None or time.monotonic() - since < idle_s:
            return
        try:
            engine.dialect.do_ping(dbapi_conn)
        except engine.dialect.loaded_dbapi.Error as err:
            raise exc.InvalidatePoolError(f"pooled connection found dead after {time.monotonic() - since:.1f} s "
                                          f"idle: {err}") from err


def ping_after_idle_s() -> float:
    """``KINERJA_DB_PING_AFTER_IDLE_S`` (seconds; 0 pings on every checkout), else 1 s."""
    raw = os.environ.get(PING_AFTER_IDLE_ENV, "").strip()
    return float(raw) if raw else PING_AFTER_IDLE_S


def make_engine(url: str, *, pool_size: int = 5, ping_idle_s: float | None = None) -> Engine:
    url = normalise_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        path = str(Path(parsed.database).resolve()) if parsed.database and parsed.database != ":memory:" else None
        engine = create_engine(url, connect_args={"timeout": sqlite_locking.WRITE_LOCK_TIMEOUT_S,
                                                  "check_same_thread": False,
                                                  "factory": sqlite_locking.WriterConnection})

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
    engine = create_engine(url, pool_size=pool_size, max_overflow=10)
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
