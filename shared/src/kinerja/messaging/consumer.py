"""The consumer loop every service runs.

For each message: decode it (undecodable or invalid → ``<topic>.dlq`` with the reason in the
headers), then apply it and record its id in ``processed_events`` in one database transaction.
Offsets are committed to Kafka only after those transactions commit, so a crash re-delivers, and
the recorded id turns the re-delivery into a no-op. A database error stops the partition and
retries the same message with backoff; it is never skipped.

Batches (``batch_size`` > 1): the messages of one poll (at most ``batch_size``) are decoded (the
invalid ones dead-lettered as above), the ids already recorded dropped with one ``IN (...)``
query, and the rest applied and recorded in ONE transaction (``apply_batch(session, events)``,
or ``handle`` for each in turn when none is given); offsets are committed after it. Any error
in that transaction rolls it back and the same events go through the message-by-message path
above (retries, duplicates, DLQ), so a batch never loses or double-counts anything; it only
saves the per-message transaction when all is well.

Bounded: every ``trim_interval_s`` the loop deletes ``processed_events`` records older than
``processed_retention_s`` (7 days; why that is long enough: ``kinerja.messaging.outbox``), a
bounded amount at a time.

``between_polls`` (optional): work of the service's own that the loop does after each poll, once
its offsets are committed (or it found nothing): small bounded steps, e.g. penilaian's batches of a
policy recompute. It must not raise.

After a rebuild (``kinerja.messaging.replay``): ``replayed_table`` names the table in which a replay
recorded, per (topic, partition), the offset it applied up to. Every message below it is already in
the database's facts, so it counts as a duplicate before any decoding or transaction (read once,
when the loop meets its first message: a rebuild writes it before any consumer runs on its
database).

Two filters let a service pass over what it does not keep, neither applying nor recording it
(so it costs no transaction): ``skip(raw)`` before decoding (a message it is sure about from the
bytes) and ``wants(type)`` after (a message that is decoded, so dead-lettered when invalid).
"""
from __future__ import annotations

import logging
import signal
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Iterable

from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.errors import KafkaError
from kafka.structs import OffsetAndMetadata
from sqlalchemy import Table, insert, select
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from kinerja import metrics
from kinerja.events.envelope import Event, InvalidEvent, decode_event
from kinerja.heartbeat import Heartbeat
from kinerja.messaging.outbox import PROCESSED_RETENTION_S, trim_processed, utcnow
from kinerja.messaging.producer import check_native_codecs
from kinerja.messaging.topics import dlq

log = logging.getLogger(__name__)

Handler = Callable[[Session, Event], None]
BatchHandler = Callable[[Session, list[Event]], None]

def consumer_config(bootstrap: str, *, group_id: str | None, client_id: str = "kinerja-consumer",
                    max_poll_records: int = 500, **overrides) -> dict:
    """The KafkaConsumer settings of every consumer loop (``bench/kafka_ceiling.py`` reads with
    them too); ``overrides`` win."""
    config = dict(
        bootstrap_servers=bootstrap,
        group_id=group_id,
        client_id=client_id,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_poll_records=max_poll_records,
        session_timeout_ms=10000,
        heartbeat_interval_ms=3000,
        fetch_max_wait_ms=100,
        # notice new partitions (and topics created after start) within seconds, not minutes
        metadata_max_age_ms=10000,
        # as the producers: back within seconds of the broker's return (kafka-python's default
        # lets the reconnect backoff grow to 30 s, so scores stalled that long after an outage)
        reconnect_backoff_max_ms=2000,
    )
    config.update(overrides)
    return config


def stop_on_signals(stop: threading.Event, signals: Iterable[int] = (signal.SIGTERM, signal.SIGINT)) -> None:
    """SIGTERM/SIGINT ask the loop to finish the message in hand, commit, and close."""

    def _handler(signum, _frame):
        log.info("stop requested", extra={"signal": signum})
        stop.set()

    for sig in signals:
        signal.signal(sig, _handler)


@dataclass
class ConsumerStats:
    applied: int = 0
    duplicates: int = 0
    dead_lettered: int = 0
    retries: int = 0
    skipped: int = 0  # passed over by ``skip`` or ``wants``: neither applied nor recorded
    batches: int = 0  # batches applied in one transaction
    fallbacks: int = 0  # batches whose transaction failed, applied message by message instead
    by_type: dict[str, int] = field(default_factory=dict)


