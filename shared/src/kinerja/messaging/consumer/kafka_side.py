"""The consumer's dealings with Kafka itself: a ``KafkaConsumer`` that joins its group only once
every topic's metadata is known, and offsets committed only for what the database committed.
Apart from ``loop`` because these are the Kafka client's rules, which the loop only calls on (a
unit test reads ``_note_done`` without a broker)."""
from __future__ import annotations

import logging
import threading
import time
from collections import deque
from itertools import groupby, islice
from operator import attrgetter

from kafka import KafkaConsumer, TopicPartition
from kafka.structs import OffsetAndMetadata

from kinerja.messaging import request_counts
from kinerja.messaging.consumer.config import consumer_config
from kinerja.messaging.producer import check_native_codecs

log = logging.getLogger("kinerja.messaging.consumer")

_PARTITION = attrgetter("topic", "partition")


class KafkaSide:
    """Part of :class:`IdempotentConsumer` (its ``__init__`` sets the settings and stats used here)."""

    def _make_consumer(self, stop: threading.Event) -> KafkaConsumer:
        check_native_codecs()
        request_counts.install_from_env()  # bench/trickle_counts.py only: KINERJA_KAFKA_COUNT_DIR
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

    def _commit(self, consumer: KafkaConsumer, pending: dict[TopicPartition, OffsetAndMetadata]) -> float:
        """Commit ``pending`` (emptied) for the partitions still assigned (one a rebalance gave to
        another member re-delivers from its last commit there: duplicates, dropped); when."""
        assigned = consumer.assignment()
        offsets = {tp: o for tp, o in pending.items() if tp in assigned}
        pending.clear()
        if offsets:
            consumer.commit(offsets)
            self.stats.commits += 1
        return time.monotonic()

    def _note_done(self, msgs: list, done_with: int, pending: dict) -> bool:
        """The offsets past the first ``done_with`` of ``msgs`` (their transactions committed)
        added to ``pending``; False when the poll was cut short. The last offset of each run of a
        partition's messages, found in C (not two objects a message, ~0.5 µs: skipped ones too)."""
        for (msg_topic, partition), run in groupby(islice(msgs, done_with), key=_PARTITION):
            last = deque(run, maxlen=1)[0]
            pending[TopicPartition(msg_topic, partition)] = OffsetAndMetadata(last.offset + 1, "", -1)
        return done_with == len(msgs)
