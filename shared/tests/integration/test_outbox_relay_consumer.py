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
from kinerja.heartbeat import Heartbeat, age_s
from kinerja.messaging.consumer import IdempotentConsumer, TransactionShape
from kinerja.messaging.outbox import Outbox, add_plumbing_tables
from kinerja.messaging.producer import make_producer
from kinerja.messaging.relay import OutboxRelay
from kinerja.messaging.topics import PEGAWAI, dlq, topic
from kinerja.testing import RecordingProducer, consumer_record, wait_until

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


def consumer_for(store: Store, kafka_bootstrap: str, prefix: str, group: str, batch_size: int = 1,
                 **kw) -> IdempotentConsumer:
    return IdempotentConsumer(
        bootstrap=kafka_bootstrap, topics=[topic(PEGAWAI, prefix)], group_id=group,
        session_factory=store.sessions, processed_table=store.processed, handle=store.handle,
        producer_factory=lambda: make_producer(kafka_bootstrap), batch_size=batch_size, **kw,
    )


# message by message, one transaction per poll (``handle`` for each event in turn), and that with
# the next poll fetched and decoded during the transaction (``consumer.overlap``)
batches = pytest.mark.parametrize("batch_size,overlap", [(1, False), (50, False), (50, True)],
                                  ids=["one-by-one", "batched", "overlapped"])


@batches
def test_outbox_rows_reach_the_topic_and_the_consumer_once(database_url, kafka_bootstrap, topic_prefix, batch_size,
                                                           overlap):
    source = Store(database_url)
    sink = Store(database_url.replace("test.db", "sink.db")) if database_url.startswith("sqlite") else source
    events = [employee(i) for i in range(40)]
    with source.sessions() as s, s.begin():
        source.outbox.add_many(s, events)
    assert source.unsent() == 40

    stop = threading.Event()
    relay = OutboxRelay(source.engine, source.outbox_table, lambda: make_producer(kafka_bootstrap),
                        prefix=topic_prefix)
    consumer = consumer_for(sink, kafka_bootstrap, topic_prefix, f"g-{uuid.uuid4().hex[:6]}", batch_size,
                            overlap=overlap)
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
    assert (consumer.stats.batches > 0) == (batch_size > 1) and consumer.stats.fallbacks == 0


@batches
def test_redelivery_after_a_crash_before_the_offset_commit_counts_nothing_twice(
        database_url, kafka_bootstrap, topic_prefix, batch_size, overlap):
    store = Store(database_url)
    group = f"g-{uuid.uuid4().hex[:6]}"
    producer = make_producer(kafka_bootstrap)
    events = [employee(i) for i in range(30)]
    for e in events:
        producer.send(topic(PEGAWAI, topic_prefix), key=e.key, value=e.to_bytes())
    producer.flush()

    stop = threading.Event()
    first = consumer_for(store, kafka_bootstrap, topic_prefix, group, batch_size, overlap=overlap)
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
    second = consumer_for(store, kafka_bootstrap, topic_prefix, group, batch_size, overlap=overlap)
    t2 = run_in_thread(second.run, stop2)
    wait_until(lambda: second.stats.duplicates == 35, 60, message="35 redeliveries seen as duplicates")
    stop2.set()
    t2.join(30)
    assert second.stats.applied == 0
    assert set(store.counts().values()) == {1} and len(store.counts()) == 30


@batches
def test_poison_messages_go_to_the_dlq_with_the_reason_and_the_consumer_moves_on(
        sqlite_url, kafka_bootstrap, topic_prefix, batch_size, overlap):
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
    consumer = consumer_for(store, kafka_bootstrap, topic_prefix, f"g-{uuid.uuid4().hex[:6]}", batch_size,
                            overlap=overlap)
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

    # nothing ever answers, so the producer's start fails whatever it waits: after 1 s here, not
    # kafka-python's default 30 s (``bootstrap_timeout_ms``, the wait for a broker's version)
    relay = OutboxRelay(store.engine, store.outbox_table,
                        lambda: make_producer("127.0.0.1:1", max_block_ms=500, request_timeout_ms=500,
                                              delivery_timeout_ms=1000, bootstrap_timeout_ms=1000))
    with pytest.raises(KafkaError):
        relay.publish_batch()
    assert store.unsent() == 3


