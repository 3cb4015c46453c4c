"""The relay's read and mark on SQLite, as plain SQL on one pool connection the relay keeps.

Through SQLAlchemy a read cost a pool checkout and return, events, a statement built and looked up
in the compiled cache and a result wrapper: about 270 Python calls around one SELECT. Here the
statements are texts made once, run on the driver's connection with the same transaction rules as
every other connection of the engine (``kinerja.sqlite_locking.begin``: a read takes no write lock,
its snapshot is taken at BEGIN; a mark waits for the process's write turn), rows as plain tuples.
One claimer per file (``claims.FileLockClaims``), so a read never filters buckets.

Any error drops the connection (invalidated: the pool opens a new one); the relay's loop backs off."""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import Engine, Table

from kinerja import sqlite_locking
from kinerja.messaging.relay.producer_session import MARK_CHUNK


def sqlite_instant(now: datetime) -> str:
    """``now`` as ``UtcDateTime`` stores it on SQLite (naive UTC, SQLAlchemy's text form), so
    trimming compares it as it compares every other ``sent_at``."""
    return now.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")


class SqliteRelayStatements:
    def __init__(self, engine: Engine, table: Table):
        self.engine = engine
        name = engine.dialect.identifier_preparer.format_table(table)
        self.read_sql = f'SELECT id, topic, "key", "value" FROM {name} WHERE sent_at IS NULL ORDER BY id LIMIT ?'
        self.ids_sql = f"SELECT id FROM {name} WHERE sent_at IS NULL ORDER BY id LIMIT ?"
        self.rows_sql = f'SELECT id, topic, "key", "value" FROM {name} WHERE id IN (%s) ORDER BY id'
        self.mark_sql = f"UPDATE {name} SET sent_at = ? WHERE id IN (%s)"
        self._fairy = None

    def _connection(self):
        if self._fairy is None:
            self._fairy = self.engine.raw_connection()
        return self._fairy.dbapi_connection

    def unsent(self, limit: int, skip) -> list[tuple[int, str, bytes, bytes]]:
        """(id, topic, key, value) of the lowest unsent rows not in ``skip``, in id order; key and
        value as UTF-8 bytes. With rows to skip the ids come first, so the rows in flight are not
        read again in full."""
        try:
            conn = self._connection()
            sqlite_locking.begin(conn, read_only=True)
            try:
                if not skip:
                    rows = conn.execute(self.read_sql, (limit,)).fetchall()
                else:
                    ids = [i for (i,) in conn.execute(self.ids_sql, (limit + len(skip),)) if i not in skip][:limit]
                    rows = conn.execute(self.rows_sql % ",".join("?" * len(ids)), ids).fetchall() if ids else []
            finally:
                conn.rollback()
        except BaseException:
            self.close()
            raise
        return [(row_id, row_topic, key.encode(), value.encode()) for row_id, row_topic, key, value in rows]

    def mark_sent(self, ids: list[int], now: datetime) -> None:
        at = sqlite_instant(now)
        try:
            conn = self._connection()
            sqlite_locking.begin(conn, read_only=False)
            try:
                for start in range(0, len(ids), MARK_CHUNK):
                    chunk = ids[start:start + MARK_CHUNK]
                    conn.execute(self.mark_sql % ",".join("?" * len(chunk)), [at, *chunk])
                conn.commit()
            except BaseException:
                conn.rollback()
                raise
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        fairy, self._fairy = self._fairy, None
        if fairy is not None:
            try:
                fairy.invalidate()
            except Exception:  # noqa: BLE001 - already broken
                pass
