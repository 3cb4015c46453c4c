"""Which outbox rows a relay may publish, when several relays serve one outbox.

Rows are spread over ``BUCKETS`` buckets by a hash of their key (the NIP), so all of one key's
rows are in one bucket. A relay publishes only the buckets it holds, and a bucket is held by at
most one relay at a time, so in steady operation every row is published once.

- PostgreSQL (:class:`AdvisoryLockClaims`): each relay takes a member slot (a session advisory
  lock) on a connection of its own and reads the other members' slots from ``pg_locks``; with N
  members, the relay of rank i wants the buckets b with b % N == i, and holds each with another
  session advisory lock. It gives up a bucket only when it has nothing in flight and has marked
  everything acknowledged (the relay pauses its reads until then), so the next holder sees those
  rows as sent. A relay that dies, or whose connection breaks, loses its locks with its session:
  the others take its buckets over at their next refresh (``refresh_s``).
- SQLite (:class:`FileLockClaims`): one claimer at a time, by an exclusive ``flock`` on a file
  beside the database (``<db>.outbox.lock``); the others stand by and take over when its
  process ends.

Nothing here is particular to the outbox but the names: another table whose rows are keyed by
NIP (a worker's queue) can be shared the same way with ``claims_for(engine, "<table>")``, its
rows filtered with :func:`bucket_of` (same buckets, other locks).

Holding a bucket is what avoids duplicates; it is not what keeps one key's events in order. Order
comes from how every relay reads (see ``kinerja.messaging.relay``): should two relays ever publish
one bucket at once (a broken connection noticed late), the result is duplicates, never a reordering.
"""
from __future__ import annotations

import fcntl
import logging
import os
import time
import zlib
from pathlib import Path

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.pool import NullPool

from kinerja import metrics

log = logging.getLogger(__name__)

BUCKETS = 64
MAX_MEMBERS = 64
ALL = frozenset(range(BUCKETS))


def application_name(table: str, service: str) -> str:
    """Names the claims connection in ``pg_stat_activity``: table, service, then the process id."""
    return f"kinerja-claims {table} {service or '-'} {os.getpid()}"[-63:]


def bucket_of(column):
    """The SQL expression of a key column's bucket (PostgreSQL: ``hashtext(key) & 63``)."""
    from sqlalchemy import func

    return func.hashtext(column).op("&")(BUCKETS - 1)


def lock_namespace(kind: str, table: str) -> int:
    """The first key of a two-key advisory lock: stable, positive (pg_locks shows it as an oid)."""
    return zlib.crc32(f"kinerja.relay.{kind}:{table}".encode()) & 0x7FFFFFFF


class Claims:
    """What a relay may publish. ``buckets`` is None for every row (no filter), else the set of
    buckets held (empty: publish nothing). ``paused``: give nothing out until the relay is idle
    (a release is pending). ``leader``: this relay does the housekeeping (trimming)."""

    buckets: frozenset[int] | None = None
    paused = False
    leader = True

    def refresh(self, idle: bool) -> None:
        """Join, rebalance, take over, release; ``idle``: nothing in flight and every
        acknowledged row marked, so buckets may be given up now."""

    def close(self) -> None:
        pass


class FileLockClaims(Claims):
    """One claimer per SQLite file and table: an exclusive, non-blocking ``flock`` on
    ``<db>.<table>.lock``."""

    def __init__(self, path: Path, table: str = "outbox", refresh_s: float = 0.5, service: str = ""):
        self.path = Path(f"{path}.{table}.lock")
        self.refresh_s = refresh_s
        self.service = service
        self._fd: int | None = None
        self._at = 0.0
        self.buckets = frozenset()
        self.leader = False

    def refresh(self, idle: bool) -> None:
        now = time.monotonic()
        if self._fd is not None or now - self._at < self.refresh_s:
            return
        self._at = now
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return
        self._fd = fd
        self.buckets = None
        self.leader = True
        metrics.RELAY_BUCKETS.labels(self.service).set(BUCKETS)
        log.info("this process is the claimer", extra={"lock": str(self.path)})

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor releases the flock
            self._fd = None
        self.buckets = frozenset()
        self.leader = False


