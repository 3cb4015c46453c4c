"""The relay's statements on PostgreSQL, on a connection of its own, run at libpq's level.

A round at a low rate is one read (the unsent rows) and, every ``mark_interval_s`` while rows are
in flight, one mark. Through SQLAlchemy each cost a pool checkout, a compiled-statement lookup, an
execution context and a result wrapper, plus BEGIN and COMMIT or ROLLBACK round trips; through
psycopg's cursor still a cursor, a query conversion and parameter dumpers (about 60 Python calls a
statement, as many as the producer's ``send`` of the row). Here each is run with ``PQexecParams``
on psycopg's libpq wrapper (``psycopg.pq``, which releases the GIL while it waits), with
parameters written as text and the rows' columns taken as the bytes the server sent: the key and
the value go to the producer as they are (the connection's client encoding is UTF-8), never
decoded to ``str`` and encoded back. One round trip each, autocommit. The rows in flight are left
out by the query (``<> ALL``), so they are never read again in full.

Every statement is planned with its parameters at each run (``kinerja.db.exec_planned``), none
prepared: the outbox is a queue, empty for hours and 20,000 rows deep the next minute, and a
prepared statement's generic plan is made for the table as it was when the plan was made and
kept until the next ANALYZE. Made on an empty outbox it read the whole table for every read (a
sequential scan and a sort), and ``id <> ALL($n)`` was compared element by element for each row
(~1 s a read with 5,000 in flight over 20,000 unsent, against ~20 ms planned with the array
known, which PostgreSQL 15+ hashes). Planning costs some tens of microseconds of server CPU a
statement (``test_relay_plans`` holds the plans linear at 20,000 rows).

Any error closes the connection; the next round opens a new one (the relay's
loop backs off)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine, Table

from kinerja.db import exec_planned
from kinerja.messaging.claims import BUCKETS


# the relay's connection runs these statements only, and each has one plan linear in the rows it
# returns, skips or marks: the unsent index in id order that stops at the limit (the
# mark: the primary key, probed per id). Planned for a table taken to be tiny (never analysed: a
# few dozen rows estimated; vacuumed empty: one) PostgreSQL chose a sequential scan or a bitmap
# scan of every unsent row and a sort, a read per batch going through the whole backlog; these
# options take those two scans off the table for this connection
PLANNER_OPTIONS = "-c enable_seqscan=off -c enable_bitmapscan=off"


def int_array(ids) -> bytes:
    """A bigint[] parameter as text: ``{1,2,3}``."""
    return ("{" + ",".join(map(str, ids)) + "}").encode()


class PgRelayStatements:
    def __init__(self, engine: Engine, table: Table):
        self.dsn = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        name = engine.dialect.identifier_preparer.format_table(table)
        read = f'SELECT id, topic, "key", "value" FROM {name} WHERE sent_at IS NULL'
        # the buckets a relay holds among several (``claims.bucket_of``'s expression)
        buckets = f'(hashtext("key") & {BUCKETS - 1}) = ANY($2::integer[])'
        # id order, the unsent index's (``ix_outbox_unsent``: id WHERE sent_at IS NULL): the index
        # holds the unsent rows only and gives them in order, so the read stops at its limit and
        # never walks past the sent rows the retention keeps (the primary key would)
        order = "ORDER BY id LIMIT $1::integer"
        self.read_sql = f"{read} {order}".encode()
        self.read_buckets_sql = f"{read} AND {buckets} {order}".encode()
        self.read_skip_sql = f"{read} AND id <> ALL($2::bigint[]) {order}".encode()
        self.read_buckets_skip_sql = f"{read} AND {buckets} AND id <> ALL($3::bigint[]) {order}".encode()
        self.mark_sql = f"UPDATE {name} SET sent_at = $1::timestamptz WHERE id = ANY($2::bigint[])".encode()
        # the depth gauge, on this connection for its planner options: a bitmap scan of the unsent
        # index (what PostgreSQL chose elsewhere) visits the heap for every entry a mark left dead
        # until a vacuum, again at every call, and never marks them dead in the index as an index
        # scan does: 94 ms a call after one 20,000-line upload, 367 ms after six (bench/day_drain.py)
        self.depth_sql = (f"SELECT count(*), COALESCE(EXTRACT(EPOCH FROM clock_timestamp() - min(created_at)), 0) "
                          f"FROM {name} WHERE sent_at IS NULL").encode()
        self._conn = None
        self._pgconn = None
        self._ok: tuple = ()
        self._error_from_result = None

    def _connection(self):
        if self._pgconn is None:
            import psycopg  # optional: the [postgres] extra

            self._ok = (psycopg.pq.ExecStatus.TUPLES_OK, psycopg.pq.ExecStatus.COMMAND_OK)
            self._error_from_result = psycopg.errors.error_from_result
            conn = psycopg.connect(self.dsn, autocommit=True, connect_timeout=10, client_encoding="utf8",
                                   application_name="kinerja-relay", options=PLANNER_OPTIONS)
            self._conn, self._pgconn = conn, conn.pgconn
        return self._pgconn

    def _check(self, result):
        if result.status not in self._ok:
            raise self._error_from_result(result)
        return result

    def _run(self, sql: bytes, params: list[bytes]):
        """``sql`` planned with ``params`` (see the module's doc); any error closes the connection."""
        try:
            return self._check(exec_planned(self._connection(), sql, params))
        except BaseException:
            self.close()
            raise

    def unsent(self, limit: int, skip, buckets=None) -> list[tuple[int, bytes, bytes, bytes]]:
        """(id, topic, key, value) of the lowest unsent rows not in ``skip`` (of ``buckets``; None:
        all), in id order; topic, key and value as the UTF-8 bytes stored."""
        limit_text = b"%d" % limit
        if buckets is None:
            if skip:
                res = self._run(self.read_skip_sql, [limit_text, int_array(skip)])
            else:
                res = self._run(self.read_sql, [limit_text])
        elif skip:
            res = self._run(self.read_buckets_skip_sql, [limit_text, int_array(sorted(buckets)), int_array(skip)])
        else:
            res = self._run(self.read_buckets_sql, [limit_text, int_array(sorted(buckets))])
        value = res.get_value
        return [(int(value(i, 0)), value(i, 1), value(i, 2), value(i, 3)) for i in range(res.ntuples)]

    def depth(self) -> tuple[int, float]:
        """(unsent rows, seconds since the oldest of them was written; 0 when none)."""
        res = self._run(self.depth_sql, [])
        return int(res.get_value(0, 0)), max(0.0, float(res.get_value(0, 1)))

    def mark_sent(self, ids: list[int], now: datetime) -> None:
        self._run(self.mark_sql, [now.isoformat().encode(), int_array(ids)])

    def close(self) -> None:
        conn, self._conn, self._pgconn = self._conn, None, None
        if conn is not None:
            try:
                conn.close()
            except Exception:  # noqa: BLE001 - already broken
                pass
