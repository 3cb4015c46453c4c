"""The plumbing against a real broker and real databases: outbox → relay → topic → consumer.

Each test runs on SQLite and on PostgreSQL (the ``database_url`` fixture)."""
import json
import threading
import uuid

import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.structs import OffsetAndMetadata
from sqlalchemy import Column, Integer, MetaData, String, Table, func, select, update

from kinerja.db import make_engine, make_session_factory
from kinerja.events import make_event
from kinerja.events.pegawai import EMPLOYEE_UPSERTED
from kinerja.messaging.consumer import IdempotentConsumer
from kinerja.messaging.outbox import Outbox, add_plumbing_tables
from kinerja.messaging.producer import make_producer
from kinerja.messaging.relay import OutboxRelay
from kinerja.messaging.topics import PEGAWAI, dlq, topic
from kinerja.testing import wait_until

pytestmark = pytest.mark.integration


def nip(i: int) -> str:
    return f"19850312201001{i:04d}"


def employee(i: int):
    return make_event(EMPLOYEE_UPSERTED, subject=nip(i), agency="disdik", source="test",
                      data={"nip": nip(i), "nama": f"ASN {i}", "agency": "disdik", "unit": "U", "pin": str(i)})


class Store:
    """A service-like database: a deliberately non-idempotent tally, so a double apply would show."""

    def __init__(self, url: str):
        self.metadata = MetaData()
        self.tally = Table("tally", self.metadata, Column("nip", String(18), primary_key=True),
                           Column("count", Integer, nullable=False))
        self.outbox_table, self.processed = add_plumbing_tables(self.metadata)
        self.engine = make_engine(url)
        self.metadata.create_all(self.engine)
        self.sessions = make_session_factory(self.engine)
        self.outbox = Outbox(self.metadata)

    def handle(self, session, event):
        n = event.data["nip"]
        row = session.execute(select(self.tally.c.count).where(self.tally.c.nip == n)).first()
        if row is None:
            session.execute(self.tally.insert().values(nip=n, count=1))
        else:
            session.execute(update(self.tally).where(self.tally.c.nip == n).values(count=row[0] + 1))

    def counts(self) -> dict[str, int]:
        with self.engine.connect() as c:
            return dict(c.execute(select(self.tally.c.nip, self.tally.c.count)).all())

    def unsent(self) -> int:
        with self.engine.connect() as c:
            return c.execute(select(func.count()).select_from(self.outbox_table)
                             .where(self.outbox_table.c.sent_at.is_(None))).scalar_one()


def run_in_thread(target, stop):
    t = threading.Thread(target=target, args=(stop,), daemon=True)
    t.start()
    return t


def consumer_for(store: Store, kafka_bootstrap: str, prefix: str, group: str) -> IdempotentConsumer:
    return IdempotentConsumer(
        bootstrap=kafka_bootstrap, topics=[topic(PEGAWAI, prefix)], group_id=group,
        session_factory=store.sessions, processed_table=store.processed, handle=store.handle,
        producer_factory=lambda: make_producer(kafka_bootstrap),
    )


def test_outbox_rows_reach_the_topic_and_the_consumer_once(database_url, kafka_bootstrap, topic_prefix):
    source = Store(database_url)
    sink = Store(database_url.replace("test.db", "sink.db")) if database_url.startswith("sqlite") else source
    events = [employee(i) for i in range(40)]
    with source.sessions() as s, s.begin():
        source.outbox.add_many(s, events)
    assert source.unsent() == 40

    stop = threading.Event()
    relay = OutboxRelay(source.engine, source.outbox_table, lambda: make_producer(kafka_bootstrap),
                        prefix=topic_prefix)
    consumer = consumer_for(sink, kafka_bootstrap, topic_prefix, f"g-{uuid.uuid4().hex[:6]}")
    threads = [run_in_thread(relay.run, stop), run_in_thread(consumer.run, stop)]
    try:
        wait_until(lambda: source.unsent() == 0, 60, message="outbox drained")
        wait_until(lambda: len(sink.counts()) == 40, 60, message="40 employees applied")
    finally:
        stop.set()
        for t in threads:
            t.join(30)
    assert set(sink.counts().values()) == {1}
    assert consumer.stats.applied == 40 and consumer.stats.dead_lettered == 0


