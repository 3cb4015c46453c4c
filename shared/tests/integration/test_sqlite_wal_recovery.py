"""A read-only transaction on SQLite (a relay's poll, a health check, the SSE tailer) whose
connection meets another process recovering the WAL index waits for the recovery instead of
failing with "database is locked" (``kinerja.sqlite_wal``: the busy handler is off after
connect, so SQLite answers ``SQLITE_BUSY_RECOVERY`` at once).

When it happens: a writer updates the WAL index header at each commit in two copies, the second
first; a process killed between the two leaves copies that differ. The next connection to read
then rebuilds the index from the WAL (recovery), holding the index's write and recover locks, and
every other connection that starts reading meanwhile is answered BUSY. Here a writer process is
SIGKILLed mid-transaction after its commits, its last header write is left half done as such a
kill leaves it, and a second process holds the two locks as a connection recovering the index
does (SQLite's unix VFS: bytes 120 and 122 of the ``-shm`` file) until the test lets it go."""
import os
import signal
import struct
import subprocess
import sys
import textwrap
import threading

import pytest
from sqlalchemy import text

from kinerja.db import make_engine, read_only
from kinerja.testing import wait_until

pytestmark = pytest.mark.integration

COMMITTED = 50

# commits COMMITTED rows one by one, then is killed inside a transaction that is never committed
WRITER = textwrap.dedent("""
    import sqlite3, sys, time
    db = sqlite3.connect(sys.argv[1], isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    for i in range(int(sys.argv[2])):
        db.execute("INSERT INTO t (v) VALUES (?)", (i,))
    db.execute("BEGIN IMMEDIATE")
    db.execute("INSERT INTO t (v) VALUES (-1)")
    print("mid-transaction", flush=True)
    time.sleep(600)
""")

# holds the WAL index's write lock (byte 120 of the -shm) and recover lock (byte 122) as a
# connection recovering the index does, until a line comes on stdin
RECOVERING = textwrap.dedent("""
    import fcntl, os, sys
    fd = os.open(sys.argv[1], os.O_RDWR)
    fcntl.lockf(fd, fcntl.LOCK_EX, 1, 120)
    fcntl.lockf(fd, fcntl.LOCK_EX, 1, 122)
    print("recovering", flush=True)
    sys.stdin.readline()
""")


def _python(code: str, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", code, *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _half_written_header(shm: str) -> None:
    """The index header's second copy (bytes 48-95) one commit ahead of its first (0-47): what a
    writer killed between writing them leaves (its change counter, bytes 8-11 of a copy)."""
    fd = os.open(shm, os.O_RDWR)
    try:
        (change,) = struct.unpack("I", os.pread(fd, 4, 48 + 8))
        os.pwrite(fd, struct.pack("I", change + 1), 48 + 8)
    finally:
        os.close(fd)


def test_a_reader_waits_while_another_process_recovers_the_wal(tmp_path):
    db = str(tmp_path / "service.db")
    engine = make_engine(f"sqlite:///{db}")
    with engine.begin() as c:
        c.execute(text("CREATE TABLE t (v INTEGER NOT NULL)"))

    def count() -> int:
        with read_only(engine.connect()) as c:
            return c.execute(text("SELECT count(*) FROM t")).scalar_one()

    assert count() == 0  # our pooled connection is open (and its busy handler off) from here on
    writer = _python(WRITER, db, str(COMMITTED))
    recovering = None
    try:
        assert writer.stdout.readline().strip() == "mid-transaction", writer.stderr.read()[-2000:]
        writer.send_signal(signal.SIGKILL)
        writer.wait(timeout=60)
        _half_written_header(db + "-shm")
        recovering = _python(RECOVERING, db + "-shm")
        assert recovering.stdout.readline().strip() == "recovering", recovering.stderr.read()[-2000:]

        result: list = []
        reader = threading.Thread(target=lambda: result.append(_outcome(count)), daemon=True)
        reader.start()
        # before: the reader failed at once with "database is locked"; now it waits for the
        # recovery (polling), and only a recovery that outlasts WRITE_LOCK_TIMEOUT_S fails it
        reader.join(timeout=0.5)
        assert not result, f"the reader did not wait for the recovery: {result}"
        recovering.stdin.write("done\n")
        recovering.stdin.flush()
        assert recovering.wait(timeout=60) == 0
        wait_until(lambda: result, timeout_s=60, message="the reader's answer once the recovery ended")
        assert result == [COMMITTED]  # the killed transaction's row is not there
        # and a writer after it
        with engine.begin() as c:
            c.execute(text("INSERT INTO t (v) VALUES (1)"))
        assert count() == COMMITTED + 1
    finally:
        for proc in (writer, recovering):
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.wait(timeout=60)
        engine.dispose()


def _outcome(read):
    try:
        return read()
    except Exception as exc:  # noqa: BLE001 - the test reports what the reader met
        return exc
