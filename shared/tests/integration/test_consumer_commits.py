"""How often the consumer loop commits offsets (``KINERJA_CONSUMER_COMMIT_INTERVAL_MS``), counted
on a real broker: polls that keep returning records share one OffsetCommit per interval, a poll
that finds nothing (caught up) commits what is done at once, a stop commits the rest, and offsets
never run ahead of the database. A re-delivery of what was applied and not yet committed is
dropped as duplicates."""
import threading
import uuid

import pytest
from kafka import KafkaConsumer, TopicPartition

from kinerja.events import make_event
from kinerja.events.pegawai import EMPLOYEE_UPSERTED
from kinerja.messaging.consumer import IdempotentConsumer
from kinerja.messaging.producer import make_producer
from kinerja.messaging.topics import PEGAWAI, ensure_topics, topic
from kinerja.testing import wait_until
from kinerja_testkit.applied_sink import AppliedSink

pytestmark = pytest.mark.integration


def pin_sink(url: str) -> AppliedSink:
    return AppliedSink(url, lambda event: int(event.data["pin"]))


def backlog(bootstrap: str, name: str, first: int, n: int) -> None:
    producer = make_producer(bootstrap)
    for i in range(first, first + n):
        nip = f"19850312201001{i % 4:04d}"
        e = make_event(EMPLOYEE_UPSERTED, subject=nip, agency="disdik", source="test",
                       data={"nip": nip, "nama": f"ASN {i}", "agency": "disdik", "unit": "U", "pin": str(i)})
        producer.send(name, key=e.key, value=e.to_bytes())
    producer.flush()
    producer.close()


def committed(bootstrap: str, group: str, name: str) -> int | None:
    c = KafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    try:
        return c.committed(TopicPartition(name, 0))
    finally:
        c.close()


def run(sink: AppliedSink, bootstrap: str, name: str, group: str, interval_s: float, until) -> IdempotentConsumer:
    c = IdempotentConsumer(
        bootstrap=bootstrap, topics=[name], group_id=group, session_factory=sink.sessions,
        processed_table=sink.processed, handle=sink.handle, producer_factory=lambda: make_producer(bootstrap),
        batch_size=10, poll_gap_s=0, commit_interval_s=interval_s)
    stop = threading.Event()
    t = threading.Thread(target=c.run, args=(stop,), daemon=True)
    t.start()
    try:
        wait_until(until, 60, message="records applied")
    finally:
        stop.set()
        t.join(30)
    assert not t.is_alive()
    return c


@pytest.fixture
def one_partition(kafka_bootstrap) -> str:
    prefix = "c" + uuid.uuid4().hex[:10]
    ensure_topics(kafka_bootstrap, prefix=prefix, partitions=1)
    return topic(PEGAWAI, prefix)


def test_full_polls_share_a_commit_and_a_caught_up_poll_commits_at_once(sqlite_url, kafka_bootstrap, one_partition):
    sink = pin_sink(sqlite_url)
    group = f"g-{uuid.uuid4().hex[:6]}"
    backlog(kafka_bootstrap, one_partition, 0, 30)
    seen: dict[str, int] = {}

    def caught_up() -> bool:
        if len(sink.applied) < 30:
            return False
        # the poll after the three full ones finds nothing and commits; no sleep to race with
        seen["offset"] = committed(kafka_bootstrap, group, one_partition)
        return seen["offset"] == 30

    # an interval far longer than the run: only the first poll (nothing committed before) and
    # the first empty poll commit. Committed after every poll this was 3 commits
    c = run(sink, kafka_bootstrap, one_partition, group, 60.0, caught_up)
    assert c.stats.polls == 3, c.stats
    assert c.stats.commits == 2, c.stats
    assert sorted(sink.applied) == list(range(30)) and c.stats.duplicates == 0

    # interval 0: a commit after every poll that returned records, as before the interval
    sink0 = pin_sink(sqlite_url.replace(".db", "-0.db"))
    group0 = f"g-{uuid.uuid4().hex[:6]}"
    c0 = run(sink0, kafka_bootstrap, one_partition, group0, 0.0,
             lambda: len(sink0.applied) >= 30 and committed(kafka_bootstrap, group0, one_partition) == 30)
    assert c0.stats.polls == 3 and c0.stats.commits == 3, c0.stats


def test_what_was_applied_and_not_committed_comes_again_as_duplicates(sqlite_url, kafka_bootstrap, one_partition,
                                                                      monkeypatch):
    """A consumer that dies between a transaction and its offsets' commit (here: its commits after
    the first are lost, as in a SIGKILL) leaves the rest to the next member, which drops them."""
    sink = pin_sink(sqlite_url)
    group = f"g-{uuid.uuid4().hex[:6]}"
    backlog(kafka_bootstrap, one_partition, 0, 30)
    real = IdempotentConsumer._commit
    calls = []

    def first_only(self, consumer, pending):
        calls.append(dict(pending))
        if len(calls) == 1:
            return real(self, consumer, pending)
        pending.clear()  # lost with the process
        return 0.0

    monkeypatch.setattr(IdempotentConsumer, "_commit", first_only)
    run(sink, kafka_bootstrap, one_partition, group, 60.0, lambda: len(sink.applied) >= 30 and len(calls) >= 2)
    assert committed(kafka_bootstrap, group, one_partition) == 10  # the first poll's
    monkeypatch.setattr(IdempotentConsumer, "_commit", real)
    again = run(sink, kafka_bootstrap, one_partition, group, 60.0,
                lambda: committed(kafka_bootstrap, group, one_partition) == 30)
    assert again.stats.duplicates == 20 and again.stats.applied == 0, again.stats
    assert sorted(sink.applied) == list(range(30))
