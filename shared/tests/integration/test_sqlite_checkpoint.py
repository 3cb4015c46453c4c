"""``kinerja.sqlite_checkpoint``: the WAL is copied back by a background thread, never by a
COMMIT, and stays bounded; one thread a file works, another takes over when it stops.

A COMMIT runs SQLite's automatic checkpoint exactly when it leaves the WAL at its connection's
``wal_autocheckpoint`` frames or more (SQLite's default WAL hook), so the commits that ran one are
counted from the WAL index's frame count read right after each COMMIT (``wal_frames``)."""
import os
import sqlite3
import threading
import time

import pytest
from sqlalchemy import text

from kinerja import sqlite_checkpoint, sqlite_closing_pass, sqlite_wal
from kinerja.db import make_engine
from kinerja.sqlite_checkpoint import Checkpointer
from kinerja.sqlite_wal_index import wal_frames
from kinerja.testing.waiting import wait_until

pytestmark = pytest.mark.integration

AUTO = 600  # the writers' automatic checkpoint in these tests (the safety net, scaled down)
PAGE = 4096



def _writes(tmp_path, checkpointer_kw: dict | None):
    """40 commits of ~50 pages each (2,000 pages: three times the writers' automatic window) on a
    file with the checkpointer running (``checkpointer_kw``) or none; after each commit that leaves
    a window's worth of frames waiting, the test waits for the checkpointer's pass (so a slow machine
    cannot make a COMMIT reach the safety net first). Returns (commits that checkpointed, most
    frames the WAL held, the WAL file's size, the checkpointer)."""
    path = str(tmp_path / "service.db")
    engine = make_engine(f"sqlite:///{path}")
    stop = threading.Event()
    try:
        with engine.begin() as c:
            c.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, body BLOB)"))
        with engine.connect() as c:
            c.connection.dbapi_connection.execute(f"PRAGMA wal_autocheckpoint={AUTO}")
        cp = Checkpointer(str(tmp_path.joinpath("service.db").resolve()), stop, poll_s=0.002,
                          **checkpointer_kw).start() if checkpointer_kw is not None else None
        shm = os.open(path + "-shm", os.O_RDONLY)
        in_commit, most = 0, 0
        try:
            for i in range(40):
                with engine.connect() as c:
                    raw = c.connection.dbapi_connection
                    raw.execute(f"PRAGMA wal_autocheckpoint={AUTO}")  # whichever pooled connection it is
                    with c.begin():
                        c.execute(text("INSERT INTO t (body) SELECT randomblob(3000) FROM "
                                       "(WITH RECURSIVE n(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM n "
                                       "WHERE k < 50) SELECT k FROM n)"))
                    passes = cp.passes if cp is not None else 0  # read first: a pass may end any moment
                    frames, copied = wal_frames(shm)
                    most = max(most, frames)
                    in_commit += frames >= AUTO
                if cp is not None and frames - copied >= cp.window:
                    wait_until(lambda: cp.passes > passes, interval_s=0.005, message="the checkpointer's pass")
            return in_commit, most, os.path.getsize(path + "-wal"), cp
        finally:
            os.close(shm)
            stop.set()
            if checkpointer_kw is not None:
                cp.thread.join(10)
    finally:
        engine.dispose()


def test_the_checkpointer_copies_the_wal_back_and_no_commit_does(tmp_path):
    in_commit, most, size, cp = _writes(tmp_path, {"window": 200, "close_at": 400})
    assert in_commit == 0
    assert cp.passes >= 5 and cp.copied >= 1000
    # the WAL restarted from its start again and again: never near the 2,000 pages written
    assert most < AUTO
    assert size < (AUTO + 100) * (PAGE + 24)


def test_without_it_the_commits_checkpoint_at_the_safety_net(tmp_path):
    # the test above's count means something: the same writes with no checkpointer checkpoint in
    # their COMMITs (one each time the WAL reaches the window, then it restarts: 2,000 / ~650),
    # and the safety net still bounds the WAL
    in_commit, most, size, _ = _writes(tmp_path, None)
    assert in_commit >= 2
    assert size < (AUTO + 100) * (PAGE + 24)


def test_every_connection_has_the_safety_net_at_four_windows():
    assert sqlite_wal.WAL_AUTOCHECKPOINT_PAGES == sqlite_checkpoint.SAFETY_PAGES == 4 * sqlite_checkpoint.WINDOW_PAGES
    assert sqlite_checkpoint.WINDOW_PAGES < sqlite_checkpoint.CLOSE_AT_PAGES < sqlite_checkpoint.SAFETY_PAGES


