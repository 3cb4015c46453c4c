"""Counting rows in a service's database while the system runs (the benchmarks wait on them)."""
from __future__ import annotations

from sqlalchemy import create_engine, text

from kinerja.db import normalise_url


class Db:
    def __init__(self, url: str, **engine_options):
        self.engine = create_engine(normalise_url(url), **engine_options)

    def scalar(self, sql: str, **params):
        with self.engine.connect() as conn:
            return conn.execute(text(sql), params).scalar()

    def close(self) -> None:
        self.engine.dispose()


def db_count(url: str, table: str) -> int:
    """Rows in ``table``, or -1 while the table is not there yet."""
    engine = create_engine(normalise_url(url))
    try:
        with engine.connect() as c:
            return c.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
    except Exception:  # noqa: BLE001 - table not there yet
        return -1
    finally:
        engine.dispose()


def load_statement_stats(pg, server: str) -> None:
    """Load ``pg_stat_statements`` into a throwaway cluster (it needs a restart), so a probe can split
    the backends' time by statement."""
    import psycopg
    with psycopg.connect(server, autocommit=True) as c:
        c.execute("ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'")
    pg.restart()
    with psycopg.connect(server, autocommit=True) as c:
        c.execute("CREATE EXTENSION pg_stat_statements")