def test_redelivery_after_a_crash_before_the_offset_commit_counts_nothing_twice(
        database_url, kafka_bootstrap, topic_prefix):
    store = Store(database_url)
    group = f"g-{uuid.uuid4().hex[:6]}"
    producer = make_producer(kafka_bootstrap)
    events = [employee(i) for i in range(30)]
    for e in events:
        producer.send(topic(PEGAWAI, topic_prefix), key=e.key, value=e.to_bytes())
    producer.flush()

    stop = threading.Event()
    first = consumer_for(store, kafka_bootstrap, topic_prefix, group)
    t = run_in_thread(first.run, stop)
    wait_until(lambda: len(store.counts()) == 30, 60, message="first pass applied")
    stop.set()
    t.join(30)

    # as if the process died after its database commits but before Kafka saw the offsets:
    # rewind the group to the start, so every message is delivered again
    rewind = KafkaConsumer(bootstrap_servers=kafka_bootstrap, group_id=group, enable_auto_commit=False)
    parts = [TopicPartition(topic(PEGAWAI, topic_prefix), p)
             for p in rewind.partitions_for_topic(topic(PEGAWAI, topic_prefix))]
    rewind.assign(parts)
    rewind.commit({tp: OffsetAndMetadata(0, "", -1) for tp in parts})
    rewind.close()
    # and the broker hands over one more copy of a few events (a relay that re-sent them)
    for e in events[:5]:
        producer.send(topic(PEGAWAI, topic_prefix), key=e.key, value=e.to_bytes())
    producer.flush()

    stop2 = threading.Event()
    second = consumer_for(store, kafka_bootstrap, topic_prefix, group)
    t2 = run_in_thread(second.run, stop2)
    wait_until(lambda: second.stats.duplicates == 35, 60, message="35 redeliveries seen as duplicates")
    stop2.set()
    t2.join(30)
    assert second.stats.applied == 0
    assert set(store.counts().values()) == {1} and len(store.counts()) == 30


def test_poison_messages_go_to_the_dlq_with_the_reason_and_the_consumer_moves_on(
        sqlite_url, kafka_bootstrap, topic_prefix):
    store = Store(sqlite_url)
    producer = KafkaProducer(bootstrap_servers=kafka_bootstrap)
    name = topic(PEGAWAI, topic_prefix)
    good = employee(1)
    bad_schema = json.loads(employee(2).to_bytes())
    bad_schema["data"]["nip"] = "not-a-nip"
    unknown = {**json.loads(employee(3).to_bytes()), "type": "pegawai.unknown.v1"}
    key = good.key  # one key, one partition: the order below is the order consumed
    for value in (b"{not json", json.dumps(bad_schema).encode(), json.dumps(unknown).encode(), good.to_bytes()):
        producer.send(name, key=key, value=value)
    producer.flush()

    stop = threading.Event()
    consumer = consumer_for(store, kafka_bootstrap, topic_prefix, f"g-{uuid.uuid4().hex[:6]}")
    t = run_in_thread(consumer.run, stop)
    try:
        wait_until(lambda: store.counts().get(nip(1)) == 1, 60, message="the good event after the poison")
    finally:
        stop.set()
        t.join(30)
    assert consumer.stats.dead_lettered == 3

    reader = KafkaConsumer(dlq(name), bootstrap_servers=kafka_bootstrap, auto_offset_reset="earliest",
                           consumer_timeout_ms=10000)
    reasons = []
    for msg in reader:
        reasons.append(dict(msg.headers)["error"].decode())
        if len(reasons) == 3:
            break
    reader.close()
    assert any("not JSON" in r for r in reasons)
    assert any("NIP must be 18 digits" in r for r in reasons)
    assert any("unknown event type" in r for r in reasons)


def test_relay_keeps_rows_while_kafka_is_unreachable_and_marks_nothing(sqlite_url):
    store = Store(sqlite_url)
    with store.sessions() as s, s.begin():
        store.outbox.add_many(s, [employee(i) for i in range(3)])
    from kafka.errors import KafkaError

    relay = OutboxRelay(store.engine, store.outbox_table,
                        lambda: make_producer("127.0.0.1:1", max_block_ms=500, request_timeout_ms=500,
                                              delivery_timeout_ms=1000))
    with pytest.raises(KafkaError):
        relay.publish_batch()
    assert store.unsent() == 3
