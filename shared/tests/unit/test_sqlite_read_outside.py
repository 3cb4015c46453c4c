"""``sqlite_wal.read_outside``: a read outside any transaction (a punch request's reads before
its write) that SQLite answered BUSY (another connection recovering the WAL index: the busy
handler is off) is tried again until it gets through; any other error, or a BUSY inside a
transaction, is raised at once. The reads here are a real in-memory connection's; the BUSY is
the error SQLite raises (``SQLITE_BUSY_RECOVERY``, code 261), given to the first tries."""
import sqlite3

import pytest

from kinerja import sqlite_wal


def busy() -> sqlite3.OperationalError:
    exc = sqlite3.OperationalError("database is locked")
    exc.sqlite_errorcode = 261  # SQLITE_BUSY_RECOVERY
    return exc


def flaky(conn: sqlite3.Connection, failures: list[BaseException]):
    tries = []

    def run():
        tries.append(1)
        if len(tries) <= len(failures):
            raise failures[len(tries) - 1]
        return conn.execute("SELECT 7").fetchall()

    return run, tries


def test_a_busy_read_outside_a_transaction_is_tried_again_until_it_gets_through():
    conn = sqlite3.connect(":memory:", isolation_level=None)
    run, tries = flaky(conn, [busy(), busy()])
    with pytest.raises(sqlite3.OperationalError) as first:
        run()
    assert sqlite_wal.read_outside(conn, run, first.value) == [(7,)]
    assert len(tries) == 3


def test_another_error_or_a_busy_inside_a_transaction_is_raised_at_once():
    conn = sqlite3.connect(":memory:", isolation_level=None)
    other = sqlite3.OperationalError("no such table: t")
    run, tries = flaky(conn, [other])
    with pytest.raises(sqlite3.OperationalError, match="no such table"):
        sqlite_wal.read_outside(conn, run, other)
    assert tries == []
    conn.execute("BEGIN")
    run, tries = flaky(conn, [busy()])
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        sqlite_wal.read_outside(conn, run, busy())
    assert tries == []
