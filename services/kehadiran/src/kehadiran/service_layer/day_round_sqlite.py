"""The day worker's round on a SQLite file: read and recompute in a WAL snapshot, without the
file's one write lock; take the lock (BEGIN IMMEDIATE) only to write the records, their outbox
rows, and the deletion of the markers acted on.

Why: a round's reads and its Python (the records of up to a chunk of ASN-days) took most of its
time, and on SQLite the round held the write lock through all of it, so every request of every
process waited for the round to end: the lock's turns went to reads and Python. Now a request
waits only for the round's INSERTs.

**One SQLite round at a time** (the assumption the argument below rests on, held, not hoped
for): every round on a file (the worker's lanes and processes, a request's ``drive``) holds an
exclusive ``flock`` on ``<file>-days`` from its snapshot to its commit (``round_lock``). On
PostgreSQL the rounds run as before (``day_worker``: the claim locks the ASN).

Why nothing is lost or counted twice:

- The snapshot reads the oldest markers (up to the chunk) and ``hi``, the highest marker id it
  sees. SQLite gives a new row the table's highest id + 1, and only a round deletes markers (one
  at a time, this one between its snapshot and its write), so every marker committed after the
  snapshot has an id above ``hi``, and every marker with an id up to ``hi`` was committed, with
  what it marks, before the snapshot, whose facts the recompute read.
- The write deletes only markers of the round's keys with ids up to ``hi``: a fact that changed
  since the snapshot left a marker above ``hi``, which stays, so its day is recomputed by a later
  round (its record first gets this round's version, then the next one's: as on PostgreSQL when a
  punch commits during a round).
- The stored records the recompute compared with (their versions) are still the stored ones at
  the write: only a round writes day records, and no other round runs meanwhile.
- The snapshot ends once the facts are read (``_end_snapshot``): the records are computed from
  them, and a later read would see a newer state, never an older one.
- A crash before the commit leaves every marker in place (the write deletes them in its own
  transaction), so the next round does it all again.
"""
from __future__ import annotations

import fcntl
import os
import sqlite3
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Iterator

from sqlalchemy import text

from kehadiran.adapters import day_write, markers
from kehadiran.service_layer.alerts import reconcile_alerts
from kehadiran.service_layer.day_recompute import recompute
from kehadiran.service_layer.day_round import Phases, Round, release_quarantine
from kinerja.db import read_only_session
from kinerja.sqlite_long_read import LongRead
from kinerja.sqlite_locking import WRITE_LOCK_TIMEOUT_S

if TYPE_CHECKING:
    from kehadiran.service_layer.day_worker import DayWorker

LOCK_POLL_S = 0.001
_SCOPE = " AND nip IN (SELECT nip FROM employees WHERE agency = :agency)"
_OLDEST = {scoped: text("SELECT id, nip, day FROM dirty_days WHERE id <= :upto" + (_SCOPE if scoped else "")
                        + " ORDER BY id LIMIT :n").columns(markers.DIRTY_DAYS.c.id, markers.DIRTY_DAYS.c.nip,
                                                           markers.DIRTY_DAYS.c.day)
           for scoped in (False, True)}
_HIGHEST = text("SELECT max(id) FROM dirty_days")
_ANY_PINS = text("SELECT 1 FROM dirty_pins LIMIT 1")


@contextmanager
def round_lock(path: str, timeout_s: float = WRITE_LOCK_TIMEOUT_S) -> Iterator[None]:
    """The file's round lock, held by one round at a time across threads and processes (each
    holder opens the file anew: a lock is its open file's). Fails as a write lock not had in time
    would."""
    fd = os.open(path + "-days", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise sqlite3.OperationalError(f"database is locked (no day round turn within {timeout_s:.0f} s)")
                time.sleep(LOCK_POLL_S)
        yield
    finally:
        os.close(fd)  # the lock with it


def _end_snapshot(conn, long_read: LongRead) -> None:
    """The snapshot given back once the facts are read, before the Python that computes the
    records: a reader of an old snapshot keeps the WAL from being restarted (``kinerja.sqlite_checkpoint``'s
    closing pass waits for the ``LongRead`` to end). A read after this (none is expected) runs on
    its own, newer, which is as good: everything up to ``hi`` was read already."""
    dbapi = conn.connection.dbapi_connection
    if dbapi.in_transaction:
        dbapi.commit()
    long_read.end()


def run_round(worker: "DayWorker", path: str, *, upto: int, pins: bool, agency: str | None,
              chunk: int) -> tuple[Round, Phases]:
    """The round's tally and its phases (the worker logs a slow one)."""
    done = Round()
    now = worker.clock()
    phases = Phases()
    with round_lock(path):
        phases.lap("turn")
        # the snapshot may outlast the checkpointer's grace: its closing pass waits for it to end
        with LongRead(path) as long_read, read_only_session(worker.session_factory) as session:
            conn = session.connection()
            refresh = getattr(worker.zone_of, "refresh", None)
            if refresh is not None:
                refresh(conn)
            rows = conn.execute(_OLDEST[agency is not None], {"upto": upto, "n": chunk, "agency": agency}).all()
            hi = conn.execute(_HIGHEST).scalar() or 0
            pins_waiting = pins and conn.execute(_ANY_PINS).first() is not None
            keys = sorted({(nip, day) for _id, nip, day in rows})
            done.days = len(keys)
            done.more = len(rows) >= chunk
            done.newest = hi
            phases.lap("claim")
            outcome = (recompute(session, keys, zone_of=worker.zone_of, now=now, burst_of=worker.burst_of,
                                 locked=True, write=False, after_reads=lambda: _end_snapshot(conn, long_read))
                       if keys else None)
        phases.lap("recompute")
        if worker.between_phases is not None:
            worker.between_phases()  # tests: what commits between the snapshot and the write
        if not keys and not pins_waiting:
            return done, phases  # nothing to write: no write turn taken
        # the rows as the driver takes them, built before the turn: it holds only their INSERTs
        # (written at: when the turn is taken, within ms; the round's clock, ``now``, decides what is over)
        rows = (day_write.SqliteRows.of(outcome.new, outcome.changed, outcome.events, at=datetime.now(timezone.utc))
                if keys else None)
        with worker.session_factory() as session, session.begin():
            conn = session.connection()
            if pins_waiting:
                claimed = markers.claim_pins(conn, worker.pin_chunk)
                done.pins = len(claimed)
                for pin_agency, pin in claimed:
                    done.released += release_quarantine(session, pin_agency, pin, zone_of=worker.zone_of, now=now)
                # more PINs, or the released punches' day markers: the next round at once
                done.more = done.more or done.pins >= worker.pin_chunk or done.released > 0
            phases.lap("pins")
            if keys:
                # every marker of the keys the snapshot saw, and none it did not (see the module)
                markers.sweep_sqlite(conn, keys, hi)
                day_write.write_sqlite(conn, rows)
                done.published = outcome.published
                if outcome.alert_years or outcome.alert_maybe:
                    reconcile_alerts(session, worker.outbox, outcome.alert_years, maybe=outcome.alert_maybe,
                                     zone_of=worker.zone_of, now=now)
            if worker.hold_s and done.worked:
                time.sleep(worker.hold_s)
        phases.lap("commit")
    return done, phases
