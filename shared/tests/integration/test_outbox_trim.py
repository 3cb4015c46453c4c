"""Bounded storage: sent outbox rows and old processed_events records are deleted after their
retention, a bounded amount at a time; unsent rows and recent records never are. Each test runs
on SQLite and PostgreSQL."""
import json
import threading
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import MetaData, func, insert, select, update

from kinerja.db import make_engine, make_session_factory
from kinerja.events import make_event
from kinerja.events.pegawai import EMPLOYEE_UPSERTED
from kinerja.messaging.consumer import IdempotentConsumer
from kinerja.messaging.outbox import Outbox, add_plumbing_tables, outbox_row, trim_sent, utcnow
from kinerja.messaging.relay import OutboxRelay
from kinerja.testing import RecordingProducer, consumer_record

pytestmark = pytest.mark.integration


class Box:
    def __init__(self, url: str):
        self.metadata = MetaData()
        self.outbox_table, self.processed = add_plumbing_tables(self.metadata)
        self.engine = make_engine(url)
        self.metadata.create_all(self.engine)
        self.outbox = Outbox(self.metadata)

    def add(self, n: int) -> list[int]:
        rows = []
        for i in range(n):
            event_id = str(uuid.uuid4())
            rows.append(outbox_row(event_id, "kehadiran.punch.recorded.v1", f"1990010120150100{i % 10:02d}",
                                   json.dumps({"id": event_id})))
        with self.engine.begin() as conn:
            self.outbox.add_rows(conn, rows)
            return list(conn.execute(select(self.outbox_table.c.id).order_by(self.outbox_table.c.id)
                                     .where(self.outbox_table.c.event_id.in_([r["event_id"] for r in rows]))).scalars())

    def mark(self, ids: list[int], ago_s: float) -> None:
        t = self.outbox_table
        with self.engine.begin() as conn:
            conn.execute(update(t).where(t.c.id.in_(ids)).values(sent_at=utcnow() - timedelta(seconds=ago_s)))

    def outbox_ids(self) -> set[int]:
        with self.engine.connect() as conn:
            return set(conn.execute(select(self.outbox_table.c.id)).scalars())


def test_sent_rows_past_the_retention_are_deleted_in_chunks_and_nothing_else(database_url):
    box = Box(database_url)
    ids = box.add(40)
    old, recent, unsent = ids[:23], ids[23:30], ids[30:]
    box.mark(old, ago_s=3600)
    box.mark(recent, ago_s=10)
    # unsent rows are never touched, however old
    t = box.outbox_table
    with box.engine.begin() as conn:
        conn.execute(update(t).where(t.c.id.in_(unsent)).values(created_at=utcnow() - timedelta(days=30)))
    assert trim_sent(box.engine, t, retention_s=600, chunk=5) == 23  # five chunks, the last one short
    assert box.outbox_ids() == set(recent) | set(unsent)
    assert trim_sent(box.engine, t, retention_s=600, chunk=5) == 0


def test_the_housekeeping_relay_deletes_what_it_sent_after_the_retention(database_url):
    box = Box(database_url)
    ids = box.add(12)
    box.mark(ids[:8], ago_s=120)
    box.mark(ids[8:10], ago_s=1)
    relay = OutboxRelay(box.engine, box.outbox_table, producer_factory=lambda: None, retention_s=60, listen=False)
    try:
        relay.claims.refresh(idle=True)  # the only relay, so it keeps the house
        assert relay.claims.leader
        assert relay.trim(force=True) == 8
        assert box.outbox_ids() == set(ids[8:])
    finally:
        relay._finish()


def test_old_processed_events_are_deleted_and_a_recent_redelivery_is_still_a_duplicate(database_url):
    box = Box(database_url)
    events = [make_event(EMPLOYEE_UPSERTED, subject=f"1985031220100100{i:02d}", agency="a", source="t",
                         data={"nip": f"1985031220100100{i:02d}", "nama": "x", "agency": "a", "unit": "U", "pin": str(i)})
              for i in range(6)]
    applied = []
    consumer = IdempotentConsumer(
        bootstrap="127.0.0.1:9", topics=["t.pegawai.v1"], group_id="g", session_factory=make_session_factory(box.engine),
        processed_table=box.processed, handle=lambda session, e: applied.append(e.id),
        producer_factory=RecordingProducer, processed_retention_s=7 * 24 * 3600)
    stop = threading.Event()
    for offset, e in enumerate(events):
        assert consumer.process_message(consumer_record(e, offset, "t.pegawai.v1"), stop)
    p = box.processed
    with box.engine.begin() as conn:  # the first four were applied eight days ago
        conn.execute(update(p).where(p.c.event_id.in_([e.id for e in events[:4]]))
                     .values(processed_at=utcnow() - timedelta(days=8)))
    assert consumer.trim(force=True) == 4
    with box.engine.connect() as conn:
        assert set(conn.execute(select(p.c.event_id)).scalars()) == {e.id for e in events[4:]}
    assert consumer.process_message(consumer_record(events[5], 9, "t.pegawai.v1"), stop)
    assert len(applied) == 6 and consumer.stats.duplicates == 1
