"""``kinerja.sqlite_checkpoint``'s closing pass and the readers that keep a WAL from restarting:
it sees them (``/proc/locks``: which process holds a reader's slot of an older snapshot), holds its
write turn until they end (at most ``READER_GRACE_MAX_S``), and waits, without the turn, for a
``LongRead`` (a day round's snapshot) to end before it begins. Readers here are other processes,
as the web workers and the relay are to the process the checkpointer runs in."""
import os
import subprocess
import sys
import threading
import time

import pytest
from sqlalchemy import text

from kinerja import sqlite_closing_pass
from kinerja.db import make_engine
from kinerja.sqlite_checkpoint import Checkpointer
from kinerja.sqlite_long_read import LongRead
from kinerja.sqlite_wal_index import old_snapshot_readers, wal_frames
from kinerja.testing.waiting import wait_until

pytestmark = [pytest.mark.integration,
              pytest.mark.skipif(not os.path.exists("/proc/locks"), reason="readers are seen in /proc/locks")]

# a reader in a process of its own: begins a snapshot, says so, ends it when told, then waits to go
READER = """
import sqlite3, sys
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute("BEGIN")
c.execute("SELECT count(*) FROM t").fetchone()
print("reading", flush=True)
sys.stdin.readline()
c.execute("COMMIT")
print("done", flush=True)
sys.stdin.readline()
"""



class Reader:
    def __init__(self, path: str):
        self.proc = subprocess.Popen([sys.executable, "-c", READER, path], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout.readline().strip() == "reading"

    def end(self) -> None:
        self.proc.stdin.write("\n")
        self.proc.stdin.flush()
        assert self.proc.stdout.readline().strip() == "done"

    def close(self) -> None:
        self.proc.kill()
        self.proc.wait(10)


@pytest.fixture
def db(tmp_path):
    path = str((tmp_path / "service.db").resolve())
    engine = make_engine(f"sqlite:///{path}")
    with engine.begin() as c:
        c.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, body BLOB)"))

    def write() -> None:  # ~50 pages
        with engine.begin() as c:
            c.execute(text("INSERT INTO t (body) SELECT randomblob(3000) FROM (WITH RECURSIVE n(k) AS "
                           "(SELECT 1 UNION ALL SELECT k + 1 FROM n WHERE k < 50) SELECT k FROM n)"))

    write()
    shm = os.open(path + "-shm", os.O_RDONLY)
    yield path, write, shm
    os.close(shm)
    engine.dispose()


def test_the_process_reading_an_older_snapshot_is_seen(db):
    path, write, shm = db
    reader = Reader(path)  # its snapshot reads frames of the WAL (none is copied back yet)
    try:
        assert old_snapshot_readers(shm).get(reader.proc.pid) == 1
        reader.end()
        assert reader.proc.pid not in old_snapshot_readers(shm)
    finally:
        reader.close()


def test_the_turn_is_held_until_the_older_reader_ends_and_the_wal_restarts_after_one_pass(db, monkeypatch):
    """A reader that outlasts a fixed grace (here as long as the test likes) no longer makes the
    closing pass fail: the pass sees it, holds the turn until it ends, and the next writer starts
    the WAL over after that one pass (with a fixed grace it appended, and a later pass was needed)."""
    monkeypatch.setattr(sqlite_closing_pass, "READER_GRACE_MAX_S", 60.0)
    path, write, shm = db
    stop = threading.Event()
    reader = Reader(path)
    try:
        for _ in range(8):
            write()
        cp = Checkpointer(path, stop, window=100, close_at=300, poll_s=0.002).start()
        wait_until(lambda: cp.closing_passes == 1, interval_s=0.005, message="a closing pass while the reader reads")
        time.sleep(0.05)  # ten fixed graces
        assert cp.clear_closings == 0  # still held: the reader reads
        reader.end()
        wait_until(lambda: cp.clear_closings == 1, interval_s=0.005, message="the pass ends once the reader has")
        write()
        assert wal_frames(shm)[0] < 100  # written from the WAL's start again
        assert cp.closing_passes == 1
    finally:
        stop.set()
        reader.close()
        cp.thread.join(10)


def test_a_closing_pass_waits_for_a_long_read_without_the_write_turn(db, monkeypatch):
    """While a ``LongRead`` reads, the closing pass waits for it without holding the write turn
    (writers go on), and begins once it ends: the WAL restarts."""
    monkeypatch.setattr(sqlite_closing_pass, "LONG_READS_WAIT_S", 60.0)
    path, write, shm = db
    stop = threading.Event()
    long_read = LongRead(path)
    try:
        for _ in range(8):
            write()
        cp = Checkpointer(path, stop, window=100, close_at=300, poll_s=0.002).start()
        wait_until(lambda: cp.long_read_waits == 1, interval_s=0.005, message="the closing pass waits for the long read")
        write()  # the turn is free meanwhile (a held one would keep this waiting)
        assert cp.closing_passes == 0
        long_read.end()
        wait_until(lambda: cp.clear_closings == 1, interval_s=0.005, message="the closing pass once the long read ended")
        write()
        assert wal_frames(shm)[0] < 100
        assert cp.long_reads_waited_out == 0
    finally:
        long_read.end()
        stop.set()
        cp.thread.join(10)