def test_one_checkpointer_a_file_and_another_takes_over(tmp_path, monkeypatch):
    monkeypatch.setattr(sqlite_checkpoint, "LEADER_RETRY_S", 0.01)
    path = str((tmp_path / "service.db").resolve())
    engine = make_engine(f"sqlite:///{path}")
    first_stop, second_stop = threading.Event(), threading.Event()
    try:
        with engine.begin() as c:
            c.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY)"))
        # two processes' checkpointers: the lock is per open file, so two in one process compete too
        first = Checkpointer(path, first_stop).start()
        wait_until(first.leading.is_set, interval_s=0.005, message="the first checkpointer leads")
        second = Checkpointer(path, second_stop).start()
        time.sleep(0.05)  # ~5 of the second's tries (nothing to poll for: it must not lead)
        assert not second.leading.is_set()
        first_stop.set()
        first.thread.join(10)
        wait_until(second.leading.is_set, interval_s=0.005, message="the second checkpointer takes over")
    finally:
        first_stop.set()
        second_stop.set()
        engine.dispose()


def test_a_quiet_wal_is_copied_back(tmp_path):
    path = str((tmp_path / "service.db").resolve())
    engine = make_engine(f"sqlite:///{path}")
    stop = threading.Event()
    try:
        with engine.begin() as c:
            c.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY)"))
            c.execute(text("INSERT INTO t VALUES (1)"))
        cp = Checkpointer(path, stop, poll_s=0.002, idle_s=0.02).start()
        shm = os.open(path + "-shm", os.O_RDONLY)
        try:
            frames, copied = wal_frames(shm)
            assert 0 < frames < cp.window and copied < frames
            wait_until(lambda: wal_frames(shm)[1] == frames, interval_s=0.005, message="the quiet WAL copied back")
        finally:
            os.close(shm)
    finally:
        stop.set()
        engine.dispose()


def test_a_wal_an_old_reader_holds_restarts_once_it_ends(tmp_path, monkeypatch):
    """Past ``close_at`` the checkpointer copies everything with a write turn held, so the next
    writer restarts the WAL, which a reader of an older snapshot prevents: while one reads, the WAL
    keeps growing (the closing passes tried again and again); once it ends, the next closing pass
    lets the next writer start the WAL over."""
    monkeypatch.setattr(sqlite_checkpoint, "CLOSE_RETRY_S", 0.01)
    path = str((tmp_path / "service.db").resolve())
    engine = make_engine(f"sqlite:///{path}")
    stop = threading.Event()
    reader = sqlite3.connect(path, isolation_level=None)
    shm = None
    try:
        with engine.begin() as c:
            c.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, body BLOB)"))
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM t").fetchone()  # its snapshot: the table empty
        cp = Checkpointer(path, stop, window=100, close_at=300, poll_s=0.002).start()
        shm = os.open(path + "-shm", os.O_RDONLY)

        def write() -> None:
            with engine.begin() as c:
                c.execute(text("INSERT INTO t (body) SELECT randomblob(3000) FROM "
                               "(WITH RECURSIVE n(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM n "
                               "WHERE k < 50) SELECT k FROM n)"))

        for _ in range(10):
            write()
        wait_until(lambda: cp.closing_passes >= 2, interval_s=0.005, message="closing passes while the reader reads")
        write()
        assert wal_frames(shm)[0] > 500  # not restarted: appended
        reader.execute("COMMIT")
        passes = cp.closing_passes
        # the second one began after the reader ended (the first may have begun before)
        wait_until(lambda: cp.closing_passes >= passes + 2, interval_s=0.005, message="a closing pass once the reader ended")
        write()
        assert wal_frames(shm)[0] < 200  # written from the WAL's start again
    finally:
        stop.set()
        if shm is not None:
            os.close(shm)
        reader.close()
        engine.dispose()


def test_a_closing_pass_copies_ahead_before_it_takes_the_write_turn(tmp_path):
    """Every frame a closing pass copies with the turn held is a frame every writer waits for: it
    copies what it can first without the turn, so with no writer adding meanwhile nothing is left
    for the turn (a loaded JSON upload's closing pass copied up to 3,600 frames holding it)."""
    path = str((tmp_path / "service.db").resolve())
    engine = make_engine(f"sqlite:///{path}")
    stop = threading.Event()
    shm = None
    try:
        with engine.begin() as c:
            c.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, body BLOB)"))
        for _ in range(10):  # ~500 frames, none copied back: past close_at, under the window
            with engine.begin() as c:
                c.execute(text("INSERT INTO t (body) SELECT randomblob(3000) FROM (WITH RECURSIVE n(k) AS "
                               "(SELECT 1 UNION ALL SELECT k + 1 FROM n WHERE k < 50) SELECT k FROM n)"))
        shm = os.open(path + "-shm", os.O_RDONLY)
        frames, copied = wal_frames(shm)
        assert frames >= 450 and copied == 0
        cp = Checkpointer(path, stop, window=10_000, close_at=300, poll_s=0.002).start()
        wait_until(lambda: cp.closing_passes >= 1, interval_s=0.005, message="a closing pass")
        stop.set()
        cp.thread.join(10)
        assert cp.copied_ahead >= frames - sqlite_closing_pass.COPY_AHEAD_LEFT
        assert cp.copied_in_turn == 0
        with engine.begin() as c:
            c.execute(text("INSERT INTO t (body) VALUES (x'00')"))
        assert wal_frames(shm)[0] < 10  # and the next writer started the WAL over
    finally:
        stop.set()
        if shm is not None:
            os.close(shm)
        engine.dispose()
