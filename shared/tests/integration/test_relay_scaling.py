"""Relays that stream and scale, against a real broker and real databases.

Two relays on one outbox while writers keep adding events: every event is on the topic exactly
once, and each key's events are in the order they were written (the writers number them). On
PostgreSQL both relays publish (each its half of the key buckets, rebalanced as they come and
go); on SQLite one claims the outbox and the other stands by until the first stops."""
from __future__ import annotations

import json
import threading
import time
import uuid
from collections import defaultdict

import pytest
from kafka import KafkaConsumer, TopicPartition
from sqlalchemy import MetaData, func, select, text
from sqlalchemy.orm import Session

from kinerja.db import make_engine
from kinerja.messaging.outbox import Outbox, add_plumbing_tables, outbox_row
from kinerja.messaging.producer import make_producer
from kinerja.messaging.relay import RELAY_PRODUCER, OutboxRelay
from kinerja.messaging.topics import KEHADIRAN, topic
from kinerja.testing import wait_until

pytestmark = pytest.mark.integration

EVENT_TYPE = "kehadiran.punch.recorded.v1"  # a kehadiran.v1 event: the relay only forwards it
KEYS = 24
WRITERS = 3


class Outboxed:
    def __init__(self, url: str):
        self.metadata = MetaData()
        self.table, self.processed = add_plumbing_tables(self.metadata)
        self.engine = make_engine(url)
        self.metadata.create_all(self.engine)
        self.outbox = Outbox(self.metadata)

    def count(self, *where) -> int:
        with self.engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(self.table).where(*where)).scalar_one()

    def unsent(self) -> int:
        return self.count(self.table.c.sent_at.is_(None))


def nip(k: int) -> str:
    return f"19900101201501{k:04d}"


class Writers:
    """``WRITERS`` threads, each the only writer of its keys (so a key's commit order is its
    numbering), each committing small transactions of several keys' next events, until stopped;
    the threads' transactions interleave, so ids commit out of order across keys, as in a service."""

    def __init__(self, box: Outboxed, events_per_tx: int = 8, max_per_key: int = 10_000):
        self.box = box
        self.events_per_tx = events_per_tx
        self.max_per_key = max_per_key
        self.written: list[str] = []
        self.errors: list[BaseException] = []
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self._run, args=(w,), daemon=True) for w in range(WRITERS)]

    def _run(self, w: int) -> None:
        try:
            keys = [k for k in range(KEYS) if k % WRITERS == w]
            queue = [(k, seq) for seq in range(self.max_per_key) for k in keys]
            for start in range(0, len(queue), self.events_per_tx):
                if self.stop.is_set():
                    return
                rows = []
                for k, seq in queue[start:start + self.events_per_tx]:
                    event_id = str(uuid.uuid4())
                    value = json.dumps({"id": event_id, "type": EVENT_TYPE, "subject": nip(k), "data": {"seq": seq}})
                    rows.append(outbox_row(event_id, EVENT_TYPE, nip(k), value))
                with self.box.engine.begin() as conn:
                    self.box.outbox.add_rows(conn, rows)
                self.written.extend(r["event_id"] for r in rows)
                time.sleep(0.01)  # a steady stream, not one burst, for as long as the test needs
        except BaseException as exc:  # noqa: BLE001 - reported by finish()
            self.errors.append(exc)

    def start(self) -> "Writers":
        for t in self.threads:
            t.start()
        return self

    def finish(self) -> list[str]:
        self.stop.set()
        for t in self.threads:
            t.join(60)
        assert not self.errors, self.errors
        return self.written


def read_topic(bootstrap: str, name: str, expected: int, timeout_s: float = 60) -> list:
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False)
    try:
        parts = wait_until(lambda: consumer.partitions_for_topic(name), 20, message=f"metadata of {name}")
        tps = [TopicPartition(name, p) for p in sorted(parts)]
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        records = []
        deadline = time.monotonic() + timeout_s
        ends = wait_until(lambda: (e := consumer.end_offsets(tps)) and sum(e.values()) >= expected and e,
                          timeout_s, message=f"{expected} records on {name}")
        while any(consumer.position(tp) < ends[tp] for tp in tps):
            assert time.monotonic() < deadline, f"could not read {name} to its end"
            for batch in consumer.poll(timeout_ms=500).values():
                records.extend(batch)
        return records
    finally:
        consumer.close()