# -- the batched path without a broker -----------------------------------------------------------


def msg(event_or_raw, offset, partition=0):
    return consumer_record(event_or_raw, offset, "t.pegawai.v1", partition)


def offline_consumer(store: Store, batch_size: int = 100, handle=None, **kw) -> tuple[IdempotentConsumer, RecordingProducer]:
    dlq_producer = RecordingProducer()
    consumer = IdempotentConsumer(
        bootstrap="127.0.0.1:9", topics=["t.pegawai.v1"], group_id=f"g-{uuid.uuid4().hex[:6]}",
        session_factory=store.sessions, processed_table=store.processed, handle=handle or store.handle,
        producer_factory=lambda: dlq_producer, batch_size=batch_size, **kw)
    return consumer, dlq_producer


def test_a_batch_skips_dead_letters_drops_duplicates_and_records_in_one_transaction(sqlite_url):
    store = Store(sqlite_url)
    seen_batches = []

    def apply_batch(session, events):
        seen_batches.append([e.id for e in events])
        for e in events:
            store.handle(session, e)

    skip_me = employee(9)
    consumer, dlq_producer = offline_consumer(store, apply_batch=apply_batch, skip=lambda raw: skip_me.id.encode() in raw,
                                              wants=lambda t: t == EMPLOYEE_UPSERTED)
    events = [employee(i) for i in range(3)]
    batch = [msg(e, i) for i, e in enumerate(events)] + [msg(events[0], 3), msg(b"{not json", 4), msg(skip_me, 5)]
    assert consumer.process_batch(batch, threading.Event())
    s = consumer.stats
    assert (s.applied, s.duplicates, s.dead_lettered, s.skipped, s.batches, s.fallbacks) == (3, 1, 1, 1, 1, 0)
    assert seen_batches == [[e.id for e in events]]
    assert store.counts() == {nip(i): 1 for i in range(3)}
    with store.sessions() as session:
        assert set(session.execute(select(store.processed.c.event_id)).scalars()) == {e.id for e in events}
    assert [t for t, _, _ in dlq_producer.sent] == ["t.pegawai.v1.dlq"]
    # redelivered: nothing applied twice; the undecodable one is dead-lettered again, as one by one
    assert consumer.process_batch(batch, threading.Event())
    assert (s.applied, s.duplicates, s.dead_lettered, s.batches) == (3, 5, 2, 2)
    assert store.counts() == {nip(i): 1 for i in range(3)}


def test_a_failing_batch_falls_back_to_one_by_one_and_only_the_bad_event_is_dead_lettered(sqlite_url):
    store = Store(sqlite_url)
    bad = employee(2)

    def handle(session, event):
        if event.id == bad.id:
            raise RuntimeError("a handler bug")
        store.handle(session, event)

    consumer, dlq_producer = offline_consumer(store, handle=handle)
    assert consumer.process_batch([msg(employee(i) if i != 2 else bad, i) for i in range(4)], threading.Event())
    s = consumer.stats
    assert (s.applied, s.dead_lettered, s.batches, s.fallbacks) == (3, 1, 0, 1)
    assert store.counts() == {nip(0): 1, nip(1): 1, nip(3): 1}
    assert b"handler error" in dlq_producer.sent[0][2]["error"]


def test_with_the_database_away_the_fallback_retries_and_a_stop_leaves_the_rest_undone(sqlite_url):
    from sqlalchemy.exc import OperationalError

    store = Store(sqlite_url)
    down = {"calls": 0, "until": 3}
    stop = threading.Event()

    def handle(session, event):
        down["calls"] += 1
        if down["calls"] <= down["until"]:
            raise OperationalError("UPDATE tally", {}, Exception("database is away"))
        store.handle(session, event)

    consumer, _ = offline_consumer(store, handle=handle)
    # the batch fails (1 call), then the first event fails twice more and is applied, then the rest
    assert consumer.process_batch([msg(employee(i), i) for i in range(3)], stop)
    s = consumer.stats
    assert (s.applied, s.fallbacks, s.retries) == (3, 1, 2) and store.counts() == {nip(i): 1 for i in range(3)}

    # away for good and a stop arrives: the undecodable first message is done with, the event after
    # it is not (so its offset is not committed), and nothing was recorded
    down.update(calls=0, until=10**9)
    threading.Timer(0.3, stop.set).start()
    msgs = [msg(b"{not json", 10), msg(employee(7), 11), msg(employee(8), 12)]
    assert consumer._process_batch(msgs, stop) == 1
    assert nip(7) not in store.counts()


