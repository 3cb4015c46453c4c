"""The outbox relay: publishes unsent outbox rows with the idempotent producer (``acks=all``) and
marks them sent only after the broker acknowledged them.

Streaming. The relay keeps sending while earlier sends wait for their acks (up to
``max_in_flight`` rows), and marks the acknowledged rows sent by id, in bulk, once per round.
Killed between publishing and marking, it leaves those rows unsent and they are published again
(by the next relay to hold them): consumers drop the duplicates by event id. With Kafka down the
sends wait (the relay's producer never gives a record up, see ``RELAY_PRODUCER``), then drain
in order when it returns; nothing is lost or reordered.

Several relays at once (``claims.py``): rows are spread over buckets by a hash of their key and
each bucket is held by one relay, so every row is published once and the work is shared. On
PostgreSQL the relays hold buckets with advisory locks; on SQLite one relay is the claimer and
the others stand by.

Why one key's events stay in order, with any number of relays. Each round a relay reads the
lowest unsent ids of its buckets, leaves out the ones it has in flight, and sends the rest in id
order; it never skips a row because another relay is busy with it (that is what a plain
``SKIP LOCKED`` claim does, and it lets a second relay publish a key's next event before the
first relay's earlier one). Take two rows r < s of one key, r committed before s (one key's
writes are serialised by the service's locks). When s is first sent, by relay X: if r was
already marked sent, it was acknowledged, so it is on the topic before s; if r was in X's
flight, X sent it earlier on the same partition, and the idempotent producer appends a
partition's records in the order sent; otherwise r was unsent and not in X's flight, so X's read
found it too, before s, and sends it first. The first copy of each event is therefore on the
topic in key order; later copies (re-sends after a crash) are duplicates that consumers drop.
Rows of concurrent transactions are published in the order they became visible.

A send that fails ends the producer at once (its sender thread too: records it still held must
not follow), rows still in flight are read and sent again from the lowest unsent, after a
backoff. Kafka can only append a later record of a partition after a failed earlier one when
the producer resets its id (a record expired, or the broker lost producer state); the relay's
producer never expires records, so only the broker losing data can cause that.

Woken when there is work: on PostgreSQL a trigger sends ``NOTIFY kinerja_outbox`` with every
insert (see ``outbox.py``) and a listener thread wakes the loop; the loop still looks every
``notify_poll_s`` (a missed notification, a table without the trigger) and, on SQLite, every
``idle_interval_s``. The housekeeping relay (one per outbox) deletes rows sent longer ago than
``retention_s``, in chunks.
"""
from __future__ import annotations

import logging
import threading
import time
from collections import deque
from datetime import timezone
from typing import Callable

from kafka import KafkaProducer
from kafka.errors import KafkaError
from sqlalchemy import Engine, Table, func, select, update

from kinerja import metrics
from kinerja.messaging.claims import Claims, bucket_of, claims_for
from kinerja.messaging.outbox import NOTIFY_CHANNEL, OUTBOX_RETENTION_S, trim_sent, utcnow
from kinerja.messaging.topics import topic
from kinerja.wakeup import PgListener

log = logging.getLogger(__name__)

# the relay's producer waits for the broker as long as it takes instead of expiring records
# after 30 s: an expired record makes kafka-python reset the producer id, after which later
# records of the same partition could be appended before the expired one is sent again
RELAY_PRODUCER = {"delivery_timeout_ms": 2**31 - 1}
MARK_CHUNK = 900  # ids per UPDATE (SQLite allows 999 variables before 3.32)


class RelayFailed(KafkaError):
    """A send failed; the producer session is ended and its unmarked rows will be sent again."""


def close_producer_now(producer: KafkaProducer) -> None:
    """Close without waiting, and make sure the sender thread is gone: ``close(0)`` raises before
    it stops the sender when records are pending, which would leave it sending them later."""
    try:
        producer.close(timeout=0)
    except Exception:  # noqa: BLE001 - pending records: stop the sender below
        sender = getattr(producer, "_sender", None)
        if sender is not None:
            sender.force_close()
            sender.join(5)
        try:
            producer.close(timeout=0)
        except Exception:  # noqa: BLE001 - nothing is sending any more; that is what counts
            pass


