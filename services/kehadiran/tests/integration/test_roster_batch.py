"""kehadiran's consumer applies a poll of roster events (``pegawai.v1``) in one transaction
(``roster_batch.apply_roster_batch``) and leaves the same rows as the events applied one at a time
(``roster.apply_roster_event``, the path it replaced and still falls back to): the last event of a
NIP in the log wins even when its own time is older, a repeated id is applied once, an invalid
record is dead-lettered and the rest applied; the closing cursor, the days a TMT move marks and
the PINs named follow. The poll costs one transaction and the same driver calls for 10 ASN as for
100 (one at a time: a transaction and ~11 statements an event). Through the real broker too, where
a second group reading the topic again changes nothing. On SQLite and PostgreSQL."""
from __future__ import annotations

import json
import threading
import uuid
from datetime import date, datetime, timezone

import pytest
from sqlalchemy import event as sa_event, select

from kehadiran.adapters.calendar_orm import ClosingCursor, Tracking
from kehadiran.adapters.orm import AgencySettings, DaySummaryRow, Employee
from kehadiran.entrypoints.consumer import make_consumer
from kehadiran.entrypoints.migrate import main as migrate
from kehadiran.entrypoints.runtime import make_runtime
from kehadiran.service_layer.roster import apply_roster_event
from kinerja.config import load_settings
from kinerja.events import decode_event, make_event
from kinerja.events.pegawai import EMPLOYEE_UPSERTED
from kinerja.messaging.producer import make_producer
from kinerja.messaging.topics import PEGAWAI, topic
from kinerja.testing import consumer_record, wait_until
from kinerja.testing.consumer_records import RecordingProducer

pytestmark = pytest.mark.integration
AGENCY = "disdik"
A, B, C = "199001012015011001", "199001012015011002", "199001012015011003"


def at(month: int, day: int) -> datetime:
    return datetime(2026, month, day, 2, tzinfo=timezone.utc)


def roster_event(nip: str, when: datetime, *, tmt: str | None = None, pin: str | None = None,
                 zone: str | None = None, active: bool = True, nama: str = "ASN"):
    data = {"nip": nip, "nama": nama, "agency": AGENCY, "unit": "Umum", "pin": pin, "active": active}
    if tmt:
        data["tmt"] = date.fromisoformat(tmt)
    if zone:
        data["timezone"] = zone
    # as the consumer gets it from pegawai.v1
    return decode_event(make_event(EMPLOYEE_UPSERTED, subject=nip, agency=AGENCY, source="test", time=when,
                                   event_id=str(uuid.uuid4()), data=data).to_bytes())


def invalid_record() -> bytes:
    raw = json.loads(roster_event(C, at(11, 5)).to_bytes())
    del raw["data"]["nama"]
    return json.dumps(raw).encode()


def the_log() -> list:
    """The poll: B new; A's TMT moved later and its zone named; C new; B's event again (the same
    id); A once more with an older event time (it wins: it is later in the log); a record that
    fails its schema; C turned inactive with a new PIN."""
    b = roster_event(B, at(11, 5), pin="2")
    return [b, roster_event(A, at(11, 6), tmt="2026-10-15", pin="1", zone="Asia/Makassar"),
            roster_event(C, at(11, 6), tmt="2026-10-20", pin="3"), b,
            roster_event(A, at(10, 2), tmt="2026-10-08", pin="7", nama="ASN tua"), invalid_record(),
            roster_event(C, at(11, 7), pin="9", active=False)]


def prepared(url: str, **settings):
    """A migrated database where A has been on the roster since October (TMT the 1st) with three
    day summaries, and the agency's days are closed through October."""
    migrate(url)
    runtime = make_runtime(load_settings("kehadiran", {"database_url": url, **settings}))
    with runtime.session() as s, s.begin():
        apply_roster_event(s, roster_event(A, at(10, 1), tmt="2026-10-01", pin="1"), agency_tz="Asia/Jakarta")
        s.add(ClosingCursor(agency=AGENCY, closed_through=date(2026, 10, 31)))
        for day in (5, 10, 20):
            s.add(DaySummaryRow(nip=A, day=date(2026, 10, day), version=1, final=True, payload={},
                                updated_at=at(10, day)))
    return runtime


def rows(runtime) -> dict:
    """What the roster leaves: employees, tracking, cursors, zones, and the markers (distinct)."""
    with runtime.session() as s:
        conn = s.connection()
        return {
            "employees": sorted((e.nip, e.nama, e.pin, e.pin_key, e.tmt, e.active, e.unit)
                                for e in s.execute(select(Employee)).scalars()),
            "tracking": sorted((t.nip, t.since) for t in s.execute(select(Tracking)).scalars()),
            "cursors": sorted((c.agency, c.closed_through) for c in s.execute(select(ClosingCursor)).scalars()),
            "zones": sorted((a.agency, a.timezone) for a in s.execute(select(AgencySettings)).scalars()),
            "dirty_days": sorted({(n, str(d)) for n, d in conn.exec_driver_sql("SELECT nip, day FROM dirty_days")}),
            "dirty_pins": sorted({tuple(r) for r in conn.exec_driver_sql("SELECT agency, pin FROM dirty_pins")}),
        }


def one_at_a_time(tmp_path, log: list) -> dict:
    """The rows ``log`` leaves applied an event a transaction, the invalid record left out."""
    runtime = prepared(f"sqlite:///{tmp_path}/one-at-a-time.db")
    seen: set[str] = set()
    for ev in log:
        if isinstance(ev, bytes) or ev.id in seen:
            continue
        seen.add(ev.id)
        with runtime.session() as s, s.begin():
            apply_roster_event(s, ev, agency_tz="Asia/Jakarta")
    out = rows(runtime)
    runtime.dispose()
    return out


