"""The relay's round gap (``KINERJA_RELAY_ROUND_GAP_MS``), counted in reads on a real broker and a
real database: rows committed faster than a round go several to a read (so to a produce
request), a full read reads on at once, and every row is published once, in id order. And its
``hold_types`` (kehadiran's punch rows), with the relay's own loop and listener: a read that finds
only rows of a held type leaves them unsent, the next row's notification reads them again and sends
both in one send, in id order; a held row nothing follows goes out once ``hold_s`` is over."""
from __future__ import annotations

import json
import threading
import time
import uuid

import pytest
from kafka import KafkaConsumer, TopicPartition
from sqlalchemy import MetaData

from kinerja.db import make_engine
from kinerja.messaging.outbox import Outbox, add_plumbing_tables, outbox_row
from kinerja.messaging.producer import make_producer
from kinerja.messaging.relay import RELAY_PRODUCER, OutboxRelay
from kinerja.messaging.topics import KEHADIRAN, topic
from kinerja.testing import wait_until

pytestmark = pytest.mark.integration
EVENT_TYPE = "kehadiran.punch.recorded.v1"
HELD, OTHER = EVENT_TYPE, "kehadiran.day.summarized.v1"


def add_row(box: Outbox, engine, i: int) -> str:
    event_id = f"{i:06d}-{uuid.uuid4()}"
    with engine.begin() as conn:  # a transaction a row, as a request or a round commits them
        box.add_rows(conn, [outbox_row(event_id, EVENT_TYPE, "199001012015010001", json.dumps({"id": event_id}))])
    return event_id


def published(bootstrap: str, name: str, n: int) -> list[str]:
    """The ids on the topic's partition of the one key, in log order."""
    c = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False)
    try:
        tps = [TopicPartition(name, p) for p in c.partitions_for_topic(name)]
        c.assign(tps)
        c.seek_to_beginning(*tps)
        ids: list[str] = []
        deadline = time.monotonic() + 30
        while len(ids) < n and time.monotonic() < deadline:
            for recs in c.poll(timeout_ms=500).values():
                ids.extend(json.loads(r.value)["id"] for r in recs)
        return ids
    finally:
        c.close()


def relay_of(database_url: str, bootstrap: str, prefix: str, **kw):
    metadata = MetaData()
    table, _ = add_plumbing_tables(metadata)
    engine = make_engine(database_url)
    metadata.create_all(engine)
    relay = OutboxRelay(engine, table, lambda: make_producer(bootstrap, **RELAY_PRODUCER), prefix=prefix,
                        depth_interval_s=3600, **kw)
    return relay, Outbox(metadata), engine


def test_rows_faster_than_a_round_go_several_to_a_read_in_order(database_url, kafka_bootstrap, topic_prefix):
    relay, box, engine = relay_of(database_url, kafka_bootstrap, topic_prefix, round_gap_s=0.3)
    stop = threading.Event()
    t = threading.Thread(target=relay.run, args=(stop,), daemon=True)
    t.start()
    try:
        # 40 one-row transactions ~5 ms apart (~0.2 s): back to back that was a read, a send and
        # a produce request each; with a read at most every 0.3 s, a handful
        ids = []
        for i in range(40):
            ids.append(add_row(box, engine, i))
            time.sleep(0.005)
        wait_until(lambda: relay.published == 40, 60, message="40 rows published and marked")
        # a read a notification when idle, plus at most one every 0.3 s while rows come, plus the
        # notify poll's (0.5 s) while acks are marked: far from 40, however slow this machine
        assert relay.reads <= 12, relay.reads
    finally:
        stop.set()
        t.join(30)
        engine.dispose()
    assert published(kafka_bootstrap, topic(KEHADIRAN, topic_prefix), 40) == ids


def test_a_full_read_reads_on_at_once_a_partial_one_waits_the_gap(sqlite_url, kafka_bootstrap, topic_prefix):
    relay, box, engine = relay_of(sqlite_url, kafka_bootstrap, topic_prefix, batch_size=5, round_gap_s=3600,
                                  notify_poll_s=0)
    try:
        for i in range(12):
            add_row(box, engine, i)
        # rounds by hand: two full reads back to back, then the rest, then the gap holds a read
        assert [relay.step(), relay.step(), relay.step()] == [5, 5, 2]
        add_row(box, engine, 12)
        assert relay.step() == 0 and relay.reads == 3
        relay._next_read_at = time.monotonic()  # the gap over (an hour, not waited here)
        assert relay.step() == 1 and relay.reads == 4
    finally:
        relay._finish()
        engine.dispose()


