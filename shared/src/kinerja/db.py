"""SQLAlchemy 2 engine and session helpers that behave the same on SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import timezone
from pathlib import Path

from sqlalchemy import DateTime, Engine, TypeDecorator, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from kinerja import sqlite_locking
from kinerja.sqlite_locking import read_only  # noqa: F401 - part of this module's API


def normalise_url(url: str) -> str:
    """``postgresql://`` means psycopg 3 here (the driver we install), not psycopg2."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def make_engine(url: str, *, pool_size: int = 5) -> Engine:
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

        return engine
    return create_engine(url, pool_size=pool_size, max_overflow=10, pool_pre_ping=True)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


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
