"""On SQLite the outbox rows kehadiran writes on the driver's cursor (``raw_sql``: every punch
request and every day worker round) wake the relay when they commit, as SQLAlchemy's inserts do
(``kinerja.wakeup.announce_inserts``). Without that the relay found a day summary only at its
next look on its own, up to ``notify_poll_s`` (0.5 s) later. PostgreSQL's trigger notifies anyway."""
import threading
from datetime import datetime, timezone

import pytest
from sqlalchemy import MetaData

from kehadiran.adapters import outbox_events
from kinerja import wakeup
from kinerja.db import make_engine
from kinerja.messaging.outbox import add_plumbing_tables
from kinerja.testing import wait_until

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