@pytest.mark.parametrize("interval_s, before, marks", [(3600.0, 0, 1), (0.0, 5, 5)])
def test_acknowledged_rows_are_marked_together_once_the_interval_is_over(sqlite_url, kafka_bootstrap, topic_prefix,
                                                                          interval_s, before, marks):
    """Five rows a round apart, each read, sent and acknowledged on its own (a trickle): marked in
    one UPDATE when the interval is over, not one a round (interval 0: one a round)."""
    relay, box, engine = relay_of(sqlite_url, kafka_bootstrap, topic_prefix, round_gap_s=0, notify_poll_s=0,
                                  mark_interval_s=interval_s)
    try:
        for i in range(5):
            add_row(box, engine, i)
            assert relay.step() == 1
            relay._get_producer().flush(timeout=30)
            wait_until(lambda: relay._acks, 30, message="the row acknowledged")
        relay.step()  # collects the last ack
        assert relay.marks == before and relay.published == before, (relay.marks, relay.published)
        relay._mark_at = time.monotonic()  # the interval over (an hour, not waited here)
        relay.step()
        assert relay.marks == marks and relay.published == 5
        assert relay.step() == 0  # nothing read again
    finally:
        relay._finish()
        engine.dispose()
    assert len(published(kafka_bootstrap, topic(KEHADIRAN, topic_prefix), 5)) == 5



def add_typed(box, engine, event_type: str) -> str:
    event_id = str(uuid.uuid4())
    value = json.dumps({"id": event_id, "type": event_type, "data": {}})
    with engine.begin() as conn:  # a transaction a row, as a request and a round commit them
        box.add_rows(conn, [outbox_row(event_id, event_type, "199001012015010001", value)])
    return event_id


def running(relay):
    stop = threading.Event()
    t = threading.Thread(target=relay.run, args=(stop,), daemon=True)
    t.start()
    wait_until(lambda: relay._listener is not None and relay._listener.connected.is_set() and relay.waits > 0, 30,
               message="the relay listening and idle")
    sends: list[int] = []
    send = relay._send
    relay._send = lambda rows: (sends.append(len(rows)), send(rows))
    return stop, t, sends


def test_a_held_row_waits_for_the_next_row_and_goes_in_one_send_with_it(database_url, kafka_bootstrap, topic_prefix):
    relay, box, engine = relay_of(database_url, kafka_bootstrap, topic_prefix, hold_types=(HELD,), hold_s=3600,
                                  round_gap_s=0, notify_poll_s=3600)
    stop, t, sends = running(relay)
    try:
        first = add_typed(box, engine, HELD)
        wait_until(lambda: relay.held >= 1, 30, message="the punch row read and left unsent")
        assert sends == [] and relay.published == 0
        second = add_typed(box, engine, OTHER)
        wait_until(lambda: sends, 30, message="the next row's notification read both")
        assert sends == [2], sends
        relay._mark_at = 0.0  # mark what is acknowledged at the next round (0.5 s otherwise)
        relay._wake.set()
        wait_until(lambda: relay.published == 2, 30, message="both acknowledged and marked")
    finally:
        stop.set()
        t.join(30)
        engine.dispose()
    assert published(kafka_bootstrap, topic(KEHADIRAN, topic_prefix), 2) == [first, second]


def test_a_held_row_nothing_follows_goes_out_when_the_hold_is_over(database_url, kafka_bootstrap, topic_prefix):
    relay, box, engine = relay_of(database_url, kafka_bootstrap, topic_prefix, hold_types=(HELD,), hold_s=0.3,
                                  round_gap_s=0, notify_poll_s=3600)
    stop, t, sends = running(relay)
    try:
        only = add_typed(box, engine, HELD)
        wait_until(lambda: sends, 30, message="the held row sent once the hold is over")
        assert relay.held >= 1 and sends == [1], (relay.held, sends)
    finally:
        stop.set()
        t.join(30)
        engine.dispose()
    assert published(kafka_bootstrap, topic(KEHADIRAN, topic_prefix), 1) == [only]
