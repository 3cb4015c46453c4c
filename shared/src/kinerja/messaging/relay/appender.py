"""The relay's rows handed to kafka-python's record accumulator without ``KafkaProducer.send``'s
per-record preamble.

``send()`` costs a record, before the record is built: the producer-closed check, the headers'
validation, two serializer calls, a metadata look-up, the partitioner through ``_partition`` (which
builds the topic set of the metadata again), a size estimate by a record-batch builder, and a
``log.debug`` whose arguments (``str(producer)``) are formatted whether or not anything logs. In
a drain of kehadiran's outbox (40,000 rows) that preamble was about a third of the relay's
thread in a profile of its CPU. For the relay's rows each answer is known: keys and values are
bytes, no headers, no serializers, a key always (so no sticky partitioning), not transactional.

What is kept is what ``send()`` does after its preamble, unchanged: the partitioner the producer
was made with (``KeyHashPartitioner``: the default partitioner's choice), the accumulator's
``append`` (the record built into its partition's batch, its future, the batch's sequence numbers
and so idempotence, ``acks=all``), and waking the sender when a batch is new or full. A record
whose size is near ``max_request_size``, a topic the producer has no metadata for yet, a
transactional producer or a kafka-python whose internals are not the ones checked here go
through ``send()`` itself.
"""
from __future__ import annotations

import inspect
from typing import Callable

from kafka import KafkaProducer
from kafka.errors import IllegalStateError
from kafka.partitioner import Partitioner
from kafka.structs import TopicPartition

# what a record adds to a batch beyond its key and value is well under this (varints, attributes,
# the batch header); bigger records are left to ``send()``, which measures and refuses them
_SIZE_MARGIN = 512

Send = Callable[[str, bytes, bytes], object]


def _slow(producer: KafkaProducer) -> Send:
    send = producer.send

    def slow(topic: str, key: bytes, value: bytes):
        return send(topic, key=key, value=value)

    return slow


def _usable(producer: KafkaProducer) -> bool:
    try:
        config = producer.config
        params = list(inspect.signature(producer._accumulator.append).parameters)[:5]
        manager = producer._transaction_manager
        producer._metadata.partitions_for_topic  # noqa: B018 - present
        producer._sender.wakeup  # noqa: B018 - present
        producer._closed  # noqa: B018 - present
    except (AttributeError, TypeError, ValueError):
        return False
    return (params == ["tp", "timestamp_ms", "key", "value", "headers"]
            and not (manager is not None and manager.is_transactional())
            and config.get("key_serializer") is None and config.get("value_serializer") is None
            and isinstance(config.get("partitioner"), Partitioner)
            and isinstance(config.get("max_request_size"), int))


def appender(producer: KafkaProducer) -> Send:
    """``send(topic, key, value)`` → the record's future, for ``producer`` (see the module's doc)."""
    slow = _slow(producer)
    if not _usable(producer):
        return slow
    append = producer._accumulator.append
    metadata = producer._metadata
    wakeup = producer._sender.wakeup
    partition = producer.config["partitioner"].partition
    limit = producer.config["max_request_size"] - _SIZE_MARGIN
    known: set[str] = set()  # topics seen with metadata: a topic that goes away fails partition()
    tps: dict[tuple[str, int], TopicPartition] = {}

    def send(topic: str, key: bytes, value: bytes):
        if producer._closed:
            raise IllegalStateError("KafkaProducer already closed!")
        if len(key) + len(value) > limit:
            return slow(topic, key, value)
        if topic not in known:
            if metadata.partitions_for_topic(topic) is None:
                return slow(topic, key, value)  # waits for the metadata, as send() does
            known.add(topic)
        p = partition(topic, key, key, value, value, metadata)
        if p is None:
            raise ValueError(f"Partitioner did not assign a partition for topic {topic}!")
        tp = tps.get((topic, p))
        if tp is None:
            tp = tps[(topic, p)] = TopicPartition(topic, p)
        result = append(tp, None, key, value, [])
        if result[1] or result[2]:  # the batch is full, or new: the sender has something to send
            wakeup()
        return result[0]

    return send
