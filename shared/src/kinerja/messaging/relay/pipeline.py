"""The relay's pipeline: rows read in id order, sent while earlier sends wait for their acks, and
marked sent by id once the broker acknowledged them (``OutboxRelay`` holds the state)."""
from __future__ import annotations

from functools import partial

from kafka import KafkaProducer
from sqlalchemy import select, update

from kinerja import metrics, wakeup
from kinerja.db import read_only
from kinerja.messaging.claims import bucket_of
from kinerja.messaging.relay.appender import appender
from kinerja.messaging.outbox import utcnow
from kinerja.messaging.relay.pg_statements import PgRelayStatements
from kinerja.messaging.relay.sqlite_statements import SqliteRelayStatements
from kinerja.messaging.relay.producer_session import MARK_CHUNK, RelayFailed, close_producer_now
from kinerja.messaging.topics import topic


class RelayPipeline:
    """Part of :class:`OutboxRelay` (its ``__init__`` sets the state used here: ``_producer``,
    ``_session``, ``_inflight``, ``_acks``, ``_to_mark``, ``_wake``, ``_plain``, ``_topics``)."""

    def _get_producer(self) -> KafkaProducer:
        if self._producer is None:
            self._producer = self.producer_factory()
            self._append = appender(self._producer)  # its send() without the per-record preamble
        return self._producer

    def _drop_producer(self) -> None:
        """End the producer session: nothing it still holds is sent after this; rows in flight
        are unmarked and will be read and sent again."""
        if self._producer is not None:
            close_producer_now(self._producer)
            self._producer = None
        self._session += 1
        self._collect_acks()
        self._inflight.clear()
        self._read_due = True  # the rows it had in flight are sent again

    def _on_ack(self, session: int, row_id: int, _metadata) -> None:
        self._acks.append((session, row_id, None))
        if self._ack_wakes:
            self._wake.set()

    def _on_error(self, session: int, row_id: int, exc: Exception) -> None:
        self._acks.append((session, row_id, exc))
        self._wake.set()

    # -- reading, sending, marking ---------------------------------------------------------
    def _next_rows(self, limit: int, buckets: frozenset[int] | None, skip: set[int]) -> list:
        """The lowest unsent rows (of ``buckets``) that are not in ``skip``, at most ``limit``,
        in id order, as (id, topic, key bytes, value bytes): never a row above one of its key's
        unsent rows that is not in flight. On PostgreSQL one statement planned with its parameters
        (``pg_statements``), on a SQLite file plain SQL (``sqlite_statements``); otherwise, with
        nothing to skip, one query reads the rows, and with rows to skip the ids come first, so
        the rows in flight are not read again in full."""
        statements = self._statements()
        if statements is not None:
            if buckets is None:
                return statements.unsent(limit, skip)
            return statements.unsent(limit, skip, buckets)
        t = self.table
        where = [t.c.sent_at.is_(None)]
        if buckets is not None:
            where.append(bucket_of(t.c.key).in_(sorted(buckets)))
        with self._reading() as conn:
            if not skip:
                rows = conn.execute(select(t.c.id, t.c.topic, t.c.key, t.c.value).where(*where)
                                    .order_by(t.c.id).limit(limit)).all()
            else:
                ids_q = select(t.c.id).where(*where).order_by(t.c.id).limit(limit + len(skip))
                ids = [i for i in conn.execute(ids_q).scalars() if i not in skip][:limit]
                if not ids:
                    return []
                rows = conn.execute(select(t.c.id, t.c.topic, t.c.key, t.c.value)
                                    .where(t.c.id.in_(ids)).order_by(t.c.id)).all()
        return [(row_id, row_topic, key.encode(), value.encode()) for row_id, row_topic, key, value in rows]

    def _statements(self) -> PgRelayStatements | SqliteRelayStatements | None:
        """The read and the mark as plain SQL on a connection the relay keeps: PostgreSQL, or a
        SQLite file (one claimer, so never a bucket filter); None: through SQLAlchemy."""
        if self._plain is None:
            if self.engine.dialect.name == "postgresql":
                self._plain = PgRelayStatements(self.engine, self.table)
            elif wakeup.sqlite_file(self.engine) is not None:
                self._plain = SqliteRelayStatements(self.engine, self.table)
            else:
                self._plain = False
        return self._plain or None

    def _reading(self):
        """A connection for a read. PostgreSQL: autocommit, one round trip a statement instead of
        BEGIN, the query and ROLLBACK (each statement of a READ COMMITTED transaction has a
        snapshot of its own anyway); SQLite: a read-only transaction, no write lock for a poll."""
        if self.engine.dialect.name == "postgresql":
            return self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        return read_only(self.engine.connect())

    def _send(self, rows: list) -> None:
        self._get_producer()
        send = self._append
        session = self._session
        topics = self._topics
        inflight = self._inflight
        on_ack, on_error = self._on_ack, self._on_error
        for row_id, row_topic, key, value in rows:
            name = topics.get(row_topic)
            if name is None:
                name = topics[row_topic] = topic(
                    row_topic.decode() if isinstance(row_topic, bytes) else row_topic, self.prefix)
            try:
                future = send(name, key, value)
            except Exception as exc:
                raise RelayFailed(f"send failed: {exc!r}") from exc
            inflight.add(row_id)
            both = getattr(future, "_add_cb_eb", None)  # kafka-python 3: both under one lock, one call
            if both is not None:
                both(partial(on_ack, session, row_id), partial(on_error, session, row_id))
            else:
                future.add_callback(on_ack, session, row_id)
                future.add_errback(on_error, session, row_id)

    def _collect_acks(self) -> Exception | None:
        """Move acknowledged ids from the flight to the marking list; the first error of the
        current session, if any."""
        error = None
        while self._acks:
            session, row_id, exc = self._acks.popleft()
            if exc is None:
                # acknowledged, so on the topic, even from an ended session: mark it
                self._to_mark.append(row_id)
                if session == self._session:
                    self._inflight.discard(row_id)
            elif session == self._session and error is None:
                error = exc
        return error

    def _mark(self) -> int:
        if not self._to_mark:
            self._mark_at = None
            return 0
        ids = self._to_mark
        t = self.table
        now = utcnow()
        statements = self._statements()
        if statements is not None:
            statements.mark_sent(ids, now)  # one statement (SQLite: a chunk of ids each), one commit
        else:
            with self.engine.begin() as conn:
                for start in range(0, len(ids), MARK_CHUNK):
                    conn.execute(update(t).where(t.c.id.in_(ids[start:start + MARK_CHUNK])).values(sent_at=now))
        self._to_mark = []
        self._mark_at = None
        self.marks += 1
        self.published += len(ids)
        metrics.RELAY_PUBLISHED.labels(self.service).inc(len(ids))
        return len(ids)
