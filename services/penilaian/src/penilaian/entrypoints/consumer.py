"""penilaian's consumer process: facts from attendance, tasks and the roster → live scores; and
the facts penilaian itself published on ``penilaian.v1`` (ratings, training, dialogs, policy,
the organisation's predikat), so that a consumer starting from an empty database restores them.
Its own score updates on ``penilaian.v1`` are skipped before any database work."""
from __future__ import annotations

import json
import logging
import os
import re
import threading
from typing import Callable

from kafka.errors import KafkaError
from kafka.structs import OffsetAndMetadata
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from kinerja import metrics
from kinerja.events.envelope import Event, InvalidEvent
from kinerja.events.kehadiran import DISCIPLINE_ALERT, PUNCH_RECORDED
from kinerja.events.penilaian import SCORE_UPDATED
from kinerja.events.tugas import FEEDBACK_POSTED, SKP_APPROVED
from kinerja.logging import configure_logging
from kinerja.messaging import topics
from kinerja.messaging.consumer import IdempotentConsumer, stop_on_signals
from kinerja.messaging.outbox import utcnow
from kinerja.messaging.topics import topic
from kinerja.runtime import ServiceRuntime
from penilaian.entrypoints.decoding import decode
from penilaian.entrypoints.runtime import make_runtime
from penilaian.service_layer.scoring import apply_batch, apply_event

log = logging.getLogger(__name__)

TOPICS = (topics.KEHADIRAN, topics.TUGAS, topics.PEGAWAI, topics.PENILAIAN)
# types on those topics that bear on nothing penilaian keeps: its own score updates, punches (the
# day summaries carry their ids), discipline alerts, SKP approvals, feedback
SKIPPED_TYPES = frozenset({SCORE_UPDATED, PUNCH_RECORDED, DISCIPLINE_ALERT, SKP_APPROVED, FEEDBACK_POSTED})
_TYPE = re.compile(rb'"type"\s*:\s*"([^"]{1,200})"')


def skippable(raw: bytes | None) -> bool:
    """A message penilaian need not apply (see ``SKIPPED_TYPES``), decided from the envelope's
    ``type`` alone, without the schema or a transaction; skipping one changes nothing penilaian
    keeps, so it is idempotent without recording its id. Anything else, undecodable messages
    included, takes the usual path (and the DLQ when invalid). The envelope's first ``"type"`` is
    the event's: a producer writes ``id``, ``type`` ... before ``data``; when in doubt, the JSON decides."""
    if not raw:
        return False
    m = _TYPE.search(raw)
    if m is None or m.group(1).decode(errors="replace") not in SKIPPED_TYPES:
        return False
    try:
        return json.loads(raw).get("type") in SKIPPED_TYPES
    except (ValueError, AttributeError):
        return False


