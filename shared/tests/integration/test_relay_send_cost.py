"""What the relay's thread spends handing a read's rows to the producer, counted rather than timed:
the Python functions ``_send`` runs a row, against a real broker, then every row acknowledged,
marked and on the topic in key order.

Budget in Python calls a row, measured on this code (and through ``KafkaProducer.send`` before,
in brackets): 27 (48); budget 30. ``relay.appender`` appends to the producer's accumulator without ``send()``'s
per-record preamble; back over the budget means ``send()`` is on the path again (a kafka-python
whose internals the appender no longer recognises falls back to it) or the loop does more a row."""
from __future__ import annotations

import json
import uuid

import pytest
from kafka import KafkaConsumer
from kafka.serializer import Serializer
from sqlalchemy import MetaData

from kinerja.db import make_engine
from kinerja.messaging.outbox import Outbox, add_plumbing_tables, outbox_row
from kinerja.messaging.producer import make_producer
from kinerja.messaging.relay import RELAY_PRODUCER, OutboxRelay
from kinerja.messaging.relay.appender import appender
from kinerja.messaging.topics import KEHADIRAN, topic
from kinerja.testing import wait_until
from kinerja.testing.counting import python_calls

pytestmark = pytest.mark.integration
EVENT_TYPE = "kehadiran.punch.recorded.v1"
KEYS = [f"19900101201501{k:04d}" for k in range(20)]
CALLS_A_ROW = 30


def test_a_rows_send_stays_within_its_python_calls_and_every_row_lands_in_key_order(
        sqlite_url, kafka_bootstrap, topic_prefix):
    metadata = MetaData()
    table, _ = add_plumbing_tables(metadata)
    engine = make_engine(sqlite_url)
    metadata.create_all(engine)
    box = Outbox(metadata)
    rows = [(KEYS[i % len(KEYS)], i) for i in range(320)]
    with engine.begin() as conn:
        box.add_rows(conn, [outbox_row(str(uuid.uuid4()), EVENT_TYPE, key, json.dumps({"n": n}))
                            for key, n in rows])
    relay = OutboxRelay(engine, table, lambda: make_producer(kafka_bootstrap, **RELAY_PRODUCER),
                        prefix=topic_prefix, listen=False, mark_interval_s=3600)
    try:
        producer = relay._get_producer()
        assert relay._append.__name__ == "send", "the appender fell back to KafkaProducer.send"
        read = relay._next_rows(400, None, set())
        assert len(read) == 320
        relay._send(read[:20])  # warm: metadata, the partitions of the keys, the topic's name
        calls, _ = python_calls(lambda: relay._send(read[20:]))
        assert calls / 300 <= CALLS_A_ROW, calls / 300
        producer.flush(30)
        wait_until(lambda: relay._collect_acks() is None and not relay._inflight, 30, message="every row acked")
        assert relay._mark() == 320
    finally:
        relay._finish()
        engine.dispose()
    consumer = KafkaConsumer(topic(KEHADIRAN, topic_prefix), bootstrap_servers=kafka_bootstrap,
                             auto_offset_reset="earliest", consumer_timeout_ms=10000)
    try:
        got: dict[str, list[int]] = {}
        for message in consumer:
            got.setdefault(message.key.decode(), []).append(json.loads(message.value)["n"])
            if sum(map(len, got.values())) == 320:
                break
    finally:
        consumer.close()
    assert got == {key: [n for k, n in rows if k == key] for key in KEYS}


def test_the_appender_leaves_what_it_cannot_vouch_for_to_send(kafka_bootstrap, topic_prefix):
    """A record near ``max_request_size`` is refused as ``send()`` refuses it; a producer with a
    serializer gets ``send()`` itself."""
    from kafka.errors import MessageSizeTooLargeError

    producer = make_producer(kafka_bootstrap, max_request_size=2000, **RELAY_PRODUCER)
    try:
        send = appender(producer)
        name = topic(KEHADIRAN, topic_prefix)
        send(name, b"k", b"v" * 100).get(30)
        with pytest.raises(MessageSizeTooLargeError):
            send(name, b"k", b"v" * 2000)
    finally:
        producer.close(5)
    producer = make_producer(kafka_bootstrap, value_serializer=AsIs(), **RELAY_PRODUCER)
    try:
        assert appender(producer).__name__ == "slow"
    finally:
        producer.close(5)


class AsIs(Serializer):
    """A serializer that changes nothing: the appender must still leave a producer that has one to
    ``send()`` (a plain function would do as well, but kafka-python warns on it)."""

    def serialize(self, topic, value):
        return value
