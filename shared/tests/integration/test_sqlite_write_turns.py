"""Several processes writing one SQLite file through ``kinerja.db``'s engine (the web workers, the
day worker, the consumer and the relay of a service do): read-then-write transactions never fail
with "database is locked" and lose nothing; a writer that commits back to back does not starve
another process; a read-only transaction (the relay's polls) does not wait for a writer."""
import subprocess
import sys
import textwrap
import threading

import pytest
from sqlalchemy import MetaData, text

from kinerja import sqlite_locking
from kinerja.db import make_engine, read_only
from kinerja.messaging.outbox import Outbox, add_plumbing_tables, outbox_row
from kinerja.messaging.relay import OutboxRelay
from kinerja.testing import wait_until

pytestmark = pytest.mark.integration

# a second process: THREADS threads, each N read-then-write transactions (read the counter, write
# it + 1, and a ledger row): a lost update or a "database is locked" shows
READ_THEN_WRITE = textwrap.dedent("""
    import sys, threading
    from sqlalchemy import text
    from kinerja.db import make_engine
    url, tag, n, threads = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    engine = make_engine(url)
    errors = []
    def work(t):
        try:
            for i in range(n):
                with engine.begin() as c:
                    v = c.execute(text("SELECT v FROM counter")).scalar_one()
                    c.execute(text("UPDATE counter SET v = :v"), {"v": v + 1})
                    c.execute(text("INSERT INTO ledger (tag) VALUES (:tag)"), {"tag": f"{tag}-{t}-{i}"})
        except Exception as exc:
            errors.append(repr(exc))
    ts = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
    [t.start() for t in ts]
    [t.join() for t in ts]
    if errors:
        sys.exit("; ".join(errors[:3]))
""")

# a back-to-back writer (a day worker's rounds): transaction after transaction, each holding
# the lock a little, until the stop file appears
BACK_TO_BACK = textwrap.dedent("""
    import os, sys, time
    from sqlalchemy import text
    from kinerja.db import make_engine
    url, stop = sys.argv[1], sys.argv[2]
    engine = make_engine(url)
    deadline = time.monotonic() + 300
    while not os.path.exists(stop) and time.monotonic() < deadline:
        with engine.begin() as c:
            c.execute(text("INSERT INTO a DEFAULT VALUES"))
            time.sleep(0.002)
""")


