"""``IdempotentConsumer(overlap=True)`` (``kinerja.messaging.consumer.overlap``), on a real broker
and a real database: the next poll is fetched and decoded while the poll before is still in its
transaction, yet offsets are committed only after that transaction, and a stop while a poll is in
flight commits what was applied and leaves the poll decoded ahead to be fetched again."""
import threading
import uuid

import pytest

from kinerja.events.envelope import decode_event
from kinerja.messaging.consumer import IdempotentConsumer
from kinerja.messaging.producer import make_producer
from kinerja.messaging.topics import PEGAWAI, ensure_topics, topic
from kinerja.testing import wait_until

from .test_consumer_commits import backlog, committed, pin_sink

pytestmark = pytest.mark.integration


@pytest.fixture
def one_partition(kafka_bootstrap) -> str:
    prefix = "o" + uuid.uuid4().hex[:10]
    ensure_topics(kafka_bootstrap, prefix=prefix, partitions=1)
    return topic(PEGAWAI, prefix)


class Held:
    """A consumer whose transaction holding pin 0 waits for ``release``, counting decodes."""

    def __init__(self, sink, bootstrap: str, name: str, group: str, overlap: bool = True):
        self.inside, self.release, self.stop = threading.Event(), threading.Event(), threading.Event()
        self.decoded = 0
        self.sink = sink

        def handle(session, event):
            if event.data["pin"] == "0":
                self.inside.set()
                assert self.release.wait(60)
            sink.handle(session, event)

        def decode(raw):
            self.decoded += 1
            return decode_event(raw)

        self.consumer = IdempotentConsumer(
            bootstrap=bootstrap, topics=[name], group_id=group, session_factory=sink.sessions,
            processed_table=sink.processed, handle=handle, producer_factory=lambda: make_producer(bootstrap),
            batch_size=10, poll_gap_s=0, commit_interval_s=0, decode=decode, overlap=overlap)
        self.thread = threading.Thread(target=self.consumer.run, args=(self.stop,), daemon=True)
        self.thread.start()

    def close(self):
        self.release.set()
        self.stop.set()
        self.thread.join(30)
        assert not self.thread.is_alive()


def test_the_next_poll_is_decoded_during_a_transaction_and_offsets_wait_for_its_commit(
        sqlite_url, kafka_bootstrap, one_partition):
    sink = pin_sink(sqlite_url)
    group = f"g-{uuid.uuid4().hex[:6]}"
    backlog(kafka_bootstrap, one_partition, 0, 30)
    held = Held(sink, kafka_bootstrap, one_partition, group)
    try:
        assert held.inside.wait(60)
        # the loop polled and decoded the second poll while the first's transaction is open
        wait_until(lambda: held.decoded >= 20, 30, message="the next poll decoded during the transaction")
        assert held.decoded == 20  # one poll ahead, no more
        assert committed(kafka_bootstrap, group, one_partition) is None  # nothing before the commit
        held.release.set()
        wait_until(lambda: committed(kafka_bootstrap, group, one_partition) == 30, 60, message="all committed")
    finally:
        held.close()
    assert sink.applied == list(range(30))  # poll order, each once
    assert held.consumer.stats.applied == 30 and held.consumer.stats.duplicates == 0


def test_a_stop_during_a_transaction_commits_it_and_leaves_the_poll_decoded_ahead(
        sqlite_url, kafka_bootstrap, one_partition):
    sink = pin_sink(sqlite_url)
    group = f"g-{uuid.uuid4().hex[:6]}"
    backlog(kafka_bootstrap, one_partition, 0, 30)
    held = Held(sink, kafka_bootstrap, one_partition, group)
    assert held.inside.wait(60)
    wait_until(lambda: held.decoded >= 20, 30, message="the next poll decoded during the transaction")
    held.stop.set()  # SIGTERM, as stop_on_signals sets it
    held.close()
    assert committed(kafka_bootstrap, group, one_partition) == 10  # the poll applied, not the one decoded
    assert sink.applied == list(range(10))
    again = Held(sink, kafka_bootstrap, one_partition, group)
    try:
        wait_until(lambda: committed(kafka_bootstrap, group, one_partition) == 30, 60, message="the rest")
    finally:
        again.close()
    assert sink.applied == list(range(30))
    assert again.consumer.stats.duplicates == 0 and again.consumer.stats.applied == 20