def records(log: list, first_offset: int = 0) -> list:
    return [consumer_record(ev, first_offset + i, "t.pegawai.v1", key=ev.key if not isinstance(ev, bytes) else b"C")
            for i, ev in enumerate(log)]


class DriverCalls:
    """Statements handed to the driver (an executemany once) and commits."""

    def __init__(self, engine) -> None:
        self.calls = self.transactions = 0
        sa_event.listen(engine, "do_execute", self._call)
        sa_event.listen(engine, "do_executemany", self._call)
        sa_event.listen(engine, "commit", self._commit)

    def _call(self, *_args) -> None:
        self.calls += 1

    def _commit(self, _conn) -> None:
        self.transactions += 1


def test_a_poll_in_one_transaction_leaves_the_rows_of_one_event_at_a_time(database_url, tmp_path):
    log = the_log()
    expected = one_at_a_time(tmp_path, log)
    runtime = prepared(database_url)
    consumer = make_consumer(runtime)
    consumer._dlq_producer = dlq = RecordingProducer()
    calls = DriverCalls(runtime.engine)
    assert consumer.process_batch(records(log), threading.Event())
    assert (calls.transactions, consumer.stats.batches, consumer.stats.fallbacks) == (1, 1, 0)
    assert (consumer.stats.applied, consumer.stats.duplicates, consumer.stats.dead_lettered) == (5, 1, 1)
    assert len(dlq.sent) == 1 and b'"nama"' not in dlq.sent[0][1]
    got = rows(runtime)
    assert got == expected
    # what that is: each ASN as its last event says (A: an older time, later in the log)
    assert ("199001012015011001", "ASN tua", "7", "7", date(2026, 10, 8), True, "Umum") in got["employees"]
    assert (C, "ASN", "9", "9", None, False, "Umum") in got["employees"]  # its last event names no TMT
    # A's TMT moved from the 1st to the 15th then the 8th: the days between marked; C's TMT the
    # 20th opened days the agency had closed, so its cursor went back to the 19th
    assert got["dirty_days"] == [(A, "2026-10-05"), (A, "2026-10-10")]
    assert got["cursors"] == [(AGENCY, date(2026, 10, 19))]
    assert got["zones"] == [(AGENCY, "Asia/Makassar")]
    assert got["dirty_pins"] == [(AGENCY, "1"), (AGENCY, "2"), (AGENCY, "3"), (AGENCY, "7")]
    # the same poll again (a redelivery before the offsets' commit): nothing applied, nothing changed
    assert consumer.process_batch(records(log), threading.Event())
    assert consumer.stats.applied == 5 and rows(runtime) == got
    runtime.dispose()


def test_a_poll_costs_one_transaction_and_the_same_calls_for_10_asn_and_for_100(database_url):
    runtime = prepared(database_url)
    consumer = make_consumer(runtime)
    calls = DriverCalls(runtime.engine)

    def poll(first: int, n: int, tmt: str) -> tuple[int, int]:
        calls.calls = calls.transactions = 0
        log = [roster_event(f"1990010120150{first + i:05d}", at(11, 5), tmt=tmt, pin=str(first + i))
               for i in range(n)]
        assert consumer.process_batch(records(log, first), threading.Event())
        return calls.calls, calls.transactions

    # each poll's TMTs open days the agency has closed: its cursor goes back in both
    ten, hundred = poll(100, 10, "2026-10-20"), poll(200, 100, "2026-10-18")
    assert ten == hundred and ten[1] == 1, (ten, hundred)
    # the ids claimed, employees, tracking and zones read, employees and tracking written, the
    # cursor locked and moved back (and the PINs marked, through a raw cursor these events do not
    # see); one at a time, 10 ASN were 10 transactions and ~110 statements
    assert ten[0] <= 8, ten
    with runtime.session() as s:
        assert s.execute(select(ClosingCursor.closed_through)).scalar_one() == date(2026, 10, 17)
    runtime.dispose()


def test_through_the_broker_and_again_from_the_start(database_url, kafka_bootstrap, topic_prefix, tmp_path):
    log = the_log()
    expected = one_at_a_time(tmp_path, log)
    runtime = prepared(database_url, kafka_bootstrap=kafka_bootstrap, topic_prefix=topic_prefix)
    producer = make_producer(kafka_bootstrap, client_id="kehadiran-roster-batch-test")
    try:
        for ev in log:
            raw, key = (ev, C.encode()) if isinstance(ev, bytes) else (ev.to_bytes(), ev.key)
            producer.send(topic(PEGAWAI, topic_prefix), key=key, value=raw).get(timeout=30)
        for group in ("first", "again"):
            consumer = make_consumer(runtime, group_id=f"{topic_prefix}kehadiran-{group}")
            stop = threading.Event()
            thread = threading.Thread(target=consumer.run, args=(stop,), daemon=True)
            thread.start()
            try:
                stats = consumer.stats
                wait_until(lambda: stats.applied + stats.duplicates + stats.dead_lettered == 7, 90,
                           message=f"the {group} consumer to take in the log")
            finally:
                stop.set()
                thread.join(30)
            assert (stats.applied, stats.dead_lettered) == ((5, 1) if group == "first" else (0, 1))
            assert rows(runtime) == expected
    finally:
        producer.close()
        runtime.dispose()
