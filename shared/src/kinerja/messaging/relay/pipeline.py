"""The relay's pipeline: rows read in id order, sent while earlier sends wait for their acks, and
marked sent by id once the broker acknowledged them (``OutboxRelay`` holds the state)."""
from __future__ import annotations

from kafka import KafkaProducer
from sqlalchemy import select, update

from kinerja import metrics
from kinerja.db import read_only
from kinerja.messaging.claims import bucket_of
from kinerja.messaging.outbox import utcnow
from kinerja.messaging.relay.producer_session import MARK_CHUNK, RelayFailed, close_producer_now
from kinerja.messaging.topics import topic


class RelayPipeline:
    """Part of :class:`OutboxRelay` (its ``__init__`` sets the state used here: ``_producer``,
    ``_session``, ``_inflight``, ``_acks``, ``_to_mark``, ``_wake``)."""

    def _get_producer(self) -> KafkaProducer:
        if self._producer is None:
            self._producer = self.producer_factory()
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

    def _on_ack(self, session: int, row_id: int, _metadata) -> None:
        self._acks.append((session, row_id, None))
        self._wake.set()

    def _on_error(self, session: int, row_id: int, exc: Exception) -> None:
        self._acks.append((session, row_id, exc))
        self._wake.set()

    # -- reading, sending, marking ---------------------------------------------------------
    def _next_rows(self, limit: int, buckets: frozenset[int] | None, skip: set[int]) -> list:
        """The lowest unsent rows (of ``buckets``) that are not in ``skip``, at most ``limit``,
        in id order: never a row above one of its key's unsent rows that is not in flight."""
        t = self.table
        ids_q = select(t.c.id).where(t.c.sent_at.is_(None))
        if buckets is not None:
            ids_q = ids_q.where(bucket_of(t.c.key).in_(sorted(buckets)))
        ids_q = ids_q.order_by(t.c.id).limit(limit + len(skip))
        with read_only(self.engine.connect()) as conn:  # SQLite: no write lock for a poll
            ids = [i for i in conn.execute(ids_q).scalars() if i not in skip][:limit]
            if not ids:
                return []
            return conn.execute(select(t.c.id, t.c.topic, t.c.key, t.c.value)
                                .where(t.c.id.in_(ids)).order_by(t.c.id)).all()

    def _send(self, rows: list) -> None:
        producer = self._get_producer()
        session = self._session
        for row in rows:
            try:
                future = producer.send(topic(row.topic, self.prefix), key=row.key.encode(), value=row.value.encode())
            except Exception as exc:
                raise RelayFailed(f"send failed: {exc!r}") from exc
            self._inflight.add(row.id)
            future.add_callback(self._on_ack, session, row.id)
            future.add_errback(self._on_error, session, row.id)

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
            return 0
        ids = self._to_mark
        t = self.table
        now = utcnow()
        with self.engine.begin() as conn:
            for start in range(0, len(ids), MARK_CHUNK):
                conn.execute(update(t).where(t.c.id.in_(ids[start:start + MARK_CHUNK])).values(sent_at=now))
        self._to_mark = []
        self.published += len(ids)
        metrics.RELAY_PUBLISHED.labels(self.service).inc(len(ids))
        return len(ids)
