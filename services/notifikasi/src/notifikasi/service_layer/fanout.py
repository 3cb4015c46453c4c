"""One inbox tailer per web worker process: a thread that reads the inbox rows newer than the last
one it saw and hands each to the queues of the connected clients it is for.

It reads when it is woken: on PostgreSQL by ``NOTIFY notifikasi_inbox``, which a trigger sends when
a transaction that inserted inbox rows commits; on SQLite by a datagram the writing process sends
after its commit (``adapters.inbox_wakeup``). A consumer writes the inbox rows of one poll in one
transaction, so one wake-up brings the tailer the whole batch in one query, and it pushes it to
the streams at once. Without a wake-up it still looks every ``poll_interval_s`` (2 s: a wake-up
lost while its listener reconnected), and every ``fallback_poll_s`` (0.1 s) while nothing can wake
it (the listener is down, or the database has no way). Idle, a worker's tailer costs one indexed
query every two seconds: measured on SQLite over 10 s, 5 reads and 0.08 % of a core, where the
0.1 s poll it replaces took 99 reads and 1.2 %; a wake-up costs the writer ~70 µs per commit.

N open streams cost one query per wake-up, not N. Why the web process tails the database instead
of reading Kafka is explained in :mod:`notifikasi.entrypoints.stream_api`.

Ids and commit order: ids are taken when a row is inserted but become visible when its
transaction commits, so with several consumer processes writing the inbox (PostgreSQL) a row with
a lower id can appear after a higher one was already seen. The tailer remembers the ids it skipped
over and looks for them again for ``gap_grace_s`` seconds, so such a row is still delivered live
(out of id order; a client that reconnects may then be sent a row twice, never zero times — the id
tells it). Rolled-back inserts leave gaps that simply expire.
"""
from __future__ import annotations

import json
import logging
import queue
import threading
import time
from dataclasses import dataclass
from typing import Callable

from sqlalchemy import Row
from sqlalchemy.orm import Session

from kinerja.db import read_only_session
from kinerja.metrics import SSE_STREAMS_OPEN
from kinerja.wakeup import Listener
from notifikasi.adapters import inbox
from notifikasi.adapters.orm import Notification

log = logging.getLogger(__name__)

CLOSED = None  # put on a subscriber's queue: the stream must end (tailer stopped, or client too slow)


@dataclass(frozen=True)
class Frame:
    """One notification rendered once as an SSE message, shared by every queue it goes to."""

    id: int
    data: bytes


def render_frame(row: Notification | Row) -> Frame:
    payload = json.dumps(inbox.as_dict(row), separators=(",", ":"), ensure_ascii=False, default=str)
    # json.dumps escapes newlines, so the data fits on one ``data:`` line
    return Frame(row.id, f"id: {row.id}\nevent: {row.kind}\ndata: {payload}\n\n".encode())


@dataclass(eq=False)
class Subscription:
    nip: str
    agency: str
    queue: "queue.Queue[Frame | None]"
    overflowed: bool = False
    closed: bool = False
    # every recipient whose rows this stream carries (``inbox.recipients_of``: an admin's own and
    # the agency's admin rows); the NIP alone when empty
    recipients: tuple[str, ...] = ()

    @property
    def keys(self) -> list[tuple[str, str]]:
        return [(self.agency, r) for r in (self.recipients or (self.nip,))]


@dataclass
class TailerStats:
    ticks: int = 0
    woken: int = 0  # waits ended by a wake-up rather than the poll interval
    rows: int = 0
    delivered: int = 0
    overflows: int = 0
    late_rows: int = 0
    errors: int = 0


