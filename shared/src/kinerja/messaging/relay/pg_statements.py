"""The relay's two statements of every round on PostgreSQL, on a connection of its own.

A round at a low rate is one read (the unsent rows) and, once the broker acknowledged them, one
mark. Through SQLAlchemy each costs a pool checkout, a compiled-statement lookup, an execution
context and a result wrapper, plus BEGIN and COMMIT or ROLLBACK round trips: more CPU than the
statement itself. Here they are plain SQL on one autocommit psycopg connection (psycopg prepares
them after a few runs), one round trip each. The rows in flight are left out by the query
(``<> ALL``), so they are never read again in full.

Any error closes the connection; the next round opens a new one (the relay's loop backs off)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine, Table


class PgRelayStatements:
    def __init__(self, engine: Engine, table: Table):
        self.dsn = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        name = engine.dialect.identifier_preparer.format_table(table)
        self.read_sql = (f'SELECT id, topic, "key", "value" FROM {name} '
                         f"WHERE sent_at IS NULL AND id <> ALL(%s) ORDER BY id LIMIT %s")
        self.mark_sql = f"UPDATE {name} SET sent_at = %s WHERE id = ANY(%s)"
        self._conn = None

    def _connection(self):
        if self._conn is None:
            import psycopg

            self._conn = psycopg.connect(self.dsn, autocommit=True, connect_timeout=10,
                                         application_name="kinerja-relay")
        return self._conn

    def _run(self, sql: str, params: tuple, fetch: bool):
        try:
            cur = self._connection().execute(sql, params)
            return cur.fetchall() if fetch else cur.rowcount
        except BaseException:
            self.close()
            raise

    def unsent(self, limit: int, skip: set[int]) -> list[tuple[int, str, str, str]]:
        """(id, topic, key, value) of the lowest unsent rows not in ``skip``, in id order."""
        return self._run(self.read_sql, (list(skip), limit), fetch=True)

    def mark_sent(self, ids: list[int], now: datetime) -> None:
        self._run(self.mark_sql, (now, ids), fetch=False)

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.close()
            except Exception:  # noqa: BLE001 - already broken
                pass