def check_exactly_once_in_key_order(records: list, written: list[str]) -> None:
    ids = [json.loads(r.value)["id"] for r in records]
    assert sorted(ids) == sorted(written), (
        f"{len(ids)} on the topic for {len(written)} written; {len(ids) - len(set(ids))} twice, "
        f"{len(set(written) - set(ids))} missing")
    by_key: dict[str, list[int]] = defaultdict(list)
    partition_of: dict[str, set[int]] = defaultdict(set)
    for r in sorted(records, key=lambda r: (r.partition, r.offset)):
        event = json.loads(r.value)
        assert r.key.decode() == event["subject"]
        by_key[event["subject"]].append(event["data"]["seq"])
        partition_of[event["subject"]].add(r.partition)
    assert all(len(p) == 1 for p in partition_of.values())
    out_of_order = {k: seqs for k, seqs in by_key.items() if seqs != sorted(seqs)}
    assert not out_of_order, f"keys out of order: {list(out_of_order)[:3]}"


def relay_for(box: Outboxed, bootstrap: str, prefix: str, **kw) -> OutboxRelay:
    return OutboxRelay(box.engine, box.table, lambda: make_producer(bootstrap, **RELAY_PRODUCER), prefix=prefix,
                       batch_size=kw.pop("batch_size", 100), claim_refresh_s=kw.pop("claim_refresh_s", 0.3), **kw)


def claims_of(relay: OutboxRelay):
    """The claims a running relay made for itself (read from the test's thread)."""
    return wait_until(lambda: relay._claims, 30, message="the relay's claims")


def start(relay: OutboxRelay) -> tuple[threading.Thread, threading.Event]:
    stop = threading.Event()
    t = threading.Thread(target=relay.run, args=(stop,), daemon=True)
    t.start()
    return t, stop


def halt(*running: tuple[threading.Thread, threading.Event]) -> None:
    for _, stop in running:
        stop.set()
    for t, _ in running:
        t.join(30)
        assert not t.is_alive()


def test_two_relays_on_postgresql_publish_every_event_once_in_key_order(postgres_url, kafka_bootstrap, topic_prefix):
    box = Outboxed(postgres_url)
    a, b = relay_for(box, kafka_bootstrap, topic_prefix), relay_for(box, kafka_bootstrap, topic_prefix)
    writers = Writers(box).start()
    first = start(a)
    wait_until(lambda: a.published > 100, 60, message="relay a publishing")
    second = start(b)  # joins under load: a gives half the buckets up, b takes them
    wait_until(lambda: b.published > 100, 60, message="relay b publishing its half")
    assert claims_of(a).members == claims_of(b).members and len(claims_of(a).members) == 2
    assert claims_of(a).leader != claims_of(b).leader  # one of them trims the outbox
    before = a.published
    wait_until(lambda: a.published > before + 100, 60, message="relay a publishing the other half")
    halt(first)  # leaves under load: b takes a's buckets over
    before = b.published
    wait_until(lambda: b.published > before + 300, 60, message="relay b publishing every bucket")
    written = writers.finish()
    wait_until(lambda: box.unsent() == 0, 60, message="the outbox drained")
    halt(second)
    assert a.published + b.published == len(written)
    check_exactly_once_in_key_order(read_topic(kafka_bootstrap, topic(KEHADIRAN, topic_prefix), len(written)),
                                    written)


def test_two_relays_on_sqlite_one_claims_the_other_takes_over(sqlite_url, kafka_bootstrap, topic_prefix):
    box = Outboxed(sqlite_url)
    a, b = relay_for(box, kafka_bootstrap, topic_prefix), relay_for(box, kafka_bootstrap, topic_prefix)
    writers = Writers(box).start()
    first = start(a)
    wait_until(lambda: a.published > 100, 60, message="relay a publishing")
    second = start(b)
    claims_of(b)
    before = a.published
    wait_until(lambda: a.published > before + 300, 60, message="relay a still publishing")
    assert b.published == 0 and claims_of(b).buckets == frozenset()  # standing by
    halt(first)
    wait_until(lambda: b.published > 300, 60, message="relay b taking over")
    written = writers.finish()
    wait_until(lambda: box.unsent() == 0, 60, message="the outbox drained")
    halt(second)
    assert a.published + b.published == len(written)
    check_exactly_once_in_key_order(read_topic(kafka_bootstrap, topic(KEHADIRAN, topic_prefix), len(written)),
                                    written)