class OutboxRelay:
    def __init__(
        self,
        engine: Engine,
        table: Table,
        producer_factory: Callable[[], KafkaProducer],
        *,
        prefix: str = "",
        batch_size: int = 500,
        max_in_flight: int = 5000,
        idle_interval_s: float = 0.05,
        notify_poll_s: float = 0.5,
        max_backoff_s: float = 5.0,
        service: str = "",
        depth_interval_s: float = 2.0,
        retention_s: float = OUTBOX_RETENTION_S,
        trim_interval_s: float | None = None,
        claim_refresh_s: float = 1.0,
        stop_drain_s: float = 10.0,
        listen: bool = True,
        claims: Claims | None = None,
    ):
        self.engine = engine
        self.table = table
        self.producer_factory = producer_factory
        self.prefix = prefix
        self.batch_size = batch_size
        self.max_in_flight = max(max_in_flight, batch_size)
        self.idle_interval_s = idle_interval_s
        self.notify_poll_s = notify_poll_s
        self.max_backoff_s = max_backoff_s
        self.service = service or table.name
        self.depth_interval_s = depth_interval_s
        self.retention_s = retention_s
        # every 10 s, or a quarter of a short retention (soaks, tests)
        self.trim_interval_s = trim_interval_s if trim_interval_s is not None else min(10.0, max(1.0, retention_s / 4))
        self.claim_refresh_s = claim_refresh_s
        self.stop_drain_s = stop_drain_s
        self.listen = listen and engine.dialect.name == "postgresql"
        self._claims = claims
        self._producer: KafkaProducer | None = None
        self.published = 0  # rows marked sent by this relay
        self.trimmed = 0
        self.waits = 0  # times the loop waited for work (tests tell an idle relay by it)
        self._depth_at = 0.0
        self._trim_at = 0.0
        # the pipeline: ids sent by the current producer session and not yet acknowledged; acks
        # arrive on the producer's thread as (session, id, error) and are collected by the loop
        self._session = 0
        self._inflight: set[int] = set()
        self._acks: deque[tuple[int, int, Exception | None]] = deque()
        self._to_mark: list[int] = []
        self._wake = threading.Event()
        self._listener: PgListener | None = None

    # -- the producer ----------------------------------------------------------------------
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
        with self.engine.connect() as conn:
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

    # -- one round -------------------------------------------------------------------------
    def step(self) -> int:
        """Collect acks, mark them, refresh the claims, send the next rows if the pipeline has
        room. Returns how many rows were sent (0: nothing to do now). Raises on a failed send
        (the session is already ended) and on database errors (nothing is lost: acknowledged ids
        stay to be marked, unmarked rows are sent again)."""
        error = self._collect_acks()
        if error is not None:
            self._drop_producer()
            self._mark()
            raise RelayFailed(f"a send failed: {error!r}")
        self._mark()
        claims = self.claims
        claims.refresh(idle=not self._inflight and not self._to_mark)
        room = self.max_in_flight - len(self._inflight)
        if claims.paused or claims.buckets == frozenset() or room <= 0:
            return 0
        rows = self._next_rows(min(self.batch_size, room), claims.buckets, self._inflight)
        if rows:
            self._send(rows)
        return len(rows)

    @property
    def claims(self) -> Claims:
        if self._claims is None:
            self._claims = claims_for(self.engine, self.table.name, service=self.service,
                                      refresh_s=self.claim_refresh_s)
        return self._claims

    def publish_batch(self, timeout_s: float = 30.0) -> int:
        """Publish up to one batch and wait until it is acknowledged and marked; returns how
        many rows were marked (0 when nothing was pending). For tools and tests: it takes no
        claims (a relay running elsewhere may publish the same rows too, never out of order)."""
        self._collect_acks()
        self._mark()
        rows = self._next_rows(self.batch_size, None, self._inflight)
        if not rows:
            return 0
        self._send(rows)
        try:
            self._get_producer().flush(timeout=timeout_s)
        except KafkaError:
            self._drop_producer()
            raise
        error = self._collect_acks()
        if error is not None or self._inflight:
            self._drop_producer()
            self._mark()
            raise RelayFailed(f"batch not acknowledged: {error!r}")
        return self._mark()

    def pending(self) -> int:
        with self.engine.connect() as conn:
            return conn.execute(
                select(func.count()).select_from(self.table).where(self.table.c.sent_at.is_(None))
            ).scalar_one()

    def report_depth(self, force: bool = False) -> None:
        """At most every ``depth_interval_s``: unsent rows and the age of the oldest one (gauges)."""
        now = time.monotonic()
        if not force and now - self._depth_at < self.depth_interval_s:
            return
        self._depth_at = now
        t = self.table
        try:
            with self.engine.connect() as conn:
                pending, oldest = conn.execute(
                    select(func.count(), func.min(t.c.created_at)).select_from(t).where(t.c.sent_at.is_(None))
                ).one()
        except Exception as exc:  # noqa: BLE001 - the run loop reports the database being away
            log.debug("outbox depth not measured", extra={"error": repr(exc)[:300]})
            return
        age = 0.0
        if oldest is not None:
            if oldest.tzinfo is None:
                oldest = oldest.replace(tzinfo=timezone.utc)
            age = max(0.0, (utcnow() - oldest).total_seconds())
        metrics.OUTBOX_PENDING.labels(self.service).set(pending)
        metrics.OUTBOX_OLDEST_AGE.labels(self.service).set(age)
        metrics.RELAY_IN_FLIGHT.labels(self.service).set(len(self._inflight))

    def trim(self, force: bool = False) -> int:
        """The housekeeping relay, at most every ``trim_interval_s``: delete rows sent more than
        ``retention_s`` ago (a bounded amount per call)."""
        now = time.monotonic()
        if not force and (now - self._trim_at < self.trim_interval_s or not self.claims.leader):
            return 0
        self._trim_at = now
        n = trim_sent(self.engine, self.table, self.retention_s)
        if n:
            self.trimmed += n
            metrics.OUTBOX_TRIMMED.labels(self.service).inc(n)
            log.info("sent outbox rows deleted", extra={"rows": n, "retention_s": self.retention_s})
        return n

    # -- the loop --------------------------------------------------------------------------
    def _wait(self, stop: threading.Event) -> None:
        """Until an ack, a notification or the poll interval; a stop is noticed within 0.25 s."""
        self.waits += 1
        if self._inflight:
            timeout = 0.1  # an ack sets the event
        elif self._listener is not None and self._listener.connected.is_set():
            timeout = self.notify_poll_s
        else:
            timeout = self.idle_interval_s
        deadline = time.monotonic() + timeout
        while not stop.is_set():
            left = deadline - time.monotonic()
            if left <= 0 or self._wake.wait(min(left, 0.25)):
                return

    def run(self, stop: threading.Event) -> None:
        if self.listen:
            self._listener = PgListener(self.engine, self._wake, NOTIFY_CHANNEL).start()
        backoff = 0.2
        try:
            while not stop.is_set():
                self._wake.clear()
                try:
                    sent = self.step()
                    backoff = 0.2
                    self.report_depth()
                    self.trim()
                    if sent == 0:
                        self._wait(stop)
                except KafkaError as exc:
                    log.warning("relay cannot publish; will retry", extra={"error": repr(exc)[:300],
                                                                          "backoff_s": backoff})
                    self._drop_producer()
                    stop.wait(backoff)
                    backoff = min(backoff * 2, self.max_backoff_s)
                except Exception as exc:  # database away: acks are kept, unmarked rows go again
                    log.warning("relay error; will retry", extra={"error": repr(exc)[:300], "backoff_s": backoff})
                    stop.wait(backoff)
                    backoff = min(backoff * 2, self.max_backoff_s)
        finally:
            self._finish()

    def _finish(self) -> None:
        """On stop: let what is in flight be acknowledged (up to ``stop_drain_s``) and mark it,
        so the next relay sends little twice; then give everything up."""
        deadline = time.monotonic() + self.stop_drain_s
        try:
            while self._inflight and time.monotonic() < deadline and self._producer is not None:
                self._wake.clear()
                if self._collect_acks() is not None:
                    break
                self._wake.wait(0.1)
            self._collect_acks()
            self._mark()
        except Exception as exc:  # noqa: BLE001 - unmarked rows are sent again by the next relay
            log.warning("relay stopped with rows unmarked", extra={"error": repr(exc)[:300]})
        finally:
            if self._producer is not None:
                close_producer_now(self._producer)
                self._producer = None
            if self._listener is not None:
                self._listener.close()
                self._listener = None
            if self._claims is not None:
                self._claims.close()
