"""The relay's two statements on PostgreSQL, on a connection of its own, run at libpq's level.

A round at a low rate is one read (the unsent rows) and, every ``mark_interval_s`` while rows are
in flight, one mark. Through SQLAlchemy each cost a pool checkout, a compiled-statement lookup, an
execution context and a result wrapper, plus BEGIN and COMMIT or ROLLBACK round trips; through
psycopg's cursor still a cursor, a query conversion and parameter dumpers (about 60 Python calls a
statement, as many as the producer's ``send`` of the row). Here each is a statement prepared once
per connection (``PQprepare``) and run with ``PQexecPrepared`` on psycopg's libpq wrapper
(``psycopg.pq``, which releases the GIL while it waits), with parameters written as text and the
rows' columns taken as the bytes the server sent: the key and the value go to the producer as
they are (the connection's client encoding is UTF-8), never decoded to ``str`` and encoded back.
One round trip each, autocommit. The rows in flight are left out by the query (``<> ALL``), so
they are never read again in full; that read is planned with its parameters each time (see
``read_skip_sql``), the others are prepared.

Any error closes the connection; the next round opens a new one and prepares again (the relay's
loop backs off)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine, Table

from kinerja.messaging.claims import BUCKETS

_READ = b"kinerja_relay_read"
_READ_BUCKETS = b"kinerja_relay_read_buckets"
_MARK = b"kinerja_relay_mark"


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
        self.read_sql = f"{read} ORDER BY id LIMIT $1::integer".encode()
        self.read_buckets_sql = f"{read} AND {buckets} ORDER BY id LIMIT $1::integer".encode()
        # with rows to leave out: planned with its parameters each time (an unnamed statement).
        # A prepared statement turns to a generic plan after a few runs, and there ``id <> ALL($3)``
        # is compared element by element for every row scanned: 5,000 rows in flight over 20,000
        # unsent took ~1 s a read, against ~20 ms with the array known (hashed)
        self.read_skip_sql = f"{read} AND id <> ALL($2::bigint[]) ORDER BY id LIMIT $1::integer".encode()
        self.read_buckets_skip_sql = (f"{read} AND {buckets} AND id <> ALL($3::bigint[]) "
                                      f"ORDER BY id LIMIT $1::integer").encode()
        self.mark_sql = f"UPDATE {name} SET sent_at = $1::timestamptz WHERE id = ANY($2::bigint[])".encode()
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
                                   application_name="kinerja-relay")
            try:
                for name, sql in ((_READ, self.read_sql), (_READ_BUCKETS, self.read_buckets_sql),
                                  (_MARK, self.mark_sql)):
                    self._check(conn.pgconn.prepare(name, sql))
            except BaseException:
                conn.close()
                raise
            self._conn, self._pgconn = conn, conn.pgconn
        return self._pgconn

    def _check(self, result):
        if result.status not in self._ok:
            raise self._error_from_result(result)
        return result

    def _run(self, name: bytes, params: list[bytes]):
        try:
            return self._check(self._connection().exec_prepared(name, params))
        except BaseException:
            self.close()
            raise

    def _run_planned(self, sql: bytes, params: list[bytes]):
        try:
            return self._check(self._connection().exec_params(sql, params))
        except BaseException:
            self.close()
            raise

    def unsent(self, limit: int, skip, buckets=None) -> list[tuple[int, bytes, bytes, bytes]]:
        """(id, topic, key, value) of the lowest unsent rows not in ``skip`` (of ``buckets``; None:
        all), in id order; topic, key and value as the UTF-8 bytes stored."""
        limit_text = b"%d" % limit
        if buckets is None:
            if skip:
                res = self._run_planned(self.read_skip_sql, [limit_text, int_array(skip)])
            else:
                res = self._run(_READ, [limit_text])
        elif skip:
            res = self._run_planned(self.read_buckets_skip_sql, [limit_text, int_array(sorted(buckets)),
                                                                 int_array(skip)])
        else:
            res = self._run(_READ_BUCKETS, [limit_text, int_array(sorted(buckets))])
        value = res.get_value
        return [(int(value(i, 0)), value(i, 1), value(i, 2), value(i, 3)) for i in range(res.ntuples)]

    def mark_sent(self, ids: list[int], now: datetime) -> None:
        self._run(_MARK, [now.isoformat().encode(), int_array(ids)])

    def close(self) -> None:
        conn, self._conn, self._pgconn = self._conn, None, None
        if conn is not None:
            try:
                conn.close()
            except Exception:  # noqa: BLE001 - already broken
                pass
