"""PostgreSQL notifications sent after a commit instead of inside it, for a hot path that commits
many small transactions (a punch request).

Why: a transaction that has called ``pg_notify`` takes, as it commits, one lock of the whole
cluster (PostgreSQL's ``async.c``: ``PreCommit_Notify`` locks the notification queue until the
commit is over, so that notifications queue in commit order) and holds it across the commit
record's flush to disk. Every notifying commit of every database therefore waits for the one
before it to reach the disk: group commit cannot share one flush among them. On a durable
server (``synchronous_commit=on``, the default) one-punch requests spent most of their time
waiting for that lock (``Lock: object`` in ``pg_stat_activity``) and reached half the rate they
reach with the notifications gone.

So the punch statement sets ``kinerja.notify_after_commit`` for its transaction (the outbox's
and the day markers' trigger functions skip ``pg_notify`` while it is ``on``), and once the
request has committed it calls :meth:`AfterCommitNotifier.signal`: a thread of the process sends
the notifications from a connection of its own, in a transaction that writes nothing, so it
flushes nothing and holds that lock for microseconds. Signals that arrive while it sends are
merged into its next send: at most one notification per channel per round trip, however many
requests commit meanwhile. The rows are committed before their signal is sent, so a woken
relay or day worker finds them.

A notification this thread cannot send (its connection lost) is sent again once it has
reconnected; a waiter that misses one still looks on its own now and then (its poll)."""
from __future__ import annotations

import logging
import os
import queue
import threading
import time

from sqlalchemy import Connection, Engine, event

from kinerja.config import NOTIFY_AFTER_COMMIT_ENV, notify_after_commit_mode

log = logging.getLogger(__name__)

# the setting the trigger functions read (``trigger_body``); any name with a dot is a valid custom one
SETTING = "kinerja.notify_after_commit"
# what a statement selects to defer its transaction's notifications (its value: 'on')
DEFER_SQL = f"set_config('{SETTING}', 'on', true)"
RETRY_S = 0.5
# auto (default): defer where the server's commits flush to disk (``flushes_at_commit``); on: always;
# off: never (the triggers notify from inside every transaction, as everywhere else). Parsed, and
# checked at every process's start, by ``kinerja.config.notify_after_commit_mode``
MODE_ENV = NOTIFY_AFTER_COMMIT_ENV
_DEFERRED = "kinerja.after_commit_notify.deferred"  # a pooled connection's ``info``: (notifier, channels)


def trigger_body(channel: str) -> str:
    """A statement trigger function's body that notifies ``channel`` unless its transaction
    deferred its notifications (``DEFER_SQL``)."""
    return (f"$$ BEGIN IF current_setting('{SETTING}', true) IS DISTINCT FROM 'on' THEN "
            f"PERFORM pg_notify('{channel}', ''); END IF; RETURN NULL; END $$")


class AfterCommitNotifier:
    """One per process and database (``notifier_for``): ``signal`` returns at once; the thread
    sends."""

    def __init__(self, dsn: str):
        self.dsn = dsn
        self._lock = threading.Lock()
        # the channels signalled (a C queue: ``signal`` is one call on a request's path)
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._pid = 0  # the process whose thread drains ``_queue``

    def signal(self, *channels: str) -> None:
        if self._pid != os.getpid():  # no thread yet, or a fork's copy of its parent's
            self._start()
        self._queue.put(channels)

    def _start(self) -> None:
        with self._lock:
            if self._pid != os.getpid():
                self._queue = queue.SimpleQueue()
                threading.Thread(target=self._run, args=(self._queue,), name="after-commit-notify",
                                 daemon=True).start()
                self._pid = os.getpid()

    @staticmethod
    def _take(signals: queue.SimpleQueue) -> list[str]:
        """Every channel signalled since the last send, waiting for the first."""
        channels = set(signals.get())
        while True:
            try:
                channels.update(signals.get_nowait())
            except queue.Empty:
                return sorted(channels)

    def _run(self, signals: queue.SimpleQueue) -> None:
        import psycopg  # the [postgres] extra

        conn = None
        while True:
            channels = self._take(signals)
            try:
                if conn is None or conn.closed:
                    conn = psycopg.connect(self.dsn, autocommit=True, connect_timeout=10,
                                           application_name="kinerja-after-commit-notify")
                conn.execute("SELECT " + ", ".join("pg_notify(%s, '')" for _ in channels), channels)
            except Exception as exc:  # noqa: BLE001 - the database may be away: send again later
                log.warning("could not send notifications after commit; retrying",
                            extra={"channels": channels, "error": repr(exc)[:300]})
                if conn is not None:
                    conn.close()
                conn = None
                time.sleep(RETRY_S)  # a pause before reconnecting, not a wait for anything
                signals.put(tuple(channels))