def keyed(event, offset):
    return consumer_record(event, offset, "t.pegawai.v1", key=event.subject.encode())


def test_a_poll_cut_by_key_goes_transaction_by_transaction_and_a_stop_leaves_a_done_prefix(sqlite_url):
    """``transaction_shape``: a caught-up poll in transactions of 1, 2, 4... keys, each key's
    events together and in order, passed-over messages counting for no key; when one transaction
    cannot finish, the done prefix ends before its first undone message (its offsets, and all
    after, not committed: what the later transactions did comes again as duplicates)."""
    from sqlalchemy.exc import OperationalError

    store = Store(sqlite_url)
    transactions = []
    away = {nip(2)}

    def handle(session, event):
        if event.data["nip"] in away:
            raise OperationalError("UPDATE tally", {}, Exception("database is away"))
        store.handle(session, event)

    def apply_batch(session, events):
        transactions.append([e.data["nip"] for e in events])
        for e in events:
            handle(session, e)

    skipped = employee(5)
    consumer, _ = offline_consumer(store, handle=handle, apply_batch=apply_batch,
                                   skip=lambda raw: skipped.id.encode() in raw,
                                   transaction_shape=TransactionShape(first_keys=1))
    first, second = employee(0), employee(0)
    msgs = [keyed(e, i) for i, e in enumerate([skipped, first, employee(1), second, employee(3), employee(4)])]
    away.clear()
    assert consumer.process_batch(msgs, threading.Event())
    assert transactions == [[nip(0), nip(0)], [nip(1), nip(3)], [nip(4)]]
    assert consumer.stats.batches == 3 and consumer.stats.skipped == 1
    assert store.counts() == {nip(0): 2, nip(1): 1, nip(3): 1, nip(4): 1}

    # the second transaction fails on nip 2's event, one by one it waits for the database, a stop
    # comes: done with are the passed-over one, nip 0's (first transaction) and nip 1's
    transactions.clear()
    away.add(nip(2))
    stop = threading.Event()
    threading.Timer(0.3, stop.set).start()
    msgs = [keyed(e, 10 + i) for i, e in enumerate([skipped, employee(0), employee(1), employee(0), employee(2),
                                                    employee(6)])]
    assert consumer._process_batch(msgs, stop) == 4
    assert transactions == [[nip(0), nip(0)], [nip(1), nip(2)]]  # nip 6's never began
    assert store.counts() == {nip(0): 4, nip(1): 2, nip(3): 1, nip(4): 1}


def test_the_loop_beats_its_heartbeat_while_it_polls(sqlite_url, kafka_bootstrap, topic_prefix, tmp_path):
    """The container health check of a consumer reads this file: it must keep being touched while
    the loop goes round with nothing to do, and stop when the loop stops."""
    store = Store(sqlite_url)
    beat = tmp_path / "heartbeat"
    hb = Heartbeat(beat, interval_s=0.2)
    stop = threading.Event()
    t = run_in_thread(consumer_for(store, kafka_bootstrap, topic_prefix, "hb-" + uuid.uuid4().hex[:6],
                                   heartbeat=hb.beat).run, stop)
    try:
        wait_until(beat.exists, 30, message="a first beat")
        first = beat.stat().st_mtime_ns
        wait_until(lambda: beat.stat().st_mtime_ns > first, 30, message="a later beat")
    finally:
        stop.set()
        t.join(30)
    assert not t.is_alive()
    assert age_s(beat) is not None