class IdempotentConsumer:
    def __init__(
        self,
        *,
        bootstrap: str,
        topics: list[str],
        group_id: str,
        session_factory: sessionmaker[Session],
        processed_table: Table,
        handle: Handler,
        producer_factory: Callable[[], KafkaProducer],
        client_id: str = "kinerja-consumer",
        max_poll_records: int = 500,
        handler_attempts: int = 3,
        consumer_overrides: dict | None = None,
        batch_size: int = 1,
        apply_batch: BatchHandler | None = None,
        skip: Callable[[bytes | None], bool] | None = None,
        wants: Callable[[str], bool] | None = None,
        decode: Callable[[bytes | None], Event] = decode_event,
        heartbeat: Callable[[], None] | None = None,
        processed_retention_s: float = PROCESSED_RETENTION_S,
        trim_interval_s: float | None = None,
        between_polls: Callable[[], None] | None = None,
        replayed_table: Table | None = None,
    ):
        self.bootstrap = bootstrap
        self.topics = topics
        self.group_id = group_id
        self.session_factory = session_factory
        self.processed = processed_table
        self.handle = handle
        self.producer_factory = producer_factory
        self.client_id = client_id
        self.max_poll_records = max_poll_records
        self.handler_attempts = handler_attempts
        self.consumer_overrides = consumer_overrides or {}
        self.batch_size = batch_size
        self.apply_batch = apply_batch
        self.skip = skip
        self.wants = wants
        self.decode = decode
        # called each time round the loop; by default the liveness file of KINERJA_HEARTBEAT_FILE
        # (kinerja.heartbeat: a consumer container's health check), nothing when that is unset
        self.heartbeat = heartbeat or Heartbeat.from_env().beat
        self.processed_retention_s = processed_retention_s
        # every minute, or a quarter of a short retention (soaks, tests)
        self.trim_interval_s = (trim_interval_s if trim_interval_s is not None
                                else min(60.0, max(1.0, processed_retention_s / 4)))
        self._trim_at = time.monotonic()  # the first trim a while after start, not during it
        self.trimmed = 0
        self.between_polls = between_polls
        self.replayed_table = replayed_table
        self._replayed: dict[tuple[str, int], int] | None = None
        self.stats = ConsumerStats()
        self._dlq_producer: KafkaProducer | None = None
        self.lag_interval_s = 5.0
        self._lag_at = 0.0
        self._lag_labels: set[tuple[str, str]] = set()

    @property
    def skipped(self) -> int:
        return self.stats.skipped

    @property
    def batches(self) -> int:
        return self.stats.batches

    @property
    def fallbacks(self) -> int:
        return self.stats.fallbacks

    # -- one message -------------------------------------------------------------------------
    def apply_once(self, event: Event, topic: str, partition: int, offset: int) -> bool:
        """Apply in one transaction with the processed-id record. False when already applied.
        An event ``wants`` turns down is done with at once: no transaction, no record."""
        if self.wants is not None and not self.wants(event.type):
            return True
        with self.session_factory() as session:
            with session.begin():
                seen = session.execute(
                    select(self.processed.c.event_id).where(self.processed.c.event_id == event.id)
                ).first()
                if seen:
                    return False
                self.handle(session, event)
                session.execute(
                    insert(self.processed).values(
                        event_id=event.id, topic=topic, partition=partition, offset=offset,
                        processed_at=utcnow(),
                    )
                )
        return True

    def _dead_letter(self, msg, reason: str) -> None:
        if self._dlq_producer is None:
            self._dlq_producer = self.producer_factory()
        headers = [
            ("error", reason.encode()[:4000]),
            ("original_topic", msg.topic.encode()),
            ("original_partition", str(msg.partition).encode()),
            ("original_offset", str(msg.offset).encode()),
            ("consumer_group", self.group_id.encode()),
        ]
        self._dlq_producer.send(dlq(msg.topic), key=msg.key, value=msg.value, headers=headers).get(timeout=30)
        self.stats.dead_lettered += 1
        metrics.DEAD_LETTERED.labels(self.group_id, msg.topic).inc()
        log.warning("message dead-lettered", extra={"topic": msg.topic, "offset": msg.offset, "reason": reason})

    def _decoded(self, msg) -> Event | None:
        """The message's event, or None when it is done with already: skipped (``skip`` or
        ``wants``) or dead-lettered (undecodable, invalid)."""
        if self.replayed_table is not None and msg.offset < self._replayed_below().get((msg.topic, msg.partition), 0):
            self.stats.duplicates += 1
            metrics.DUPLICATES.labels(self.group_id, msg.topic).inc()
            return None
        if self.skip is not None and self.skip(msg.value):
            self.stats.skipped += 1
            return None
        try:
            event = self.decode(msg.value)
        except InvalidEvent as exc:
            self._dead_letter(msg, str(exc))
            return None
        if self.wants is not None and not self.wants(event.type):
            self.stats.skipped += 1
            return None
        return event

    def _replayed_below(self) -> dict[tuple[str, int], int]:
        if self._replayed is None:
            from kinerja.messaging.replay import replayed_below

            with self.session_factory() as session:
                self._replayed = replayed_below(session, self.replayed_table)
        return self._replayed

    def _count_applied(self, event: Event, msg_topic: str) -> None:
        self.stats.applied += 1
        self.stats.by_type[event.type] = self.stats.by_type.get(event.type, 0) + 1
        metrics.EVENTS_APPLIED.labels(self.group_id, msg_topic, event.type).inc()

    def process_message(self, msg, stop: threading.Event) -> bool:
        """True when the message is done with (applied, duplicate, skipped or dead-lettered)."""
        event = self._decoded(msg)
        if event is None:
            return True
        return self._apply_with_retries(event, msg, stop)

    def _apply_with_retries(self, event: Event, msg, stop: threading.Event) -> bool:
        """One decoded event in its own transaction; True when done with, False when ``stop``
        came while the database was away (the message is then not done)."""
        failures = 0
        backoff = 0.1
        while not stop.is_set():
            try:
                if self.apply_once(event, msg.topic, msg.partition, msg.offset):
                    self._count_applied(event, msg.topic)
                    log.debug("event applied", extra={"event_id": event.id, "type": event.type})
                else:
                    self.stats.duplicates += 1
                    metrics.DUPLICATES.labels(self.group_id, msg.topic).inc()
                return True
            except InvalidEvent as exc:
                self._dead_letter(msg, str(exc))
                return True
            except IntegrityError as exc:
                # another consumer recorded the same id between our check and insert
                if self._already_processed(event.id):
                    self.stats.duplicates += 1
                    metrics.DUPLICATES.labels(self.group_id, msg.topic).inc()
                    return True
                failures += 1
                if failures >= self.handler_attempts:
                    self._dead_letter(msg, f"integrity error: {exc.orig!r}")
                    return True
            except (OperationalError, DBAPIError) as exc:
                # the database is away: never skip; wait and try the same message again
                self.stats.retries += 1
                metrics.DB_RETRIES.labels(self.group_id).inc()
                log.warning("database unavailable; retrying", extra={"event_id": event.id, "error": repr(exc)[:300]})
                stop.wait(backoff)
                backoff = min(backoff * 2, 5.0)
            except Exception as exc:  # noqa: BLE001 - a handler bug must not stall the partition forever
                failures += 1
                log.exception("handler failed", extra={"event_id": event.id, "type": event.type})
                if failures >= self.handler_attempts:
                    self._dead_letter(msg, f"handler error: {exc!r}")
                    return True
        return False

    # -- one poll in one transaction ---------------------------------------------------------
    def process_batch(self, msgs: list, stop: threading.Event) -> bool:
        """Apply ``msgs`` (one poll's worth) in one transaction; True when all are done with."""
        return self._process_batch(msgs, stop) == len(msgs)

    def _process_batch(self, msgs: list, stop: threading.Event) -> int:
        """How many of ``msgs``, from the first, are done with (all of them unless ``stop``
        came while the fallback waited for the database)."""
        events: list[tuple[int, Event, object]] = []
        for i, msg in enumerate(msgs):
            event = self._decoded(msg)
            if event is not None:
                events.append((i, event, msg))
        if not events:
            return len(msgs)
        try:
            fresh, duplicates = self._apply_batch_once(events)
        except Exception:  # noqa: BLE001 - the careful path decides: retry, duplicate or DLQ
            log.warning("batch failed; applying its messages one by one",
                        extra={"messages": len(events)}, exc_info=True)
            self.stats.fallbacks += 1
            for i, event, msg in events:
                if not self._apply_with_retries(event, msg, stop):
                    return i
            return len(msgs)
        self.stats.batches += 1
        for event, msg in fresh:
            self.stats.applied += 1
            self.stats.by_type[event.type] = self.stats.by_type.get(event.type, 0) + 1
        applied: dict[tuple[str, str], int] = {}
        for event, msg in fresh:
            applied[(msg.topic, event.type)] = applied.get((msg.topic, event.type), 0) + 1
        for (msg_topic, event_type), n in applied.items():
            metrics.EVENTS_APPLIED.labels(self.group_id, msg_topic, event_type).inc(n)
        for msg in duplicates:
            self.stats.duplicates += 1
            metrics.DUPLICATES.labels(self.group_id, msg.topic).inc()
        return len(msgs)

    def _apply_batch_once(self, events: list[tuple[int, Event, object]]) -> tuple[list[tuple[Event, object]], list]:
        """One transaction: drop the ids already recorded (and repeats within the batch), apply
        the rest, record their ids. Returns (applied, duplicate messages); raises on any error,
        having rolled back."""
        with self.session_factory() as session, session.begin():
            ids = list({event.id for _, event, _ in events})
            seen: set[str] = set()
            for start in range(0, len(ids), 500):
                seen.update(session.execute(select(self.processed.c.event_id).where(
                    self.processed.c.event_id.in_(ids[start:start + 500]))).scalars())
            fresh: list[tuple[Event, object]] = []
            duplicates: list = []
            rows: list[dict] = []
            now = utcnow()
            for _, event, msg in events:
                if event.id in seen:
                    duplicates.append(msg)
                    continue
                seen.add(event.id)
                fresh.append((event, msg))
                rows.append({"event_id": event.id, "topic": msg.topic, "partition": msg.partition,
                             "offset": msg.offset, "processed_at": now})
            if fresh:
                if self.apply_batch is not None:
                    self.apply_batch(session, [event for event, _ in fresh])
                else:
                    for event, _ in fresh:
                        self.handle(session, event)
                # in id order: two consumers handed the same events (a rebalance) wait on each
                # other's records in one order, never in a cycle
                session.execute(insert(self.processed), sorted(rows, key=lambda r: r["event_id"]))
        return fresh, duplicates

    def _already_processed(self, event_id: str) -> bool:
        with self.session_factory() as session:
            return session.execute(
                select(self.processed.c.event_id).where(self.processed.c.event_id == event_id)
            ).first() is not None

    def report_lag(self, consumer: KafkaConsumer, force: bool = False) -> None:
        """At most every ``lag_interval_s``: log end offset minus position per assigned partition
        (the ``kinerja_consumer_lag`` gauge). Never raises: lag is a signal, not part of the work."""
        now = time.monotonic()
        if not force and now - self._lag_at < self.lag_interval_s:
            return
        self._lag_at = now
        try:
            assigned = list(consumer.assignment())
            ends = consumer.end_offsets(assigned, timeout_ms=2000) if assigned else {}
            seen: set[tuple[str, str]] = set()
            for tp in assigned:
                end = ends.get(tp)
                if end is None:
                    continue
                lag = max(0, end - consumer.position(tp, timeout_ms=2000))
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

    # -- the loop ----------------------------------------------------------------------------
    def _make_consumer(self, stop: threading.Event) -> KafkaConsumer:
        check_native_codecs()
        config = consumer_config(self.bootstrap, group_id=self.group_id, client_id=self.client_id,
                                 max_poll_records=self.max_poll_records)
        config.update(self.consumer_overrides)
        consumer = KafkaConsumer(**config)
        # Join the group only once the metadata of every topic is known: a member that joins
        # earlier is assigned nothing for the missing topics and waits for the next rebalance.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not stop.is_set():
            missing = [t for t in self.topics if not consumer.partitions_for_topic(t)]
            if not missing:
                break
            log.info("waiting for topic metadata", extra={"topics": missing})
            stop.wait(0.2)
        consumer.subscribe(self.topics)
        return consumer

    def run(self, stop: threading.Event, on_idle: Callable[[], None] | None = None) -> ConsumerStats:
        batched = self.batch_size > 1
        consumer = None
        backoff = 0.5
        while not stop.is_set():
            self.heartbeat()
            try:
                if consumer is None:
                    consumer = self._make_consumer(stop)
                    backoff = 0.5
                if batched:
                    records = consumer.poll(timeout_ms=200, max_records=self.batch_size)
                else:
                    records = consumer.poll(timeout_ms=200)
                self.report_lag(consumer)
                self.trim()
                if not records:
                    if on_idle:
                        on_idle()
                    if self.between_polls:
                        self.between_polls()
                    continue
                msgs = [msg for messages in records.values() for msg in messages]
                if batched:
                    done_with = self._process_batch(msgs, stop)
                else:
                    done_with = 0
                    for msg in msgs:
                        if not self.process_message(msg, stop):
                            break
                        done_with += 1
                # only now, after the database commits: the offsets past what is done with
                done: dict[TopicPartition, OffsetAndMetadata] = {}
                for msg in msgs[:done_with]:
                    done[TopicPartition(msg.topic, msg.partition)] = OffsetAndMetadata(msg.offset + 1, "", -1)
                if done:
                    consumer.commit(done)
                if done_with < len(msgs):
                    break
                if self.between_polls:
                    self.between_polls()
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
                                            "skipped": self.stats.skipped, "batches": self.stats.batches,
                                            "fallbacks": self.stats.fallbacks})
        return self.stats
