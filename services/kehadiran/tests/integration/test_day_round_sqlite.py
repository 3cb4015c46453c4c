"""SQLite's day rounds read and recompute in a snapshot, without the file's write lock, and write
under it (``day_round_sqlite``): a punch written meanwhile is not lost (its marker stays for the
next round), and one round at a time runs on a file (the assumption the argument rests on)."""
from __future__ import annotations

import fcntl
import json
import os
import threading
from functools import partial

import pytest
from sqlalchemy import text

from kehadiran.adapters import markers
from kehadiran.entrypoints.runtime import day_worker
from kehadiran.service_layer import day_round_sqlite
from kinerja.auth import issue_token
from kinerja.config import DEV_JWT_SECRET
from kinerja.webapp import runtime_of
from kinerja_testkit.kehadiran import (app_with_roster, attlog_line, day_event_versions as day_events,
                                     past_workdays, post_attlog)

pytestmark = pytest.mark.integration
AGENCY = "disdik"
SN = "LMS0001"
OPERATOR = {"Authorization": "Bearer " + issue_token(DEV_JWT_SECRET, role="operator", agency="*")}
STAFF = [(f"19850312201001{k:04d}", str(100 + k)) for k in range(12)]


line = attlog_line
post = partial(post_attlog, sn=SN)


def departure(runtime, nip, day):
    with runtime.engine.connect() as c:
        payload = c.execute(text("SELECT payload FROM day_summaries WHERE nip = :n AND day = :d"),
                            {"n": nip, "d": day.isoformat()}).scalar_one()
    return json.loads(payload)["departure"]


@pytest.fixture
def app(sqlite_url):
    with app_with_roster(sqlite_url, STAFF, sn=SN, agency=AGENCY, operator=OPERATOR) as app:
        yield app


def test_a_punch_written_while_the_round_computes_is_not_lost(app, monkeypatch):
    """The round's recompute runs with the write lock free: a request writes a departure for one
    of its days meanwhile (in this thread: were the lock held, its BEGIN IMMEDIATE would wait for
    this very round and fail). The round writes what its snapshot saw and leaves the departure's
    marker; the next round brings the day up to date, as a second version."""
    runtime = runtime_of(app)
    client = app.test_client()
    day = past_workdays(1)[0]
    nip, pin = STAFF[0]
    post(client, [line(p, day, 7, 30) for _, p in STAFF[:3]])
    computed = day_round_sqlite.recompute
    writes = []

    def recompute_with_a_request_meanwhile(*args, **kw):
        out = computed(*args, **kw)
        if not writes:
            post(client, [line(pin, day, 16, 45)])  # the write lock is free: no wait
            writes.append(1)
        return out

    monkeypatch.setattr(day_round_sqlite, "recompute", recompute_with_a_request_meanwhile)
    worker = day_worker(runtime)
    first = worker.run_round()
    assert writes == [1] and first.days == 3 and first.published == 3
    with runtime.engine.connect() as c:  # the departure's marker, committed after the snapshot, stays
        assert c.execute(text("SELECT nip FROM dirty_days")).scalars().all() == [nip]
    assert departure(runtime, nip, day) is None
    monkeypatch.setattr(day_round_sqlite, "recompute", computed)
    second = worker.run_round()
    assert second.days == 1 and second.published == 1
    assert departure(runtime, nip, day) is not None
    assert day_events(runtime)[(nip, day.isoformat())] == [1, 2]
    with runtime.engine.connect() as c:
        assert markers.any_pending(c) is False


