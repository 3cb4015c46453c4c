"""The outbox relay: publishes unsent outbox rows with the idempotent producer, in id order, and
marks them sent only after the broker acknowledged them (acks=all).

Killed between publishing and marking, it publishes those rows again on restart: consumers drop
the duplicates by event id. With Kafka down it waits and retries; nothing is lost or reordered.
"""
from __future__ import annotations

import logging
import threading
import time
from datetime import timezone
from typing import Callable

from kafka import KafkaProducer
from kafka.errors import KafkaError
from sqlalchemy import Engine, Table, func, select, update

from kinerja import metrics
from kinerja.messaging.outbox import utcnow
from kinerja.messaging.topics import topic

log = logging.getLogger(__name__)


class OutboxRelay:
    def __init__(
        self,
        engine: Engine,
        table: Table,
        producer_factory: Callable[[], KafkaProducer],
        *,
        prefix: str = "",
        batch_size: int = 500,
        idle_interval_s: float = 0.05,
        max_backoff_s: float = 5.0,
        service: str = "",
        depth_interval_s: float = 2.0,
    ):
        self.engine = engine
        self.table = table
        self.producer_factory = producer_factory
        self.prefix = prefix
        self.batch_size = batch_size
        self.idle_interval_s = idle_interval_s
        self.max_backoff_s = max_backoff_s
        self._producer: KafkaProducer | None = None
        self.published = 0
        self.service = service or table.name
        self.depth_interval_s = depth_interval_s
        self._depth_at = 0.0

    def _get_producer(self) -> KafkaProducer:
        if self._producer is None:
            self._producer = self.producer_factory()
        return self._producer

    def _drop_producer(self) -> None:
        if self._producer is not None:
            try:
                self._producer.close(timeout=1)
            except Exception:  # noqa: BLE001 - it is already broken; we only free it
                pass
            self._producer = None

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

    def publish_batch(self) -> int:
        """Publish one batch; returns how many rows were marked sent (0 when idle)."""
        t = self.table
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(t.c.id, t.c.topic, t.c.key, t.c.value)
                .where(t.c.sent_at.is_(None))
                .order_by(t.c.id)
                .limit(self.batch_size)
            ).all()
        if not rows:
            return 0
        producer = self._get_producer()
        futures = [
            (row.id, producer.send(topic(row.topic, self.prefix), key=row.key.encode(), value=row.value.encode()))
            for row in rows
        ]
        producer.flush(timeout=30)
        # any failed send raises here and nothing of the batch is marked: it is sent again whole
        sent_ids = [row_id for row_id, fut in futures if fut.get(timeout=30) is not None]
        with self.engine.begin() as conn:
            conn.execute(update(t).where(t.c.id.in_(sent_ids)).values(sent_at=utcnow()))
        self.published += len(sent_ids)
        metrics.RELAY_PUBLISHED.labels(self.service).inc(len(sent_ids))
        return len(sent_ids)

    def run(self, stop: threading.Event) -> None:
        backoff = 0.2
        while not stop.is_set():
            self.report_depth()
            try:
                n = self.publish_batch()
                backoff = 0.2
                if n == 0:
                    stop.wait(self.idle_interval_s)
            except KafkaError as exc:
                log.warning("relay cannot publish; will retry", extra={"error": repr(exc), "backoff_s": backoff})
                self._drop_producer()
                stop.wait(backoff)
                backoff = min(backoff * 2, self.max_backoff_s)
            except Exception as exc:  # database away: same treatment, nothing was marked
                log.warning("relay error; will retry", extra={"error": repr(exc), "backoff_s": backoff})
                stop.wait(backoff)
                backoff = min(backoff * 2, self.max_backoff_s)
        self._drop_producer()