class AdvisoryLockClaims(Claims):
    def __init__(self, engine: Engine, table: str, refresh_s: float = 1.0, service: str = ""):
        # a connection of its own, outside the pool: the locks live and die with its session;
        # its application_name says which process holds them (pg_stat_activity)
        self._engine = create_engine(engine.url, poolclass=NullPool, isolation_level="AUTOCOMMIT",
                                     connect_args={"application_name": application_name(table, service)})
        self.table = table
        self.member_ns = lock_namespace("member", table)
        self.bucket_ns = lock_namespace("bucket", table)
        self.refresh_s = refresh_s
        self.service = service
        self._conn = None
        self.slot: int | None = None
        self.held: set[int] = set()
        self._release: set[int] = set()
        self._at = 0.0
        self.buckets = frozenset()
        self.leader = False
        self.members: list[int] = []

    @property
    def paused(self) -> bool:  # type: ignore[override]
        return bool(self._release)

    def _publish_state(self) -> None:
        self.buckets = None if self.held == set(ALL) and not self._release else frozenset(self.held - self._release)
        metrics.RELAY_BUCKETS.labels(self.service).set(len(self.held))

    def _lost(self, exc: Exception) -> None:
        log.warning("claims connection lost; its buckets are free for others",
                    extra={"error": repr(exc)[:300]})
        self._drop_connection()

    def _drop_connection(self) -> None:
        if self._conn is not None:
            try:
                self._conn.invalidate()  # closes the session, so PostgreSQL frees its locks
            except Exception:  # noqa: BLE001 - already broken
                pass
            self._conn = None
        self.slot = None
        self.held = set()
        self._release = set()
        self.leader = False
        self._publish_state()

    def _join(self) -> None:
        for slot in range(MAX_MEMBERS):
            if self._conn.execute(text("SELECT pg_try_advisory_lock(:ns, :slot)"),
                                  {"ns": self.member_ns, "slot": slot}).scalar_one():
                self.slot = slot
                log.info("claims joined", extra={"slot": slot, "table": self.table})
                return
        log.error("no free slot: more than %d claimers on %s; this one stands by", MAX_MEMBERS, self.table)

    def _member_slots(self) -> list[int]:
        rows = self._conn.execute(text(
            "SELECT objid::int FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 2 "
            "AND classid = CAST(:ns AS integer)::oid "
            "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"),
            {"ns": self.member_ns}).scalars().all()
        return sorted(set(rows))

    def refresh(self, idle: bool) -> None:
        now = time.monotonic()
        if now - self._at < self.refresh_s and not (self._release and idle):
            return
        self._at = now
        try:
            if self._conn is None:
                self._conn = self._engine.connect()
            if self.slot is None:
                self._join()
            if self.slot is None:
                return
            members = self._member_slots()
            if self.slot not in members:  # our session is gone (the server restarted)
                raise RuntimeError("our member lock is not in pg_locks")
            self.members = members
            rank, n = members.index(self.slot), len(members)
            self.leader = rank == 0
            wanted = {b for b in range(BUCKETS) if b % n == rank}
            self._release = self.held - wanted
            if self._release and idle:
                released = sorted(self._release)
                self._conn.execute(text("SELECT pg_advisory_unlock(:ns, b) FROM unnest(CAST(:bs AS integer[])) AS b"),
                                   {"ns": self.bucket_ns, "bs": released})
                self.held -= self._release
                self._release = set()
                log.info("buckets given up", extra={"buckets": len(released), "members": n, "table": self.table})
            missing = sorted(wanted - self.held)
            if missing:
                got = self._conn.execute(text(
                    "SELECT b FROM unnest(CAST(:bs AS integer[])) AS b WHERE pg_try_advisory_lock(:ns, b)"),
                    {"ns": self.bucket_ns, "bs": missing}).scalars().all()
                if got:
                    self.held |= set(got)
                    log.info("buckets taken", extra={"buckets": len(got), "held": len(self.held), "members": n,
                                                     "rank": rank, "table": self.table})
        except Exception as exc:  # noqa: BLE001 - the relay goes on with what it safely can: nothing
            self._lost(exc)
        self._publish_state()

    def close(self) -> None:
        self._drop_connection()
        self._engine.dispose()


def claims_for(engine: Engine, table: str, *, service: str = "", refresh_s: float = 1.0) -> Claims:
    if engine.dialect.name == "postgresql":
        return AdvisoryLockClaims(engine, table, refresh_s=refresh_s, service=service)
    database = engine.url.database
    if engine.dialect.name == "sqlite" and database and database != ":memory:":
        return FileLockClaims(Path(database), table, refresh_s=min(refresh_s, 0.5), service=service)
    return Claims()
