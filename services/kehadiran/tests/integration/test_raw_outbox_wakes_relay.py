"""On SQLite the outbox rows kehadiran writes on the driver's cursor (``raw_sql``: every day worker
round) wake the relay when they commit, as SQLAlchemy's inserts do
(``kinerja.wakeup.announce_inserts``). Without that the relay found a day summary only at its
next look on its own, up to ``notify_poll_s`` (0.5 s) later. PostgreSQL's trigger notifies anyway.

A punch request's outbox rows do not: its commit wakes the day workers (on SQLite they watch
``PRAGMA data_version``), and the summary their round commits wakes the relay, which sends the punch
with it (``kehadiran.adapters.punch_write``)."""
import threading
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import MetaData

from kehadiran.adapters import outbox_events
from kehadiran.entrypoints.app import create_app
from kehadiran.entrypoints.migrate import main as migrate
from kinerja import wakeup
from kinerja.auth import issue_token
from kinerja.config import DEV_JWT_SECRET
from kinerja.db import make_engine
from kinerja.messaging.outbox import add_plumbing_tables
from kinerja.testing import wait_until
from kinerja.webapp import runtime_of
from kinerja_testkit.kehadiran import device_and_roster

pytestmark = pytest.mark.integration


def summary(n: int) -> dict:
    return outbox_events.day_summarized(nip=f"19850312201001{n:04d}", agency="disdik", data={"n": n},
                                        at=datetime.now(timezone.utc))


def test_a_committed_raw_outbox_insert_wakes_the_relay(sqlite_url):
    metadata = MetaData()
    add_plumbing_tables(metadata)
    writer = make_engine(sqlite_url)  # as a web worker's or the day worker's engine
    metadata.create_all(writer)
    relay_engine = make_engine(sqlite_url)
    woken = threading.Event()
    listener = wakeup.listen(relay_engine, wakeup.OUTBOX_CHANNEL, woken)
    try:
        assert listener is not None and listener.connected.is_set()
        woken.clear()  # the listener wakes its waiter once as it starts
        with writer.begin() as conn:
            outbox_events.write(conn, [summary(1)], at=datetime.now(timezone.utc))
        # the relay's own look comes every 0.5 s; a wake-up is what this waits for (no poll here)
        wait_until(woken.is_set, 10, message="the relay woken by the committed insert")
    finally:
        listener.close()
        writer.dispose()
        relay_engine.dispose()


def test_a_punch_request_does_not_wake_the_relay(sqlite_url):
    migrate(sqlite_url)
    app = create_app({"database_url": sqlite_url, "kafka_bootstrap": "127.0.0.1:1"})
    operator = {"Authorization": "Bearer " + issue_token(DEV_JWT_SECRET, role="operator", agency="*")}
    device_and_roster(app, [("198503122010010001", "101")], sn="LMS0001", agency="disdik", operator=operator)
    waiter = make_engine(sqlite_url)  # as the relay's engine
    relay_woken = threading.Event()
    listener = wakeup.listen(waiter, wakeup.OUTBOX_CHANNEL, relay_woken)
    try:
        assert listener is not None and listener.connected.is_set()
        relay_woken.clear()  # the listener wakes its waiter once as it starts
        at = (datetime.now(timezone(timedelta(hours=7))) - timedelta(days=2)).replace(hour=7, minute=31, second=0,
                                                                                    microsecond=0, tzinfo=None)
        r = app.test_client().post("/iclock/cdata?SN=LMS0001&table=ATTLOG", data=f"101\t{at:%Y-%m-%d %H:%M:%S}\t0\t1\t0\t0\t0",
                                   content_type="text/plain")
        assert r.status_code == 200 and r.text == "OK:1", r.text
        with runtime_of(app).engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT count(*) FROM outbox").scalar() == 1  # the punch's event
            assert conn.exec_driver_sql("SELECT count(*) FROM dirty_days").scalar() == 1  # its day, for the workers
        # a wake-up would have been sent after the commit, before the answer: the relay's listener is
        # given far longer than a datagram takes to see that none came
        assert not relay_woken.wait(0.5), "the relay was woken for a punch event"
    finally:
        listener.close()
        waiter.dispose()
        runtime_of(app).dispose()
