"""The consumer loop's pace between polls (``KINERJA_CONSUMER_POLL_GAP_MS``), counted on a real
broker: a trickle of records comes in few polls, a backlog is read without a pause, a stop ends a
pause, and every record is applied once, in order per key."""
import threading
import time
import uuid

import pytest

from kinerja.events import make_event
from kinerja.events.pegawai import EMPLOYEE_UPSERTED
from kinerja.messaging.consumer import IdempotentConsumer
from kinerja.messaging.producer import make_producer
from kinerja.messaging.topics import PEGAWAI, ensure_topics, topic
from kinerja.testing import wait_until
from kinerja_testkit.applied_sink import AppliedSink

pytestmark = pytest.mark.integration

KEYS = 4


def record(i: int):
    nip = f"19850312201001{i % KEYS:04d}"
    return make_event(EMPLOYEE_UPSERTED, subject=nip, agency="disdik", source="test",
                      data={"nip": nip, "nama": f"ASN {i}", "agency": "disdik", "unit": "U", "pin": str(i)})


def nip_pin_sink(url: str) -> AppliedSink:
    return AppliedSink(url, lambda event: (event.data["nip"], int(event.data["pin"])))


@pytest.fixture
def one_partition(kafka_bootstrap) -> str:
    """Topics of one partition: a poll's records are the head of one log."""
    prefix = "p" + uuid.uuid4().hex[:10]
    ensure_topics(kafka_bootstrap, prefix=prefix, partitions=1)
    return prefix


def consumer(sink: AppliedSink, bootstrap: str, prefix: str, gap_s: float) -> IdempotentConsumer:
    return IdempotentConsumer(
        bootstrap=bootstrap, topics=[topic(PEGAWAI, prefix)], group_id=f"g-{uuid.uuid4().hex[:6]}",
        session_factory=sink.sessions, processed_table=sink.processed, handle=sink.handle,
        producer_factory=lambda: make_producer(bootstrap), batch_size=10, poll_gap_s=gap_s)


def in_order_once(sink: AppliedSink, n: int) -> bool:
    by_key: dict[str, list[int]] = {}
    for key, i in sink.applied:
        by_key.setdefault(key, []).append(i)
    return len(sink.applied) == n and all(seq == sorted(seq) for seq in by_key.values())


def test_a_trickle_comes_in_few_polls_and_a_backlog_without_a_pause(sqlite_url, kafka_bootstrap, one_partition):
    sink = nip_pin_sink(sqlite_url)
    name = topic(PEGAWAI, one_partition)
    producer = make_producer(kafka_bootstrap, linger_ms=0)
    # a backlog first: 30 records there before the consumer starts, read in full polls of 10
    for i in range(30):
        e = record(i)
        producer.send(name, key=e.key, value=e.to_bytes())
    producer.flush()
    # a long gap: a pause after any of those full polls would be counted (and seen to wait)
    c = consumer(sink, kafka_bootstrap, one_partition, gap_s=0.4)
    stop = threading.Event()
    t = threading.Thread(target=c.run, args=(stop,), daemon=True)
    t.start()
    try:
        wait_until(lambda: len(sink.applied) >= 30, 60, message="backlog applied")
        assert c.stats.polls == 3 and c.stats.paced == 0, c.stats
        # then a trickle: 40 records, one every ~5 ms (a send each, no linger), i.e. ~0.2 s;
        # polled back to back that is about a poll (a fetch, a transaction) a record
        for i in range(30, 70):
            e = record(i)
            producer.send(name, key=e.key, value=e.to_bytes())
            time.sleep(0.005)
        producer.flush()
        wait_until(lambda: len(sink.applied) >= 70, 60, message="trickle applied")
        trickle_polls = c.stats.polls - 3
        # a poll at most every 0.4 s: a handful for the trickle, however slow this machine is,
        # until it spreads 40 sends over more than ~4 s
        assert 1 <= trickle_polls <= 10, c.stats
        assert c.stats.paced >= 1
        assert in_order_once(sink, 70), sink.applied
    finally:
        stop.set()
        t.join(30)
        producer.close()
    assert not t.is_alive()
    assert c.stats.applied == 70 and c.stats.duplicates == 0


def test_a_stop_ends_a_pause(sqlite_url, kafka_bootstrap, one_partition):
    sink = nip_pin_sink(sqlite_url)
    producer = make_producer(kafka_bootstrap)
    e = record(1)
    producer.send(topic(PEGAWAI, one_partition), key=e.key, value=e.to_bytes()).get(30)
    producer.close()
    c = consumer(sink, kafka_bootstrap, one_partition, gap_s=60.0)  # a pause far longer than the join below
    stop = threading.Event()
    t = threading.Thread(target=c.run, args=(stop,), daemon=True)
    t.start()
    wait_until(lambda: c.stats.paced == 1, 60, message="a pause after a poll of one record")
    stop.set()
    t.join(15)
    assert not t.is_alive()
    assert sink.applied == [(e.data["nip"], 1)]


def test_an_idle_poll_waits_long_and_a_busy_between_polls_short(sqlite_url, kafka_bootstrap, one_partition):
    """An idle loop goes round once per ``IDLE_POLL_MS`` (each round of kafka-python's poll wakes
    two threads several times), and while ``between_polls`` says more is waiting, once per
    ``BUSY_POLL_MS``: the wait each poll was given, counted on a real broker."""
    from kinerja.messaging.consumer.config import BUSY_POLL_MS, IDLE_POLL_MS

    sink = nip_pin_sink(sqlite_url)
    more = [True, True]  # two steps of work, then nothing
    waits: list[int] = []

    class Counted(IdempotentConsumer):
        def _make_consumer(self, stop):
            kc = super()._make_consumer(stop)
            poll = kc.poll

            def counted(timeout_ms=0, **kw):
                waits.append(timeout_ms)
                return poll(timeout_ms=timeout_ms, **kw)
            kc.poll = counted
            return kc

    c = Counted(bootstrap=kafka_bootstrap, topics=[topic(PEGAWAI, one_partition)], group_id=f"g-{uuid.uuid4().hex[:6]}",
                session_factory=sink.sessions, processed_table=sink.processed, handle=sink.handle,
                producer_factory=lambda: make_producer(kafka_bootstrap), batch_size=10,
                between_polls=lambda: more.pop(0) if more else False)
    stop = threading.Event()
    t = threading.Thread(target=c.run, args=(stop,), daemon=True)
    t.start()
    try:
        wait_until(lambda: len(waits) >= 5, 60, message="five polls")
    finally:
        stop.set()
        t.join(30)
    assert not t.is_alive()
    assert waits[:5] == [IDLE_POLL_MS, BUSY_POLL_MS, BUSY_POLL_MS, IDLE_POLL_MS, IDLE_POLL_MS], waits
    assert sink.applied == []