class PenilaianConsumer(IdempotentConsumer):
    """The shared idempotent consumer, plus: penilaian's own score updates are skipped before any
    database work; and with ``batch_size`` > 1 the messages of one poll are applied in one
    transaction (facts stored one by one, each affected ASN recomputed once, the ids recorded),
    offsets committed after. Any error in a batch falls back to the message-by-message path with
    its retries and dead-lettering, so a batch never loses or double-counts anything."""

    def __init__(self, *args, tz: str = "Asia/Jakarta", outbox=None, batch_size: int = 1, **kw):
        super().__init__(*args, **kw)
        self.tz, self.outbox, self.batch_size = tz, outbox, batch_size
        self.skipped = 0
        self.batches = 0
        self.fallbacks = 0

    def process_message(self, msg, stop: threading.Event) -> bool:
        if skippable(msg.value):
            self.skipped += 1
            return True
        return super().process_message(msg, stop)

    def process_batch(self, msgs: list, stop: threading.Event) -> bool:
        """Apply ``msgs`` (one poll's worth); True when all are done with."""
        events: list[tuple[Event, object]] = []
        for msg in msgs:
            if skippable(msg.value):
                self.skipped += 1
                continue
            try:
                events.append((decode(msg.value), msg))
            except InvalidEvent as exc:
                self._dead_letter(msg, str(exc))
        if not events:
            return True
        try:
            with self.session_factory() as session, session.begin():
                ids = list({e.id for e, _ in events})
                seen: set[str] = set()
                for i in range(0, len(ids), 500):
                    seen.update(session.execute(select(self.processed.c.event_id).where(
                        self.processed.c.event_id.in_(ids[i:i + 500]))).scalars())
                fresh, rows = [], []
                for event, msg in events:
                    if event.id in seen:
                        self.stats.duplicates += 1
                        metrics.DUPLICATES.labels(self.group_id, msg.topic).inc()
                        continue
                    seen.add(event.id)
                    fresh.append(event)
                    rows.append({"event_id": event.id, "topic": msg.topic, "partition": msg.partition,
                                 "offset": msg.offset, "processed_at": utcnow()})
                apply_batch(session, self.outbox, fresh, tz=self.tz)
                if rows:
                    session.execute(insert(self.processed), rows)
        except Exception:  # noqa: BLE001 - the careful path decides: retry, duplicate or DLQ
            log.warning("batch failed; applying its messages one by one", exc_info=True)
            self.fallbacks += 1
            return all(self.process_message(msg, stop) for _, msg in events)
        self.batches += 1
        for event in fresh:
            self.stats.applied += 1
            self.stats.by_type[event.type] = self.stats.by_type.get(event.type, 0) + 1
        for (msg_topic, event_type), n in _count_applied(events, fresh).items():
            metrics.EVENTS_APPLIED.labels(self.group_id, msg_topic, event_type).inc(n)
        return True

    def run(self, stop: threading.Event, on_idle: Callable[[], None] | None = None):
        if self.batch_size <= 1:
            return super().run(stop, on_idle=on_idle)
        consumer = None
        backoff = 0.5
        while not stop.is_set():
            try:
                if consumer is None:
                    consumer = self._make_consumer(stop)
                    backoff = 0.5
                records = consumer.poll(timeout_ms=200, max_records=self.batch_size)
                self.report_lag(consumer)
                if not records:
                    if on_idle:
                        on_idle()
                    continue
                msgs = [m for ms in records.values() for m in ms]
                if not self.process_batch(msgs, stop):
                    break
                consumer.commit({tp: OffsetAndMetadata(ms[-1].offset + 1, "", -1) for tp, ms in records.items()})
            except KafkaError as exc:
                log.warning("kafka unavailable; reconnecting", extra={"error": repr(exc), "backoff_s": backoff})
                if consumer is not None:
                    try:
                        consumer.close(autocommit=False)
                    except Exception:  # noqa: BLE001
                        pass
                    consumer = None
                stop.wait(backoff)
                backoff = min(backoff * 2, 5.0)
        if consumer is not None:
            consumer.close(autocommit=False)
        if self._dlq_producer is not None:
            self._dlq_producer.close(timeout=5)
        log.info("consumer stopped", extra={"applied": self.stats.applied, "duplicates": self.stats.duplicates,
                                            "batches": self.batches, "fallbacks": self.fallbacks})
        return self.stats


def _count_applied(events, fresh) -> dict[tuple[str, str], int]:
    """Applied events per (topic, type), for the same counter the shared consumer keeps."""
    ids = {e.id for e in fresh}
    out: dict[tuple[str, str], int] = {}
    for event, msg in events:
        if event.id in ids:
            out[(msg.topic, event.type)] = out.get((msg.topic, event.type), 0) + 1
            ids.discard(event.id)
    return out


def make_handler(runtime: ServiceRuntime) -> Callable[[Session, Event], None]:
    def handle(session: Session, event: Event) -> None:
        apply_event(session, runtime.outbox, event, tz=runtime.settings.timezone)

    return handle


def make_consumer(runtime: ServiceRuntime, group_id: str | None = None, **kw) -> PenilaianConsumer:
    settings = runtime.settings
    return PenilaianConsumer(
        bootstrap=settings.kafka_bootstrap,
        topics=[topic(t, settings.topic_prefix) for t in TOPICS],
        group_id=group_id or topic(settings.consumer_group, settings.topic_prefix),
        session_factory=runtime.session_factory,
        processed_table=runtime.processed_table,
        handle=make_handler(runtime),
        producer_factory=lambda: runtime.producer("dlq"),
        client_id=f"{runtime.service}-consumer",
        tz=settings.timezone,
        outbox=runtime.outbox,
        **kw,
    )


def main() -> None:
    runtime = make_runtime()
    configure_logging(f"{runtime.service}-consumer")
    stop = threading.Event()
    stop_on_signals(stop)
    metrics.serve_process_metrics(runtime.service, "consumer")
    batch = int(os.environ.get("PENILAIAN_APPLY_BATCH", "200"))
    make_consumer(runtime, batch_size=batch, max_poll_records=max(batch, 500)).run(stop)


if __name__ == "__main__":
    main()
