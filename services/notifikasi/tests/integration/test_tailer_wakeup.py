"""The inbox tailer is woken when inbox rows commit, not by a poll: on PostgreSQL by the
``notifications_notify`` trigger's NOTIFY, on SQLite by the writing process's datagram after its
commit. Each tailer here looks on its own only every 300 s, so every frame that arrives within the
test's deadline came through a wake-up; a batch of one transaction arrives in one read."""
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from kinerja.config import load_settings
from kinerja.testing import wait_until
from notifikasi.entrypoints import migrate
from notifikasi.entrypoints.runtime import make_runtime
from notifikasi.service_layer.notifications import handle_batch
from kinerja_testkit.notifikasi import AGENCY, ASN, ATASAN, roster_event, score_event

pytestmark = pytest.mark.integration

NEVER = 300.0  # the tailer's own poll: far beyond every deadline below


def drained(sub, n: int) -> list:
    got = []
    wait_until(lambda: got.extend(_take(sub)) or len(got) >= n, 60, message=f"{n} frames")
    return got


def _take(sub) -> list:
    out = []
    while not sub.queue.empty():
        out.append(sub.queue.get_nowait())
    return out


@pytest.fixture
def web(database_url):
    """A web process's runtime and its tailer, which polls only every 300 s."""
    migrate.main(database_url)
    runtime = make_runtime(load_settings("notifikasi", {"database_url": database_url, "sse_poll_s": NEVER}))
    yield runtime
    runtime.tailer.stop()
    runtime.dispose()


def listening(tailer, sub_nip=ASN):
    sub = tailer.subscribe(sub_nip, AGENCY)
    wait_until(lambda: tailer._listener is not None and tailer._listener.connected.is_set(), 30,
               message="the tailer's wake-up listener")
    return sub


def test_a_batch_committed_by_another_runtime_wakes_the_tailer_and_arrives_in_one_read(web, database_url):
    consumer = make_runtime(load_settings("notifikasi", {"database_url": database_url}))  # its own engine
    try:
        with consumer.session() as s, s.begin():
            handle_batch(s, [roster_event(ASN, "Siti", atasan_nip=ATASAN)])
        sub = listening(web.tailer)
        boss = web.tailer.subscribe(ATASAN, AGENCY)
        wait_until(lambda: not web.tailer._wake.is_set(), 30, message="the tailer idle")
        ticks = web.tailer.stats.ticks
        with consumer.session() as s, s.begin():  # one poll's worth, one transaction
            rows = handle_batch(s, [score_event(ASN, total=float(60 + i)) for i in range(40)])
        assert len(rows) == 80  # the ASN's and the atasan's
        mine, team = drained(sub, 40), drained(boss, 40)
        assert [f.id for f in mine + team] == sorted(r.id for r in rows if r.recipient_nip == ASN) + \
            sorted(r.id for r in rows if r.recipient_nip == ATASAN)
        assert web.tailer.stats.woken >= 1
        assert web.tailer.stats.ticks - ticks <= 2, "one read for the batch (and at most one stray wake-up)"
    finally:
        consumer.dispose()


def test_a_rolled_back_transaction_wakes_nobody_for_nothing_and_a_later_commit_does(web, database_url):
    consumer = make_runtime(load_settings("notifikasi", {"database_url": database_url}))
    try:
        sub = listening(web.tailer)
        with consumer.session() as s:
            s.begin()
            handle_batch(s, [score_event(ASN, total=10.0)])
            s.rollback()
        with consumer.session() as s, s.begin():
            [row] = handle_batch(s, [score_event(ASN, total=11.0)])
        [frame] = drained(sub, 1)
        assert frame.id == row.id
    finally:
        consumer.dispose()


WRITER = textwrap.dedent("""
    from kinerja.config import load_settings
    from notifikasi.entrypoints.runtime import make_runtime
    from notifikasi.service_layer.notifications import handle_batch
    from kinerja_testkit.notifikasi import score_event
    runtime = make_runtime(load_settings("notifikasi", {{"database_url": {url!r}}}))
    with runtime.session() as s, s.begin():
        rows = handle_batch(s, [score_event(total=float(i)) for i in range(3)])
    print(",".join(str(r.id) for r in rows))
""")


def test_sqlite_a_writer_in_another_process_wakes_a_web_process(sqlite_url):
    """The case PostgreSQL's NOTIFY does not cover: the consumer and the gunicorn workers are
    different processes on one SQLite file."""
    migrate.main(sqlite_url)
    web = make_runtime(load_settings("notifikasi", {"database_url": sqlite_url, "sse_poll_s": NEVER}))
    try:
        sub = listening(web.tailer)
        wait_until(lambda: not web.tailer._wake.is_set(), 30, message="the tailer idle")
        out = subprocess.run([sys.executable, "-c", WRITER.format(url=sqlite_url)],
                             capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stderr
        ids = [int(x) for x in out.stdout.strip().split(",")]
        got = drained(sub, 3)
        assert [f.id for f in got] == ids
        assert web.tailer.stats.woken >= 1
        directory = web.tailer._listener.path.parent
    finally:
        web.tailer.stop()
        web.dispose()
    assert not list(directory.glob(f"{__import__('os').getpid()}-*.sock")), "a stopped tailer leaves no socket"