def _python(code: str, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", code, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def test_two_processes_read_then_write_never_locked_and_lose_nothing(tmp_path):
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    engine = make_engine(url)
    with engine.begin() as c:
        c.execute(text("CREATE TABLE counter (v INTEGER NOT NULL)"))
        c.execute(text("INSERT INTO counter (v) VALUES (0)"))
        c.execute(text("CREATE TABLE ledger (tag TEXT PRIMARY KEY)"))
    n, threads = 60, 4
    procs = [_python(READ_THEN_WRITE, url, tag, str(n), str(threads)) for tag in ("p1", "p2")]
    for p in procs:
        _, err = p.communicate(timeout=300)
        assert p.returncode == 0, err[-2000:]
    with engine.connect() as c:
        assert c.execute(text("SELECT v FROM counter")).scalar_one() == 2 * n * threads
        assert c.execute(text("SELECT count(*) FROM ledger")).scalar_one() == 2 * n * threads
    engine.dispose()


def test_a_back_to_back_writer_lets_another_process_write(tmp_path):
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    engine = make_engine(url)
    with engine.begin() as c:
        c.execute(text("CREATE TABLE a (id INTEGER PRIMARY KEY)"))
        c.execute(text("CREATE TABLE b (id INTEGER PRIMARY KEY)"))
    stop = tmp_path / "stop"
    writer = _python(BACK_TO_BACK, url, str(stop))

    def count_a() -> int:
        with read_only(engine.connect()) as c:  # a fresh snapshot each time
            return c.execute(text("SELECT count(*) FROM a")).scalar_one()

    try:
        wait_until(lambda: count_a() >= 20 or writer.poll() is not None, timeout_s=120,
                   message="the back-to-back writer got going")
        assert writer.poll() is None, writer.communicate()[1][-2000:]
        before = count_a()
        ours = 20
        for _ in range(ours):
            with engine.begin() as c:
                c.execute(text("INSERT INTO b DEFAULT VALUES"))
        theirs = count_a() - before
    finally:
        stop.touch()
        _, err = writer.communicate(timeout=120)
    assert writer.returncode == 0, err[-2000:]
    # SQLite's own busy handler sleeps up to 100 ms between tries while the other process takes
    # the lock again in the gap: it committed hundreds of times for each of ours
    assert theirs <= 10 * ours, f"the other process committed {theirs} times while we committed {ours}"
    engine.dispose()


def test_the_relay_polls_while_a_writer_holds_the_lock(tmp_path):
    metadata = MetaData()
    table, _ = add_plumbing_tables(metadata)
    engine = make_engine(f"sqlite:///{tmp_path / 'outbox.db'}")
    metadata.create_all(engine)
    relay = OutboxRelay(engine, table, producer_factory=lambda: None)
    done = threading.Event()
    found: list[int] = []

    def poll() -> None:
        found.append(relay.pending())
        found.append(len(relay._next_rows(10, None, set())))
        done.set()

    with engine.begin() as writer:
        Outbox(metadata).add_rows(writer, [outbox_row("e1", "kehadiran.punch.recorded.v1", "k", "{}")])
        poller = threading.Thread(target=poll)
        poller.start()
        # before: the poll waited for this transaction to end (up to the busy timeout)
        wait_until(done.is_set, timeout_s=20, message="the relay's poll answered while the writer holds the lock")
    poller.join()
    assert found == [0, 0]  # the uncommitted row is not seen
    assert relay.pending() == 1
    engine.dispose()


def test_a_failed_or_abandoned_transaction_gives_the_write_turn_back(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'turns.db'}")
    with engine.begin() as c:
        c.execute(text("CREATE TABLE t (v INTEGER PRIMARY KEY)"))
    with pytest.raises(Exception):
        with engine.begin() as c:
            c.execute(text("INSERT INTO t (v) VALUES (1)"))
            c.execute(text("INSERT INTO t (v) VALUES (1)"))  # rolled back
    conn = engine.connect()
    conn.execute(text("INSERT INTO t (v) VALUES (2)"))
    conn.close()  # never committed: the pool rolls it back
    done = threading.Event()

    def write() -> None:
        with engine.begin() as c:
            c.execute(text("INSERT INTO t (v) VALUES (3)"))
        done.set()

    threading.Thread(target=write, daemon=True).start()
    wait_until(done.is_set, timeout_s=20, message="a write after a rollback and an abandoned transaction")
    with engine.connect() as c:
        assert c.execute(text("SELECT v FROM t")).scalars().all() == [3]
    engine.dispose()


def test_the_switch_interval_is_short_only_while_a_write_turn_is_awaited_or_held(tmp_path):
    # a writer's thread takes the GIL back within HELD_SWITCH_S of asking (its polls for the lock,
    # a turn handed over), not the interpreter's 5 ms; idle, and after any end of the transaction,
    # the interval is the process's own again
    engine = make_engine(f"sqlite:///{tmp_path / 'switch.db'}")
    default = sys.getswitchinterval()
    assert default > sqlite_locking.HELD_SWITCH_S
    with engine.begin() as c:
        c.execute(text("CREATE TABLE t (v INTEGER PRIMARY KEY)"))
        assert sys.getswitchinterval() == pytest.approx(sqlite_locking.HELD_SWITCH_S)
    assert sys.getswitchinterval() == default
    with read_only(engine).connect() as c:  # a reader takes no turn
        c.execute(text("SELECT count(*) FROM t"))
        assert sys.getswitchinterval() == default
    with pytest.raises(Exception):
        with engine.begin() as c:
            c.execute(text("INSERT INTO t (v) VALUES (1)"))
            c.execute(text("INSERT INTO t (v) VALUES (1)"))  # rolled back
    assert sys.getswitchinterval() == default
    # two threads: the interval stays short until the last of them has given its turn back
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        with engine.begin() as c:
            c.execute(text("INSERT INTO t (v) VALUES (2)"))
            held.set()
            release.wait(20)

    holder = threading.Thread(target=hold, daemon=True)
    holder.start()
    wait_until(held.is_set, timeout_s=20, message="the first writer's turn")
    def wait_then_write() -> None:
        with engine.begin() as c:
            c.execute(text("INSERT INTO t (v) VALUES (3)"))

    waiter = threading.Thread(target=wait_then_write, daemon=True)
    waiter.start()
    assert sys.getswitchinterval() == pytest.approx(sqlite_locking.HELD_SWITCH_S)
    release.set()
    holder.join(20)
    waiter.join(20)
    assert not holder.is_alive() and not waiter.is_alive()
    assert sys.getswitchinterval() == default
    with engine.connect() as c:
        assert c.execute(text("SELECT v FROM t ORDER BY v")).scalars().all() == [2, 3]
    engine.dispose()


# a writer of another process whose polls would each sleep a minute: it gets the lock only if the
# holder's commit wakes it
SLOW_POLLER = textwrap.dedent("""
    import sys
    from sqlalchemy import text
    from kinerja import sqlite_locking
    from kinerja.db import make_engine
    sqlite_locking.POLL_S = 60.0
    engine = make_engine(sys.argv[1])
    with engine.begin() as c:
        c.execute(text("INSERT INTO t (v) VALUES (2)"))
""")


def test_a_waiting_process_is_woken_when_the_lock_is_given_back(tmp_path):
    url = f"sqlite:///{tmp_path / 'wake.db'}"
    engine = make_engine(url)
    with engine.begin() as c:
        c.execute(text("CREATE TABLE t (v INTEGER PRIMARY KEY)"))
    turn = sqlite_locking.turn_of(str(tmp_path / "wake.db"))
    with engine.begin() as c:
        c.execute(text("INSERT INTO t (v) VALUES (1)"))
        waiter = _python(SLOW_POLLER, url)
        # the other process waits for the lock (it holds the waiter signal while it sleeps)
        wait_until(lambda: turn.others_waiting() or waiter.poll() is not None, timeout_s=60,
                   message="the other process waiting for the write lock")
        assert waiter.poll() is None, waiter.communicate()[1][-2000:]
    # before: it slept its whole poll (here a minute) before it tried again
    _, err = waiter.communicate(timeout=30)
    assert waiter.returncode == 0, err[-2000:]
    with engine.connect() as c:
        assert c.execute(text("SELECT v FROM t ORDER BY v")).scalars().all() == [1, 2]
    engine.dispose()
