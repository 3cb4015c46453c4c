"""kinerja.wakeup.LocalWakeup: the SQLite stand-in for NOTIFY between processes on one machine.
Every waiter of a name is woken by one signal, waiters of other names are not, and the socket a
dead waiter left behind is removed by the next signal."""
import socket
import threading
import uuid

import pytest

from kinerja.db import make_engine
from kinerja.testing import wait_until
from kinerja.wakeup import LocalWakeup, local_wakeup, sqlite_file

pytestmark = pytest.mark.integration


def test_one_signal_wakes_every_waiter_of_the_name_and_no_other():
    name = f"/tmp/{uuid.uuid4().hex}.db#inbox"
    wakeup, other = LocalWakeup(name), LocalWakeup(name + "-other")
    assert wakeup.available and wakeup.directory != other.directory
    events = [threading.Event() for _ in range(3)]
    listeners = [wakeup.listen(e) for e in events] + [other.listen(stranger := threading.Event())]
    try:
        for e in events + [stranger]:
            e.clear()  # listen() sets it once, for what was committed before it bound
        assert wakeup.signal() == 3
        wait_until(lambda: all(e.is_set() for e in events), 10, message="every waiter woken")
        assert not stranger.is_set()
    finally:
        for listener in listeners:
            listener.close()
    assert wakeup.signal() == 0 and not wakeup.directory.exists(), "closed waiters leave nothing"
    other.listen(again := threading.Event()).close()  # a later waiter makes the directory again


def test_a_dead_waiters_socket_is_removed_by_the_next_signal():
    wakeup = LocalWakeup(f"/tmp/{uuid.uuid4().hex}.db#inbox")
    path = wakeup.directory / "999999-dead.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    sock.close()  # as a killed process leaves it: the file stays, nobody reads
    assert path.exists()
    assert wakeup.signal() == 0
    assert not path.exists()


def test_only_a_sqlite_file_has_a_local_wakeup(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    assert sqlite_file(engine) == str((tmp_path / "x.db").resolve())
    a, b = local_wakeup(engine, "inbox"), local_wakeup(engine, "outbox")
    assert a.directory != b.directory, "one directory per channel of a file"
    engine.dispose()
    assert local_wakeup(make_engine("sqlite://"), "inbox") is None


def test_a_committed_outbox_insert_wakes_its_waiters_and_a_rolled_back_one_does_not(tmp_path):
    """``make_engine`` announces the outbox's inserts on SQLite (what the PostgreSQL trigger does),
    after the commit; a writer alone leaves no wake-up directory behind."""
    from kinerja.wakeup import OUTBOX_CHANNEL

    engine = make_engine(f"sqlite:///{tmp_path / 'svc.db'}")
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("CREATE TABLE outbox (id INTEGER PRIMARY KEY, v TEXT)")
            conn.exec_driver_sql("INSERT INTO outbox (v) VALUES ('before anyone waits')")
        assert not LocalWakeup(f"{sqlite_file(engine)}#{OUTBOX_CHANNEL}", create=False).directory.exists()
        woken = threading.Event()
        listener = local_wakeup(engine, OUTBOX_CHANNEL).listen(woken)
        try:
            woken.clear()
            with pytest.raises(RuntimeError), engine.begin() as conn:
                conn.exec_driver_sql("INSERT INTO outbox (v) VALUES ('rolled back')")
                raise RuntimeError("rolled back")
            with engine.begin() as conn:
                conn.exec_driver_sql("UPDATE outbox SET v = 'not an insert'")
            assert not woken.wait(0.3)
            with engine.begin() as conn:
                conn.exec_driver_sql("insert into outbox (v) values ('committed')")
            wait_until(woken.is_set, 10, message="the waiter woken by the commit")
        finally:
            listener.close()
    finally:
        engine.dispose()


def test_an_insert_on_the_drivers_cursor_wakes_the_waiters_once_noted(tmp_path):
    """Statements on the DBAPI cursor pass by SQLAlchemy's events (kehadiran's ``raw_sql``): they
    say what they inserted with ``note_insert``, and the commit wakes that table's waiters; a
    rollback forgets it, and a noted table nobody announces commits as usual and wakes nobody."""
    from kinerja.wakeup import OUTBOX_CHANNEL, note_insert

    engine = make_engine(f"sqlite:///{tmp_path / 'svc.db'}")
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("CREATE TABLE outbox (id INTEGER PRIMARY KEY, v TEXT)")
            conn.exec_driver_sql("CREATE TABLE punches (id INTEGER PRIMARY KEY, v TEXT)")

        def raw_insert(conn, table: str) -> None:
            conn.connection.dbapi_connection.cursor().execute(f"INSERT INTO {table} (v) VALUES ('x')")
            note_insert(conn, table)

        woken = threading.Event()
        listener = local_wakeup(engine, OUTBOX_CHANNEL).listen(woken)
        try:
            woken.clear()
            with pytest.raises(RuntimeError), engine.begin() as conn:
                raw_insert(conn, "outbox")
                raise RuntimeError("rolled back")
            with engine.begin() as conn:
                raw_insert(conn, "punches")
            assert not woken.wait(0.3)
            with engine.begin() as conn:
                raw_insert(conn, "outbox")
            wait_until(woken.is_set, 10, message="the waiter woken by the commit")
        finally:
            listener.close()
        with engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT count(*) FROM punches").scalar_one() == 1
    finally:
        engine.dispose()
