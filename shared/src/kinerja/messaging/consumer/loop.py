"""``IdempotentConsumer``: its settings and the poll loop that commits offsets only after the
database did (the module docstring of ``kinerja.messaging.consumer`` says how). Making the Kafka
consumer and committing its offsets are ``kafka_side``; a message's and a batch's way into the
database are ``message_path`` and ``batch_path``."""
from __future__ import annotations

import logging
import threading
import time
from typing import Callable

from kafka import KafkaProducer, TopicPartition
from kafka.errors import KafkaError
from kafka.structs import OffsetAndMetadata
from sqlalchemy import Table
from sqlalchemy.orm import Session, sessionmaker

from kinerja.events.envelope import Event, decode_event
from kinerja.heartbeat import Heartbeat
from kinerja.messaging.consumer.batch_path import BatchPath
from kinerja.messaging.consumer.config import (BUSY_POLL_MS, IDLE_POLL_MS, commit_interval_s as commit_interval_from_env,
                                               poll_gap_s as poll_gap_from_env)
from kinerja.messaging.consumer.kafka_side import KafkaSide
from kinerja.messaging.consumer.message_path import MessagePath
from kinerja.messaging.consumer.overlap import OverlappedApply
from kinerja.messaging.consumer.rejoin import repair_unapplied_join
from kinerja.messaging.consumer.stats import ConsumerStats
from kinerja.messaging.consumer.transactions import TransactionShape
from kinerja.messaging.consumer.upkeep import ConsumerUpkeep
from kinerja.messaging.outbox import PROCESSED_RETENTION_S

log = logging.getLogger("kinerja.messaging.consumer")

Handler = Callable[[Session, Event], None]
BatchHandler = Callable[[Session, list[Event]], None]