class InboxTailer:
    def __init__(self, session_factory: Callable[[], Session], *, poll_interval_s: float = 2.0,
                 batch_size: int = 500, queue_size: int = 1000, gap_grace_s: float = 30.0,
                 max_gaps: int = 10_000,
                 wake_source: Callable[[threading.Event], Listener | None] | None = None,
                 fallback_poll_s: float = 0.1):
        self.session_factory = session_factory
        self.poll_interval_s = poll_interval_s
        self.fallback_poll_s = min(fallback_poll_s, poll_interval_s)
        self.wake_source = wake_source
        self._wake = threading.Event()
        self._listener: Listener | None = None
        self.batch_size = batch_size
        self.queue_size = queue_size
        self.gap_grace_s = gap_grace_s
        self.max_gaps = max_gaps
        self.stats = TailerStats()
        self.last_id = 0
        self._gaps: dict[int, float] = {}  # id skipped over → when first noticed
        self._subs: dict[tuple[str, str], set[Subscription]] = {}
        self._all: set[Subscription] = set()  # counted every tick (a gauge): not rebuilt from _subs
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pid: int | None = None

    # -- lifecycle ---------------------------------------------------------------------------
    def ensure_started(self) -> None:
        """Start the thread on first use, in the process that serves (after gunicorn forks).
        The starting position is read before this returns, so a subscriber registered before
        the call misses nothing committed after it."""
        import os

        with self._lock:
            if self._thread is not None and self._thread.is_alive() and self._pid == os.getpid():
                return
            self._stop.clear()
            with read_only_session(self.session_factory) as session:
                self.last_id = inbox.max_id(session)
            self._gaps.clear()
            self._pid = os.getpid()
            # a listener inherited over a fork belongs to the parent: start this process's own
            self._listener = self.wake_source(self._wake) if self.wake_source is not None else None
            self._thread = threading.Thread(target=self._run, name="notifikasi-inbox-tailer", daemon=True)
            self._thread.start()
            log.info("inbox tailer started", extra={"last_id": self.last_id, "woken": self._listener is not None})

    def stop(self, timeout_s: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout_s)
        listener, self._listener = self._listener, None
        if listener is not None:
            if timeout_s > 0:
                listener.close()
            else:  # from a signal handler: never block; the thread is a daemon
                listener.stop.set()
        with self._lock:
            subs = list(self._all)
            self._subs.clear()
            self._all.clear()
        for sub in subs:
            self._close(sub)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive() and not self._stop.is_set()

    # -- subscribers -------------------------------------------------------------------------
    def subscribe(self, nip: str, agency: str, recipients: tuple[str, ...] = ()) -> Subscription:
        sub = Subscription(nip=nip, agency=agency, queue=queue.Queue(maxsize=self.queue_size),
                           recipients=tuple(recipients))
        with self._lock:
            for key in sub.keys:
                self._subs.setdefault(key, set()).add(sub)
            self._all.add(sub)
        self.ensure_started()
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        with self._lock:
            for key in sub.keys:
                group = self._subs.get(key)
                if group is not None:
                    group.discard(sub)
                    if not group:
                        del self._subs[key]
            self._all.discard(sub)
        sub.closed = True

    def subscriber_count(self) -> int:
        with self._lock:
            return len(self._all)

    # -- the loop ----------------------------------------------------------------------------
    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()  # a wake-up from now on is for rows this tick may not see
            try:
                more = self.tick()
            except Exception:  # noqa: BLE001 - the database may be away; keep tailing when it returns
                self.stats.errors += 1
                log.exception("inbox tailer tick failed")
                self._stop.wait(1.0)
                continue
            if not more:
                self._wait()

    def _wait(self) -> None:
        """Until woken, or the poll interval (short while nothing can wake us)."""
        listener = self._listener
        woken_possible = listener is not None and listener.connected.is_set()
        if self._wake.wait(self.poll_interval_s if woken_possible else self.fallback_poll_s):
            self.stats.woken += 1

    def tick(self) -> bool:
        """One poll: deliver new rows (and late ones that filled a gap). True if a full batch came."""
        self.stats.ticks += 1
        SSE_STREAMS_OPEN.labels("notifikasi").set(self.subscriber_count())  # Prometheus gauge
        now = time.monotonic()
        # it only reads: on SQLite no write lock, so a tick neither waits for the consumer's
        # batch nor holds it up
        with read_only_session(self.session_factory) as session:
            rows = list(inbox.rows_after(session, self.last_id, self.batch_size))
            late: list[Row] = []
            if self._gaps:
                expired = [i for i, seen in self._gaps.items() if now - seen > self.gap_grace_s]
                for i in expired:
                    del self._gaps[i]
                if self._gaps:
                    late = list(inbox.rows_by_ids(session, sorted(self._gaps)))
                    for row in late:
                        self._gaps.pop(row.id, None)
            found = late + rows
        previous = self.last_id
        for row in rows:
            for missing in range(previous + 1, row.id):
                if len(self._gaps) < self.max_gaps:
                    self._gaps[missing] = now
            previous = row.id
        if rows:
            self.last_id = rows[-1].id
        self.stats.rows += len(rows)
        self.stats.late_rows += len(late)
        for row in found:
            self._deliver(row)
        return len(rows) >= self.batch_size

    def _deliver(self, row: Row) -> None:
        """``row`` as a frame on the queue of every stream of this worker it is for. Rendered only
        when there is one: a worker holds the streams of a few of the inbox's recipients (a
        score update's supervisor row, for one, is rarely watched), and rendering (JSON of the
        whole row) was most of a tick's Python for rows nobody here reads."""
        with self._lock:
            subs = list(self._subs.get((row.agency, row.recipient_nip), ()))
        if not subs:
            return
        frame = render_frame(row)
        for sub in subs:
            try:
                sub.queue.put_nowait(frame)
                self.stats.delivered += 1
            except queue.Full:
                # a client that does not read: end its stream; it reconnects with Last-Event-ID
                # and reads what it missed from the inbox, so nothing is lost
                self.stats.overflows += 1
                sub.overflowed = True
                self.unsubscribe(sub)
                self._close(sub)

    @staticmethod
    def _close(sub: Subscription) -> None:
        sub.closed = True
        try:
            sub.queue.put_nowait(CLOSED)
        except queue.Full:
            pass  # the reader checks ``closed`` when it drains the queue
