"""``OutboxRelay``: its settings and one round (``step``: collect acks, mark, read, hold or send);
its loop and stop are ``relay.loop``, the pipeline ``relay.pipeline``, the housekeeping
``relay.upkeep`` (the module docstring of ``kinerja.messaging.relay`` says why it is safe)."""
from __future__ import annotations

import re
import threading
import time
from collections import deque
from typing import Callable

from kafka import KafkaProducer
from kafka.errors import KafkaError
from sqlalchemy import Engine, Table

from kinerja.messaging.claims import Claims, claims_for
from kinerja.messaging.outbox import OUTBOX_RETENTION_S
from kinerja.messaging.relay.loop import RelayLoop
from kinerja.messaging.relay.pipeline import RelayPipeline
from kinerja.messaging.relay.producer_session import RelayFailed
from kinerja.messaging.relay.upkeep import RelayUpkeep
from kinerja import wakeup

# the least time from a read that found rows, fewer than it may, to the next read
# (``round_gap_s``; ``KINERJA_RELAY_ROUND_GAP_MS``): rows committed meanwhile go in the next read
# together, so in one produce request, instead of a read, a send and a produce request each when
# rows come faster than a round (a day worker's or a consumer's commits, at 50-100 punches/s one
# every few ms). A row after a quiet spell is read at once, as before; a full read reads on at once
ROUND_GAP_S = 0.005

# acknowledged rows are marked sent at most this long after a send (``mark_interval_s``;
# ``KINERJA_RELAY_MARK_INTERVAL_MS``), all in one UPDATE, or at once when a read's worth is waiting.
# At a trickle a relay's reads came more than 0.1 s apart, so each read had a mark (an UPDATE and
# a commit) of its own: penilaian's relay at 30 punches/s marked once a read. What waiting longer
# costs: a relay that dies re-sends what was acknowledged and not yet marked (consumers drop the
# copies by event id), and the rows in flight or unmarked are left out of each read by id
MARK_INTERVAL_S = 0.5

# how long a read that found only rows of ``hold_types`` may leave them unsent (``hold_s``): a type
# nobody waits for, written just before the rows that matter (kehadiran's punch rows: the web
# request commits one, and the day worker's round commits its day summary ~10 ms later). Sent on
# their own, each went in a produce request of its own and woke every consumer of the topic for a
# record they pass over; left for the next read (the day summary's notification, or this long at
# the most) both go in one request and one fetch. Nothing is held in memory: the rows stay unsent
# in the table, are read again with what follows, in id order, and a relay that stops sends them
# next time
HOLD_S = 0.1
_TYPE = re.compile(rb'"type"\s*:\s*"([^"]{1,200})"')  # the envelope's type, read from the bytes