def test_one_round_at_a_time_on_a_file(app):
    """While a round is between its snapshot and its write, the file's round lock is held (any
    other round, of this process or another, waits for it); and two workers draining one backlog
    at once publish each key's record once, never two rounds' versions of it."""
    runtime = runtime_of(app)
    day = past_workdays(1)[0]
    post(app.test_client(), [line(p, day, 7, 30) for _, p in STAFF])
    first, second = day_worker(runtime, chunk=3), day_worker(runtime, chunk=3)
    held = []

    def probe() -> None:
        fd = os.open(first.sqlite_path + "-days", os.O_RDWR)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            held.append(False)
        except BlockingIOError:
            held.append(True)
        finally:
            os.close(fd)

    first.between_phases = probe
    errors = []

    def drain(worker):
        try:
            worker.run_until_idle()
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=drain, args=(w,)) for w in (first, second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors and held and all(held)
    events = day_events(runtime)
    assert {key: v for key, v in events.items() if key[1] == day.isoformat()} == {
        (nip, day.isoformat()): [1] for nip, _ in STAFF}


def test_a_round_with_nothing_to_do_takes_no_write_turn(app, monkeypatch):
    runtime = runtime_of(app)
    worker = day_worker(runtime)
    from kinerja import sqlite_locking

    begun = []
    real = sqlite_locking.begin
    monkeypatch.setattr(sqlite_locking, "begin", lambda conn, *, read_only: (begun.append(read_only),
                                                                            real(conn, read_only=read_only))[1])
    done = worker.run_round()
    assert not done.worked and False not in begun and True in begun


def test_the_records_are_computed_with_no_snapshot_held(app, monkeypatch):
    """The round's snapshot ends once its facts are read: while it computes the records, the WAL
    can be reset (a RESTART checkpoint, which must wait for every reader of an older snapshot, and
    answers busy at once, no wait allowed, when one is open)."""
    import sqlite3

    from kehadiran.service_layer import day_recompute

    runtime = runtime_of(app)
    day = past_workdays(1)[0]
    post(app.test_client(), [line(p, day, 7, 30) for _, p in STAFF[:3]])
    worker = day_worker(runtime)
    other = sqlite3.connect(worker.sqlite_path, isolation_level=None)
    other.execute("PRAGMA busy_timeout=0")
    real, answers = day_recompute.day_record, []

    def day_record(*args, **kw):
        if not answers:
            answers.append(other.execute("PRAGMA wal_checkpoint(RESTART)").fetchone()[0])
        return real(*args, **kw)

    monkeypatch.setattr(day_recompute, "day_record", day_record)
    try:
        assert worker.run_round().published == 3
    finally:
        other.close()
    assert answers == [0]  # not busy: no reader held the WAL


def test_a_backlog_nothing_adds_to_is_drained_in_bigger_rounds(app):
    """``run``'s rounds take ``chunk`` markers while markers keep coming (a punch commits during
    each round here), and ``drain_chunk`` once a round saw no marker newer than the last one's:
    the upload is over, and a round's fixed cost is paid for more keys."""
    runtime = runtime_of(app)
    client = app.test_client()
    day, later = past_workdays(2)
    post(client, [line(p, day, 7, 30) for _, p in STAFF])  # 12 markers
    worker = day_worker(runtime, chunk=2, drain_chunk=6)
    chunks, stop, wake = [], threading.Event(), threading.Event()
    arriving = [p for _, p in STAFF[:3]]

    def a_punch_meanwhile() -> None:
        if arriving:
            post(client, [line(arriving.pop(), later, 7, 45)])

    worker.between_phases = a_punch_meanwhile
    run_round = worker.run_round

    def counted(**kw):
        done = run_round(**kw)
        chunks.append((kw.get("chunk"), done.days))
        if not done.worked:
            stop.set()
        return done

    worker.run_round = counted
    thread = threading.Thread(target=worker.run, args=(stop, wake), kwargs={"idle_poll_s": 0.01})
    thread.start()
    thread.join(60)
    assert not thread.is_alive()
    # three rounds with a punch meanwhile; the fourth sees the last one's marker (newer), the fifth
    # nothing newer: from the sixth on the rest (15 - 10 keys) in rounds of up to 6
    assert chunks == [(None, 2)] * 5 + [(6, 5), (None, 0)], chunks
    assert sum(d for _, d in chunks) == 15
    assert {k: len(v) for k, v in day_events(runtime).items()} == {k: 1 for k in day_events(runtime)}
    with runtime.engine.connect() as c:
        assert markers.any_pending(c) is False