_NOTIFIERS: dict[str, AfterCommitNotifier] = {}
_NOTIFIERS_LOCK = threading.RLock()  # _decide holds it around notifier_for
# the pool attribute holding its engine's notifier once its checkin sends the deferred notifications
# (False: its transactions notify from inside): a request's look-up (the URL rendered, the listener
# registered, the server's settings read: a round trip) made once
_POOL_ATTRIBUTE = "_kinerja_after_commit_notifier"


def notifier_for(engine: Engine) -> AfterCommitNotifier:
    """The process's notifier of ``engine``'s database (a PostgreSQL engine)."""
    dsn = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    with _NOTIFIERS_LOCK:
        found = _NOTIFIERS.get(dsn)
        if found is None:
            found = _NOTIFIERS[dsn] = AfterCommitNotifier(dsn)
        return found


def deferring(conn: Connection) -> AfterCommitNotifier | None:
    """The notifier that sends ``conn``'s deferred notifications after its commits, or None: the
    transactions of this engine notify from inside (``MODE_ENV``). Decided once an engine (its
    pool), on its first call."""
    found = getattr(conn.engine.pool, _POOL_ATTRIBUTE, None)
    if found is None:
        found = _decide(conn)
    return found or None


def notify_after_commit(conn: Connection, notifier: AfterCommitNotifier, channels: tuple[str, ...]) -> None:
    """``conn``'s transaction deferred its notifications of ``channels`` (a statement of it selected
    ``DEFER_SQL``): ``notifier`` (``deferring``'s) signals them when the connection is handed back
    to its pool, which a session or a ``with engine.connect()`` block does after its commit (a
    rolled-back one only wakes its waiters for nothing)."""
    conn.info[_DEFERRED] = (notifier, channels)


def flushes_at_commit(engine: Engine) -> bool:
    """Whether the engine's sessions commit by waiting for their WAL to reach the disk
    (``synchronous_commit`` not off, ``fsync`` on): only then does a notifying commit hold the
    queue's lock across a flush. Asked on a connection of its own (the caller's may be in the
    middle of a pipeline)."""
    with engine.connect() as conn:
        sync, fsync = conn.exec_driver_sql(
            "SELECT current_setting('synchronous_commit'), current_setting('fsync')").one()
    return sync != "off" and fsync == "on"


def _decide(conn: Connection) -> AfterCommitNotifier | bool:
    mode = notify_after_commit_mode()
    engine = conn.engine
    with _NOTIFIERS_LOCK:
        found = getattr(engine.pool, _POOL_ATTRIBUTE, None)
        if found is None:
            # without a flush inside the commit the lock is held for microseconds, and a
            # notification of its own would cost each request a transaction more (on a server
            # with fsync off: 0.1 ms of its CPU, ~9 % of one-punch requests/s, interleaved A/B)
            if mode == "on" or (mode == "auto" and flushes_at_commit(engine)):
                found = notifier_for(engine)
                event.listen(engine.pool, "checkin", _handed_back)
            else:
                found = False
            setattr(engine.pool, _POOL_ATTRIBUTE, found)
        return found


def _handed_back(_dbapi_conn, record) -> None:
    found = record.info.pop(_DEFERRED, None) if record is not None else None
    if found is not None:
        found[0].signal(*found[1])
