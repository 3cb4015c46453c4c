"""A busy batch consumer applies what arrived while it worked in its next batch, not one batch later
(``kinerja.messaging.consumer.top_up``), against a real broker."""
import threading
import time
import uuid

import pytest
from sqlalchemy import MetaData

from kinerja.db import make_engine, make_session_factory
from kinerja.events import make_event
from kinerja.events.pegawai import EMPLOYEE_UPSERTED
from kinerja.messaging.consumer import IdempotentConsumer
from kinerja.messaging.consumer.top_up import TopUp
from kinerja.messaging.outbox import add_plumbing_tables
from kinerja.messaging.producer import make_producer
from kinerja.messaging.topics import PEGAWAI, topic
from kinerja.testing import wait_until

pytestmark = pytest.mark.integration

NIP = "198503122010010001"  # one key: every record on one partition, in order
WORK_S = 0.2  # how long the first batch takes (the loop tops up after this much work, not less)


def employee(i: int):
    return make_event(EMPLOYEE_UPSERTED, subject=NIP, agency="disdik", source="test",
                      data={"nip": NIP, "nama": f"ASN {i}", "agency": "disdik", "unit": "U", "pin": "1"})


def test_records_that_arrive_during_a_batch_are_applied_in_the_next_batch(sqlite_url, kafka_bootstrap,
                                                                          topic_prefix):
    """Batches of 3. Records 1-4 wait on the partition, so the first poll takes 1-3 and leaves 4 in
    kafka-python's buffer; 5-7 arrive while batch 1 is applied. The next poll hands over 4 from the
    buffer and sends a fetch, whose answer (5-7) used to wait in the buffer while 4 was applied
    alone: batches 1-3, 4, 5-7. Now the loop polls again at once and takes 5 and 6 with 4:
    batches 1-3, 4-6, 7. (The second poll may wait long here, so a slow machine cannot make it
    miss them; the loop's own wait is a few milliseconds.)"""
    metadata = MetaData()
    _, processed = add_plumbing_tables(metadata)
    engine = make_engine(sqlite_url)
    metadata.create_all(engine)
    batches: list[list[int]] = []
    working, go_on = threading.Event(), threading.Event()

    def apply_batch(_session, events):
        batches.append([int(e.data["nama"].split()[1]) for e in events])
        if len(batches) == 1:
            working.set()
            assert go_on.wait(60), "the test never let the first batch finish"

    consumer = IdempotentConsumer(
        bootstrap=kafka_bootstrap, topics=[topic(PEGAWAI, topic_prefix)], group_id=f"g-{uuid.uuid4().hex[:6]}",
        session_factory=make_session_factory(engine), processed_table=processed, handle=lambda s, e: None,
        producer_factory=lambda: make_producer(kafka_bootstrap), batch_size=3, apply_batch=apply_batch)
    consumer.top_up = TopUp(after_s=WORK_S, wait_ms=5000)
    producer = make_producer(kafka_bootstrap, linger_ms=0)
    stop = threading.Event()
    thread = threading.Thread(target=consumer.run, args=(stop,), daemon=True)

    def send(i: int) -> None:
        event = employee(i)
        producer.send(topic(PEGAWAI, topic_prefix), key=event.key, value=event.to_bytes()).get(30)

    try:
        for i in (1, 2, 3, 4):
            send(i)
        thread.start()
        assert working.wait(60), "the first batch was never applied"
        began = time.monotonic()
        for i in (5, 6, 7):
            send(i)
        time.sleep(max(0.0, WORK_S - (time.monotonic() - began)))  # the batch's work, not a wait for anything
        go_on.set()
        wait_until(lambda: sum(len(b) for b in batches) == 7, 60, message="all seven applied")
    finally:
        go_on.set()
        stop.set()
        thread.join(30)
        producer.close(5)
        engine.dispose()
    assert batches == [[1, 2, 3], [4, 5, 6], [7]]
    assert consumer.top_up.topped_up == 1 and consumer.stats.applied == 7
