"""The inbox tailer itself: rows committed out of id order (PostgreSQL, two writers) are still
delivered, a client that does not read is cut off instead of growing memory, and on SQLite the
tailer reads while a writer holds the file's write lock."""
import queue
import sqlite3

import pytest

from kinerja import sqlite_locking
from kinerja.config import load_settings
from kinerja.testing import wait_until
from notifikasi.entrypoints import migrate
from notifikasi.entrypoints.runtime import make_runtime
from notifikasi.service_layer.fanout import CLOSED, InboxTailer
from notifikasi.service_layer.notifications import handle_event
from kinerja_testkit.notifikasi import AGENCY, ASN, score_event

pytestmark = pytest.mark.integration


def frames(sub, n: int, timeout_s: float = 10.0) -> list:
    out = []
    for _ in range(n):
        try:
            out.append(sub.queue.get(timeout=timeout_s))
        except queue.Empty:
            raise AssertionError(f"only {len(out)} of {n} frames within {timeout_s}s") from None
    return out


def test_a_row_committed_after_a_higher_id_is_still_delivered(postgres_url):
    migrate.main(postgres_url)
    runtime = make_runtime(load_settings("notifikasi", {"database_url": postgres_url}))
    tailer = InboxTailer(runtime.session_factory, poll_interval_s=0.02)
    try:
        sub = tailer.subscribe(ASN, AGENCY)
        slow = runtime.session()
        slow.begin()
        [early] = handle_event(slow, score_event(ASN, total=80.0))  # takes its id, not yet committed
        with runtime.session() as fast, fast.begin():
            [late] = handle_event(fast, score_event(ASN, total=81.0))
        assert early.id < late.id
        [first] = frames(sub, 1)
        assert first.id == late.id
        ticks = tailer.stats.ticks
        wait_until(lambda: tailer.stats.ticks > ticks + 2, 10, message="the tailer moving on")
        slow.commit()
        slow.close()
        [second] = frames(sub, 1)
        assert second.id == early.id
        assert tailer.stats.late_rows == 1
    finally:
        tailer.stop()
        runtime.dispose()


def test_a_client_that_does_not_read_is_cut_off(sqlite_url):
    migrate.main(sqlite_url)
    runtime = make_runtime(load_settings("notifikasi", {"database_url": sqlite_url}))
    tailer = InboxTailer(runtime.session_factory, poll_interval_s=0.02, queue_size=3)
    try:
        sub = tailer.subscribe(ASN, AGENCY)
        with runtime.session() as session, session.begin():
            for t in range(5):
                handle_event(session, score_event(ASN, total=float(t)))
        got = frames(sub, 3)
        assert [f.id for f in got] == sorted(f.id for f in got)
        wait_until(lambda: sub.closed, 10, message="the slow subscription closed")
        assert sub.overflowed and tailer.subscriber_count() == 0
        # a queue emptied later ends with CLOSED or nothing: the stream ends, the client resumes
        assert sub.queue.empty() or sub.queue.get_nowait() is CLOSED
    finally:
        tailer.stop()
        runtime.dispose()


def test_the_tailer_reads_while_a_writer_holds_the_sqlite_write_lock(sqlite_url, monkeypatch):
    """The tailer only reads: on SQLite it takes no write lock, so it neither waits for the
    consumer's batch (which holds the file's one write lock) nor holds it up."""
    migrate.main(sqlite_url)
    runtime = make_runtime(load_settings("notifikasi", {"database_url": sqlite_url}))
    with runtime.session() as session, session.begin():
        rows = [handle_event(session, score_event(ASN, total=float(t)))[0] for t in range(2)]
    # a writer waits this long for the lock before it fails (30 s as deployed)
    monkeypatch.setattr(sqlite_locking, "WRITE_LOCK_TIMEOUT_S", 1.0)
    writer = sqlite3.connect(sqlite_url.removeprefix("sqlite:///"), isolation_level=None)
    tailer = InboxTailer(runtime.session_factory, poll_interval_s=60)
    try:
        writer.execute("BEGIN IMMEDIATE")  # the consumer, mid-batch
        assert tailer.tick() is False  # before: "database is locked" once the wait ran out
        assert (tailer.stats.rows, tailer.last_id) == (2, rows[-1].id)
        tailer.ensure_started()  # where it starts reading from, too
        assert tailer.last_id == rows[-1].id
    finally:
        writer.close()
        tailer.stop()
        runtime.dispose()
