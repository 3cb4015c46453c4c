"""What a tailer's tick costs in Python calls when a commit brings it one score update's two rows
(the ASN's and the supervisor's), on SQLite and PostgreSQL: the tick is the stretch between a
consumer's commit and the frames on the open streams, run on every wake-up. It reads plain rows
with a statement built once (no ORM objects to build and track): ~490 calls on SQLite and ~580 on
PostgreSQL, where ORM rows and a statement built every tick took ~770 and ~860."""
import cProfile
import pstats
import queue

import pytest

from kinerja.config import load_settings
from kinerja_testkit.notifikasi import AGENCY, ASN, ATASAN, Writer, score_event
from notifikasi.adapters import inbox
from notifikasi.entrypoints import migrate
from notifikasi.entrypoints.runtime import make_runtime
from notifikasi.service_layer.fanout import Subscription

pytestmark = pytest.mark.integration
BUDGET = 700  # Python calls a tick of two rows


def test_a_tick_of_one_score_update_stays_within_its_python_call_budget(database_url):
    migrate.main(database_url)
    web = make_runtime(load_settings("notifikasi", {"database_url": database_url, "sse_poll_s": 300}))
    consumer = make_runtime(load_settings("notifikasi", {"database_url": database_url}))
    try:
        writer = Writer(consumer)
        writer.roster()
        tailer = web.tailer  # ticked by hand here: its thread is never started
        with web.session() as s:
            tailer.last_id = inbox.max_id(s)
        subs = {nip: Subscription(nip=nip, agency=AGENCY, queue=queue.Queue()) for nip in (ASN, ATASAN)}
        for nip, sub in subs.items():
            tailer._subs[(AGENCY, nip)] = {sub}
        for i in range(3):  # warm: statements compiled and prepared
            writer.apply(score_event(ASN, total=10.0 + i))
            tailer.tick()
        for sub in subs.values():
            assert sub.queue.qsize() == 3
            sub.queue.queue.clear()
        calls = []
        for i in range(20):
            event = score_event(ASN, total=50.0 + i)
            writer.apply(event)
            profile = cProfile.Profile()
            profile.enable()
            tailer.tick()
            profile.disable()
            calls.append(pstats.Stats(profile).total_calls)
            for sub in subs.values():  # the tick delivered the event's row to each
                frame = sub.queue.get_nowait()
                assert event.id.encode() in frame.data and sub.queue.empty()
        assert sorted(calls)[len(calls) // 2] <= BUDGET, calls
    finally:
        consumer.dispose()
        web.dispose()


def test_a_row_nobody_on_this_worker_reads_is_not_rendered(database_url, monkeypatch):
    """A score update writes the ASN's row and the supervisor's; with only the ASN's stream open
    here, the tick renders one frame, not two (rendering every row the tailer read was most of a
    tick's Python at 1,000 punches/s, where most rows are for recipients with no stream)."""
    from notifikasi.service_layer import fanout

    migrate.main(database_url)
    web = make_runtime(load_settings("notifikasi", {"database_url": database_url, "sse_poll_s": 300}))
    consumer = make_runtime(load_settings("notifikasi", {"database_url": database_url}))
    rendered = []
    real_render = fanout.render_frame
    monkeypatch.setattr(fanout, "render_frame", lambda row: rendered.append(row.recipient_nip) or real_render(row))
    try:
        writer = Writer(consumer)
        writer.roster()
        tailer = web.tailer
        with web.session() as s:
            tailer.last_id = inbox.max_id(s)
        sub = Subscription(nip=ASN, agency=AGENCY, queue=queue.Queue())
        tailer._subs[(AGENCY, ASN)] = {sub}
        for i in range(3):
            event = score_event(ASN, total=20.0 + i)
            writer.apply(event)
            tailer.tick()
            assert event.id.encode() in sub.queue.get_nowait().data and sub.queue.empty()
        assert tailer.stats.rows == 6  # both rows of each update were read
        assert rendered == [ASN] * 3, rendered
    finally:
        consumer.dispose()
        web.dispose()