def test_a_relay_keeps_sending_while_acks_are_outstanding(sqlite_url, kafka_bootstrap, topic_prefix):
    """The pipeline: the next batches are sent before the first batch's acks are in, and the acks
    are marked sent in bulk when they arrive."""
    box = Outboxed(sqlite_url)
    rows = []
    for i in range(600):
        event_id = str(uuid.uuid4())
        rows.append(outbox_row(event_id, EVENT_TYPE, nip(i % KEYS),
                               json.dumps({"id": event_id, "type": EVENT_TYPE, "subject": nip(i % KEYS),
                                           "data": {"seq": i // KEYS}})))
    with box.engine.begin() as conn:
        box.outbox.add_rows(conn, rows)
    # the producer holds its batches (far from full) for a minute, so no ack comes before flush()
    relay = OutboxRelay(box.engine, box.table,
                        lambda: make_producer(kafka_bootstrap, **{**RELAY_PRODUCER, "linger_ms": 60_000}),
                        prefix=topic_prefix, batch_size=100, max_in_flight=1000, mark_interval_s=0)
    try:
        assert [relay.step() for _ in range(6)] == [100] * 6
        assert len(relay._inflight) == 600 and relay.published == 0 and box.unsent() == 600
        relay._get_producer().flush(30)
        assert relay.step() == 0  # collects the 600 acks and marks them in one go
        assert relay.published == 600 and not relay._inflight and box.unsent() == 0
    finally:
        relay._finish()
    check_exactly_once_in_key_order(read_topic(kafka_bootstrap, topic(KEHADIRAN, topic_prefix), 600),
                                    [r["event_id"] for r in rows])


def test_a_relay_on_postgresql_is_woken_by_notify_not_by_its_poll(postgres_url, kafka_bootstrap, topic_prefix):
    box = Outboxed(postgres_url)
    relay = relay_for(box, kafka_bootstrap, topic_prefix, notify_poll_s=60, idle_interval_s=60)
    running = start(relay)
    try:
        wait_until(lambda: relay._listener is not None and relay._listener.connected.is_set(), 30,
                   message="the relay listening")
        # it has found nothing to send since, and waits: only a notification (or 60 s) wakes it
        wait_until(lambda: relay.waits >= 2, 30, message="the relay waiting")
        event_id = str(uuid.uuid4())
        began = time.monotonic()
        with box.engine.begin() as conn:
            box.outbox.add_rows(conn, [outbox_row(event_id, EVENT_TYPE, nip(1), json.dumps({"id": event_id}))])
        wait_until(lambda: box.unsent() == 0, 20, interval_s=0.01, message="the row published")
        assert time.monotonic() - began < 10
    finally:
        halt(running)


def test_a_relay_on_sqlite_is_woken_by_the_writers_commit_not_by_its_poll(sqlite_url, kafka_bootstrap, topic_prefix):
    """The writer is an engine of its own (as a web worker or the day worker in another process):
    its commit signals the relay (``kinerja.wakeup.announce_inserts``), which would otherwise
    sleep out its 60 s poll."""
    box = Outboxed(sqlite_url)
    relay = relay_for(box, kafka_bootstrap, topic_prefix, notify_poll_s=60, idle_interval_s=60)
    running = start(relay)
    writer = make_engine(sqlite_url)
    try:
        wait_until(lambda: relay._listener is not None and relay._listener.connected.is_set(), 30,
                   message="the relay listening")
        # its listener (bound before the loop began) woke it once; it found nothing and waits:
        # only a signal (or 60 s) wakes it now
        wait_until(lambda: relay.waits >= 1, 30, message="the relay waiting")
        for k in range(3):  # an ORM session, Core, and hand-written SQL (kehadiran's hot path)
            event_id = str(uuid.uuid4())
            row = outbox_row(event_id, EVENT_TYPE, nip(k), json.dumps({"id": event_id}))
            began = time.monotonic()
            if k == 0:
                with Session(writer) as session, session.begin():
                    box.outbox.add_rows(session.connection(), [row])
            elif k == 1:
                with writer.begin() as conn:
                    box.outbox.add_rows(conn, [row])
            else:
                with writer.begin() as conn:
                    conn.execute(text("INSERT INTO outbox (event_id, topic, key, value, created_at) "
                                      "VALUES (:event_id, :topic, :key, :value, :created_at)"),
                                 {**row, "created_at": row["created_at"].isoformat(" ")})
            wait_until(lambda: box.unsent() == 0, 20, interval_s=0.01, message=f"row {k} published")
            assert time.monotonic() - began < 10
    finally:
        writer.dispose()
        halt(running)


def test_a_row_committed_late_below_rows_in_flight_goes_before_its_keys_next_row(postgres_url, kafka_bootstrap,
                                                                               topic_prefix):
    """The case a cursor ("ids above the last one sent") or a SKIP LOCKED claim gets wrong: a
    transaction takes an id, commits late, below rows already in flight; its key's next row must
    still follow it onto the topic."""
    box = Outboxed(postgres_url)

    def row(key: int, seq: int) -> dict:
        event_id = str(uuid.uuid4())
        return outbox_row(event_id, EVENT_TYPE, nip(key),
                          json.dumps({"id": event_id, "type": EVENT_TYPE, "subject": nip(key), "data": {"seq": seq}}))

    relay = OutboxRelay(box.engine, box.table,
                        lambda: make_producer(kafka_bootstrap, **{**RELAY_PRODUCER, "linger_ms": 60_000}),
                        prefix=topic_prefix, batch_size=100, listen=False, mark_interval_s=0)
    late, other, following = row(1, 0), row(2, 0), row(1, 1)
    slow = box.engine.connect()
    try:
        tx = slow.begin()
        box.outbox.add_rows(slow, [late])  # takes the lower id, commits later
        with box.engine.begin() as conn:
            box.outbox.add_rows(conn, [other])
        assert relay.step() == 1 and len(relay._inflight) == 1  # `other` is in flight, `late` not yet visible
        tx.commit()
        with box.engine.begin() as conn:
            box.outbox.add_rows(conn, [following])
        assert relay.step() == 2  # `late` and `following`, in that order
        relay._get_producer().flush(30)
        relay.step()
        assert box.unsent() == 0
    finally:
        slow.close()
        relay._finish()
    records = read_topic(kafka_bootstrap, topic(KEHADIRAN, topic_prefix), 3)
    check_exactly_once_in_key_order(records, [late["event_id"], other["event_id"], following["event_id"]])
    with box.engine.connect() as conn:
        ids = dict(conn.execute(select(box.table.c.event_id, box.table.c.id)).all())
    assert ids[late["event_id"]] < ids[other["event_id"]] < ids[following["event_id"]]


def test_an_ack_alone_marks_the_row_and_reads_nothing_while_the_listener_tells_of_rows(
        postgres_url, kafka_bootstrap, topic_prefix):
    """A quiet relay's round per event: the notification's read sends the row; the ack wakes
    nothing, and the round that marks it (``mark_interval_s`` later) reads nothing (an ack's
    wake-up used to read the outbox again, one wasted statement per record)."""
    box = Outboxed(postgres_url)
    relay = relay_for(box, kafka_bootstrap, topic_prefix, notify_poll_s=60, idle_interval_s=60,
                      claim_refresh_s=60, depth_interval_s=60)
    running = start(relay)
    try:
        wait_until(lambda: relay._listener is not None and relay._listener.connected.is_set(), 30,
                   message="the relay listening")
        wait_until(lambda: relay.waits >= 2, 30, message="the relay waiting")
        reads = relay.reads
        for k in range(3):
            event_id = str(uuid.uuid4())
            with box.engine.begin() as conn:
                box.outbox.add_rows(conn, [outbox_row(event_id, EVENT_TYPE, nip(k), json.dumps({"id": event_id}))])
            wait_until(lambda: relay.published == k + 1 and box.unsent() == 0, 20, interval_s=0.01,
                       message=f"row {k} published and marked")
        # one read per row: the one its notification asked for (an ack's read would come before
        # the next row's, in the same loop)
        assert relay.reads == reads + 3
    finally:
        halt(running)


def test_a_row_nobody_announced_is_found_by_the_relays_poll(postgres_url, kafka_bootstrap, topic_prefix):
    """The read skipped after an ack is only skipped while notifications come: a row inserted
    without one (a table without the trigger) is still found when the poll interval is up."""
    box = Outboxed(postgres_url)
    with box.engine.begin() as conn:
        conn.execute(text("DROP TRIGGER outbox_notify ON outbox"))
    relay = relay_for(box, kafka_bootstrap, topic_prefix, notify_poll_s=0.5)
    running = start(relay)
    try:
        wait_until(lambda: relay._listener is not None and relay._listener.connected.is_set(), 30,
                   message="the relay listening")
        written = []
        for k in range(3):
            event_id = str(uuid.uuid4())
            with box.engine.begin() as conn:
                box.outbox.add_rows(conn, [outbox_row(event_id, EVENT_TYPE, nip(k), json.dumps(
                    {"id": event_id, "type": EVENT_TYPE, "subject": nip(k), "data": {"seq": 0}}))])
            written.append(event_id)
            wait_until(lambda: box.unsent() == 0, 30, interval_s=0.05, message=f"row {k} published")
    finally:
        halt(running)
    check_exactly_once_in_key_order(read_topic(kafka_bootstrap, topic(KEHADIRAN, topic_prefix), 3), written)