class IdempotentConsumer(MessagePath, BatchPath, ConsumerUpkeep, KafkaSide):
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
        between_polls: Callable[[], object] | None = None,
        replayed_table: Table | None = None,
        transaction_shape: TransactionShape | None = None,
        claim_processed: Callable[[Session, Table, list[dict]], set[str]] | None = None,
        poll_gap_s: float | None = None,
        commit_interval_s: float | None = None,
        overlap: bool = False,
        idle_poll_ms: int = IDLE_POLL_MS,
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
        # work of the service's own after each poll; a truthy return says more is waiting, and the
        # next poll waits only ``BUSY_POLL_MS`` for records, so the work goes on at that pace
        self.between_polls = between_polls
        # how long a poll waits when no record comes (``consumer.config.IDLE_POLL_MS``)
        self.idle_poll_ms = max(1, int(idle_poll_ms))
        self.replayed_table = replayed_table
        # how a poll is cut into transactions (None: a poll in one); batches only
        self.transaction_shape = transaction_shape
        # batches: records a transaction's ids and returns those new, in one statement
        # (``kinerja.messaging.processed_claims``); None: a SELECT before, an INSERT after
        self.claim_processed = claim_processed
        # the least time from a poll that returned fewer records than it may to the next poll
        # (``consumer.config.POLL_GAP_MS``); None: ``KINERJA_CONSUMER_POLL_GAP_MS``
        self.poll_gap_s = poll_gap_from_env() if poll_gap_s is None else max(0.0, poll_gap_s)
        # the least time between two offset commits while records keep coming
        # (``consumer.config.COMMIT_INTERVAL_MS``); None: ``KINERJA_CONSUMER_COMMIT_INTERVAL_MS``
        self.commit_interval_s = (commit_interval_from_env() if commit_interval_s is None
                                  else max(0.0, commit_interval_s))
        self._replayed: dict[tuple[str, int], int] | None = None
        # batches: a poll's transactions on a worker thread while the next is polled and decoded
        # (``kinerja.messaging.consumer.overlap``)
        self.overlap = overlap and batch_size > 1
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

    # -- the loop ----------------------------------------------------------------------------
    def run(self, stop: threading.Event, on_idle: Callable[[], None] | None = None,
            on_start: Callable[[], None] | None = None) -> ConsumerStats:
        """Poll, apply, commit until ``stop``. ``on_start``: called once, after the first
        KafkaConsumer is made (a process's ``kinerja.gc_tuning.tune_gc``)."""
        batched = self.batch_size > 1
        consumer = None
        backoff = 0.5
        gap = self.poll_gap_s
        next_poll_at = 0.0  # set after a poll with room to spare: no sooner than this the next
        # offsets done with (their database transactions committed) and not yet committed to Kafka
        pending: dict[TopicPartition, OffsetAndMetadata] = {}
        committed_at = 0.0
        more_between = False  # ``between_polls`` said more is waiting: the next poll waits briefly
        flight = OverlappedApply(self.apply_prepared) if self.overlap else None

        def landed() -> bool:
            """The poll in flight (overlap) waited for and its offsets noted; False when it was
            cut short (a stop): the loop ends."""
            finished = flight.finish() if flight is not None else None
            return finished is None or self._note_done(*finished, pending)

        while not stop.is_set():
            self.heartbeat()
            try:
                if consumer is None:
                    consumer = self._make_consumer(stop)
                    backoff = 0.5
                    if on_start is not None:
                        on_start()
                        on_start = None
                # kafka-python 3.0.12 can finish a leader's rejoin between our polls and never
                # apply it (the member then reads nothing): kinerja.messaging.consumer.rejoin
                if repair_unapplied_join(consumer):
                    self.stats.forced_rejoins += 1
                if next_poll_at:
                    # the records of the next few ms come in one fetch and one transaction
                    # (``consumer.config.POLL_GAP_MS``); a stop ends the pause
                    wait = next_poll_at - time.monotonic()
                    next_poll_at = 0.0
                    if wait > 0:
                        self.stats.paced += 1
                        if stop.wait(wait):
                            continue
                if flight is not None and flight.busy and consumer._coordinator.need_rejoin():
                    # this poll rejoins the group: the partitions handed over carry their offsets
                    if not landed():
                        break
                    if pending:
                        committed_at = self._commit(consumer, pending)
                wait_ms = BUSY_POLL_MS if more_between else self.idle_poll_ms
                more_between = False
                if batched:
                    most = self.batch_size
                    records = consumer.poll(timeout_ms=wait_ms, max_records=most)
                else:
                    most = consumer.config["max_poll_records"]
                    records = consumer.poll(timeout_ms=wait_ms)
                polled_at = time.monotonic()
                self.report_lag(consumer)
                self.trim()
                if not records:
                    if not landed():
                        break
                    if pending:  # caught up: the offsets so far, now
                        committed_at = self._commit(consumer, pending)
                    if on_idle:
                        on_idle()
                    if self.between_polls:
                        more_between = bool(self.between_polls())
                    continue
                msgs = [msg for messages in records.values() for msg in messages]
                self.stats.polls += 1
                if gap and len(msgs) < most:  # a full poll: a backlog, read on at once
                    next_poll_at = polled_at + gap
                if flight is not None:
                    events = self.prepare_batch(msgs)  # while the poll before is in the database
                    if not landed():
                        break
                    if pending and time.monotonic() - committed_at >= self.commit_interval_s:
                        committed_at = self._commit(consumer, pending)
                    if self.between_polls:
                        more_between = bool(self.between_polls())
                    if stop.is_set():  # decoded, not applied: fetched again from the last commit
                        break
                    flight.submit(msgs, events, stop)
                    continue
                if batched:
                    done_with = self._process_batch(msgs, stop)
                else:
                    done_with = 0
                    for msg in msgs:
                        if not self.process_message(msg, stop):
                            break
                        done_with += 1
                # only now, after the database commits: the offsets past what is done with, sent
                # at most every ``commit_interval_s`` while polls keep returning records
                self._note_done(msgs, done_with, pending)
                if pending and (done_with < len(msgs)
                                or time.monotonic() - committed_at >= self.commit_interval_s):
                    committed_at = self._commit(consumer, pending)
                if done_with < len(msgs):
                    break
                if self.between_polls:
                    more_between = bool(self.between_polls())
            except KafkaError as exc:
                landed()  # its offsets go with the rest: re-delivered, dropped as duplicates
                log.warning("kafka unavailable; reconnecting", extra={"error": repr(exc), "backoff_s": backoff})
                pending.clear()  # re-delivered from the last commit: duplicates, dropped
                if consumer is not None:
                    try:
                        consumer.close(autocommit=False)
                    except Exception:  # noqa: BLE001
                        pass
                    consumer = None
                stop.wait(backoff)
                backoff = min(backoff * 2, 5.0)
        landed()  # stopped: the poll in flight ends at its next transaction
        if flight is not None:
            flight.close()
        if consumer is not None:
            if pending:
                try:
                    self._commit(consumer, pending)
                except KafkaError as exc:  # the next member re-delivers them: duplicates, dropped
                    log.warning("offsets not committed at stop", extra={"error": repr(exc)})
            consumer.close(autocommit=False)
        if self._dlq_producer is not None:
            self._dlq_producer.close(timeout=5)
        log.info("consumer stopped", extra={"applied": self.stats.applied, "duplicates": self.stats.duplicates,
                                            "skipped": self.stats.skipped, "batches": self.stats.batches,
                                            "fallbacks": self.stats.fallbacks})
        return self.stats