class OutboxRelay(RelayPipeline, RelayUpkeep, RelayLoop):
    def __init__(
        self,
        engine: Engine,
        table: Table,
        producer_factory: Callable[[], KafkaProducer],
        *,
        prefix: str = "",
        batch_size: int = 500,
        max_in_flight: int = 5000,
        idle_interval_s: float = 0.05,
        notify_poll_s: float = 0.5,
        max_backoff_s: float = 5.0,
        service: str = "",
        depth_interval_s: float = 2.0,
        retention_s: float = OUTBOX_RETENTION_S,
        trim_interval_s: float | None = None,
        claim_refresh_s: float = 1.0,
        stop_drain_s: float = 10.0,
        mark_interval_s: float = MARK_INTERVAL_S,
        listen: bool = True,
        claims: Claims | None = None,
        round_gap_s: float = ROUND_GAP_S,
        hold_types: frozenset[str] | tuple[str, ...] = (),
        hold_s: float = HOLD_S,
    ):
        self.engine = engine
        self.table = table
        self.producer_factory = producer_factory
        self.prefix = prefix
        self.batch_size = batch_size
        self.max_in_flight = max(max_in_flight, batch_size)
        self.idle_interval_s = idle_interval_s
        self.notify_poll_s = notify_poll_s
        self.max_backoff_s = max_backoff_s
        self.service = service or table.name
        self.depth_interval_s = depth_interval_s
        self.retention_s = retention_s
        # every 10 s, or a quarter of a short retention (soaks, tests)
        self.trim_interval_s = trim_interval_s if trim_interval_s is not None else min(10.0, max(1.0, retention_s / 4))
        self.claim_refresh_s = claim_refresh_s
        self.stop_drain_s = stop_drain_s
        self.mark_interval_s = mark_interval_s
        self.round_gap_s = max(0.0, round_gap_s)
        self._next_read_at = 0.0  # a read that found a few rows: no read before this
        # rows of these event types alone are left unsent for the next read, at most ``hold_s``
        self._hold_types = frozenset(t.encode() for t in hold_types)
        self.hold_s = max(0.0, hold_s)
        self._held_until: float | None = None  # rows were left unsent: read (and send) by then
        self.held = 0  # reads whose rows were left for the next one (tests tell a hold by it)
        # PostgreSQL: LISTEN for the outbox trigger; SQLite: the committing writers' signal
        # (``kinerja.wakeup.announce_inserts``). Either way the poll becomes ``notify_poll_s``.
        self.listen = listen and (engine.dialect.name == "postgresql" or wakeup.sqlite_file(engine) is not None)
        self._claims = claims
        self._producer: KafkaProducer | None = None
        self._append = None  # the producer's records appended (``relay.appender``), set with it
        self.published = 0  # rows marked sent by this relay
        self.trimmed = 0
        self.waits = 0  # times the loop waited for work (tests tell an idle relay by it)
        self._depth_at = 0.0
        self._trim_at = 0.0
        # the pipeline: ids sent by the current producer session and not yet acknowledged; acks
        # arrive on the producer's thread as (session, id, error) and are collected by the loop
        self._session = 0
        self._inflight: set[int] = set()
        self._acks: deque[tuple[int, int, Exception | None]] = deque()
        self._to_mark: list[int] = []
        # acknowledged rows are marked sent together, at most ``mark_interval_s`` after a send
        # (``_mark_at``), not one UPDATE (and one commit) per ack: at a low rate every row is its
        # own read and would be its own mark. An ack wakes the loop only when the loop waits for
        # one (``_ack_wakes``: the pipeline is full, a bucket is being given up, the relay stops);
        # a row waiting unmarked a little longer is only sent again should the relay die
        self._mark_at: float | None = None
        self._ack_wakes = False
        self._wake = threading.Event()
        self._listener: wakeup.Listener | None = None
        # whether rows may be waiting: a notification, a full read, new buckets or a session
        # ended since the last read, or the last read is ``notify_poll_s`` old (a notification
        # missed). A wake-up that only brought acks (one per record at a low rate) marks them and
        # reads nothing, while the listener is there to tell of rows
        self._read_due = True
        self._read_at = 0.0
        self.reads = 0  # reads of the outbox (tests tell a read skipped by it)
        self.marks = 0  # UPDATEs marking rows sent
        self._plain = None  # the read and the mark as plain SQL on a connection of their own
        self._topics: dict[str, str] = {}  # an outbox row's topic -> the prefixed topic

    # -- one round -------------------------------------------------------------------------
    def step(self) -> int:
        """Collect acks, mark them when due, refresh the claims, send the next rows if the pipeline
        has room. Returns how many rows were sent (0: nothing to do now). Raises on a failed send
        (the session is already ended) and on database errors (nothing is lost: acknowledged ids
        stay to be marked, unmarked rows are sent again)."""
        error = self._collect_acks()
        if error is not None:
            self._drop_producer()
            self._mark()
            raise RelayFailed(f"a send failed: {error!r}")
        claims = self.claims
        now = time.monotonic()
        mark_at = self._mark_at
        if mark_at is not None and now >= mark_at:
            self._mark()  # due: everything acknowledged so far, in one statement
        elif self._to_mark and (claims.paused or len(self._to_mark) >= self.batch_size):
            self._mark()  # a bucket waits to be given up, or enough for a statement of its own
        buckets = claims.buckets
        claims.refresh(idle=not self._inflight and not self._to_mark)
        if claims.buckets != buckets:
            self._read_due = True  # rows of buckets just taken were announced to their old holder
        room = self.max_in_flight - len(self._inflight)
        self._ack_wakes = room <= 0 or claims.paused
        if self._ack_wakes and self._acks:
            self._wake.set()  # acks that came before the flag was up
        sent = 0
        held_until = self._held_until
        if not (claims.paused or claims.buckets == frozenset() or room <= 0) and now >= self._next_read_at and (
                self._read_due or now - self._read_at >= self.notify_poll_s
                or (held_until is not None and now >= held_until)
                or self._listener is None or not self._listener.connected.is_set()):
            sent = self._read_and_send(now, min(self.batch_size, room), claims.buckets)
        if self._mark_at is None and (self._inflight or self._to_mark):
            self._mark_at = now + self.mark_interval_s
        return sent

    def _read_and_send(self, now: float, limit: int, buckets: frozenset[int] | None) -> int:
        self._read_due = False  # before the read: a row committed during it is announced after
        self._read_at = now
        # rows acknowledged and not yet marked are on the topic: never read as unsent again
        skip = self._inflight.union(self._to_mark) if self._to_mark else self._inflight
        try:
            rows = self._next_rows(limit, buckets, skip)
        except BaseException:
            self._read_due = True
            raise
        self.reads += 1
        if len(rows) == limit:
            self._read_due = True  # more may be waiting
        elif rows and self._holds(rows, now):
            self.held += 1
            return 0  # left unsent: read again with what follows (``HOLD_S``)
        elif rows and self.round_gap_s:
            self._next_read_at = now + self.round_gap_s  # what comes meanwhile, in one read
        self._held_until = None
        if rows:
            self._send(rows)
        return len(rows)

    def _holds(self, rows: list, now: float) -> bool:
        """Whether a read's rows (fewer than it may) are all of ``hold_types`` and may wait for
        the next read: not when the first of them was left unsent ``hold_s`` ago already, nor
        when the listener is not there to tell of the rows that follow."""
        hold = self._hold_types
        if not hold or (self._held_until is not None and now >= self._held_until) or (
                self._listener is None or not self._listener.connected.is_set()):
            return False
        search = _TYPE.search
        for row in rows:
            m = search(row[3])
            if m is None or m.group(1) not in hold:
                return False
        if self._held_until is None:
            self._held_until = now + self.hold_s
        return True

    @property
    def claims(self) -> Claims:
        if self._claims is None:
            self._claims = claims_for(self.engine, self.table.name, service=self.service,
                                      refresh_s=self.claim_refresh_s)
        return self._claims

    def publish_batch(self, timeout_s: float = 30.0) -> int:
        """Publish up to one batch and wait until it is acknowledged and marked; returns how
        many rows were marked (0 when nothing was pending). For tools and tests: it takes no
        claims (a relay running elsewhere may publish the same rows too, never out of order)."""
        self._collect_acks()
        self._mark()
        rows = self._next_rows(self.batch_size, None, self._inflight)
        if not rows:
            return 0
        self._send(rows)
        try:
            self._get_producer().flush(timeout=timeout_s)
        except KafkaError:
            self._drop_producer()
            raise
        error = self._collect_acks()
        if error is not None or self._inflight:
            self._drop_producer()
            self._mark()
            raise RelayFailed(f"batch not acknowledged: {error!r}")
        return self._mark()
