"""A consumer's housekeeping between polls: its lag as a gauge, and old ``processed_events``
records deleted after their retention."""
from __future__ import annotations

import logging
import time

from kafka import KafkaConsumer

from kinerja import metrics
from kinerja.messaging.consumer.config import FETCH_HELD_BELOW_MS
from kinerja.messaging.outbox import trim_processed

log = logging.getLogger("kinerja.messaging.consumer")


class ConsumerUpkeep:
    """Part of :class:`IdempotentConsumer` (its ``__init__`` sets the intervals and counters used here)."""

    def report_lag(self, consumer: KafkaConsumer, force: bool = False) -> None:
        """At most every ``lag_interval_s``: log end offset minus position per assigned partition
        (the ``kinerja_consumer_lag`` gauge). Never raises: lag is a signal, not part of the work."""
        now = time.monotonic()
        if not force and now - self._lag_at < self.lag_interval_s:
            return
        self._lag_at = now
        try:
            assigned = list(consumer.assignment())
            ends = consumer.end_offsets(assigned, timeout_ms=FETCH_HELD_BELOW_MS) if assigned else {}
            seen: set[tuple[str, str]] = set()
            for tp in assigned:
                end = ends.get(tp)
                if end is None:
                    continue
                lag = max(0, end - consumer.position(tp, timeout_ms=FETCH_HELD_BELOW_MS))
                metrics.CONSUMER_LAG.labels(self.group_id, tp.topic, str(tp.partition)).set(lag)
                seen.add((tp.topic, str(tp.partition)))
            for gone in self._lag_labels - seen:  # revoked by a rebalance: another member reports it
                metrics.CONSUMER_LAG.remove(self.group_id, *gone)
            self._lag_labels = seen
        except Exception as exc:  # noqa: BLE001
            log.debug("consumer lag not measured", extra={"error": repr(exc)[:300]})

    def trim(self, force: bool = False) -> int:
        """At most every ``trim_interval_s``: delete records processed more than
        ``processed_retention_s`` ago (a bounded amount per call; never raises)."""
        now = time.monotonic()
        if not force and now - self._trim_at < self.trim_interval_s:
            return 0
        self._trim_at = now
        try:
            n = trim_processed(self.session_factory.kw["bind"], self.processed, self.processed_retention_s)
        except Exception as exc:  # noqa: BLE001 - trimming is housekeeping; the next round tries again
            log.warning("processed_events not trimmed", extra={"error": repr(exc)[:300]})
            return 0
        if n:
            self.trimmed += n
            metrics.PROCESSED_TRIMMED.labels(self.group_id).inc(n)
            log.info("old processed_events deleted", extra={"rows": n, "retention_s": self.processed_retention_s})
        return n
