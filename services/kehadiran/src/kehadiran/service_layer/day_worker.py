"""The day worker: claims dirty markers in bulk and acts on each key once per round.

A round is one transaction (on a SQLite file a snapshot read and a short write transaction, one
round at a time: ``day_round_sqlite``): release the quarantined punches of claimed PINs the roster now
knows (their events, and markers for their days), recompute the claimed days
(``day_recompute``), reconcile the PP 94/2021 alerts of the (ASN, year)s whose TK days changed
(``alerts``), and delete the claimed markers. A crash rolls the round back, markers included, so
the next worker does it again. Any number of workers may run (``KEHADIRAN_DAY_WORKERS`` processes):
on PostgreSQL a round claims only markers of ASN whose lock it gets without waiting
(``markers.claim``), so two rounds never share an ASN and never wait for each other; the day
closer queues its days as markers, which the rounds work through in bounded chunks. A round that
took every marker there was is not followed by another until something commits (its
notification wakes the worker): at a punch a round, that empty round was as many again. Of several
worker processes on PostgreSQL one is woken by every marker, the others by a round that left
markers it could have taken (``markers.cue_helpers``, ``wakeup.PgWaker``): not one round a process
per punch.
"""
from __future__ import annotations

import logging
import threading
import time
from contextlib import nullcontext
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session, sessionmaker

from kehadiran.adapters import day_store, markers
from kehadiran.service_layer import day_round_sqlite
from kehadiran.service_layer.alerts import reconcile_alerts
from kehadiran.service_layer.day_round import Phases, Round, release_quarantine
from kehadiran.service_layer.day_recompute import BurstOf, ZoneOf, no_burst, recompute
from kinerja.messaging.outbox import Outbox

log = logging.getLogger(__name__)

# day markers a round claims (PostgreSQL): a round's fixed part (its statements, each planned afresh,
# its commit) spread over more keys; the backend's share fell most (not taken apart). CPU an ASN-day
# of a 20,000-key backlog, interleaved x3, loaded: 500 67.6/64.1/66.7 us (worker + backend), 1,000
# 60.9/61.6/58.1, 2,000 57.6/57.0/58.5; 1,000, not 2,000: a round's keys wait for its commit, and
# the last rounds of a drain share the cores less evenly the bigger they are
CHUNK = 1000
LANES = 2  # rounds a worker process runs at once on PostgreSQL (``entrypoints.worker``)
SQLITE_CHUNK = 100
# SQLite, once no marker arrives between two rounds (the upload is over): a round's fixed cost
# (~9 ms of CPU, loaded probe) is paid a fifth as often, and no request waits behind its longer write
SQLITE_DRAIN_CHUNK = 500
PIN_CHUNK = 50
HELD_POLL_S = 0.02  # how soon a worker looks again at markers another worker's round holds
SLOW_ROUND_S = 1.0  # a round that takes longer is logged with its phases
FRESH_PLANS_AT = 20  # keys from which a round's statements are all planned afresh


def fixed_zone(name: str) -> ZoneOf:
    """Every agency in one zone (tests of one agency; the services use ``agencies.AgencyDirectory``)."""
    zone = ZoneInfo(name)
    return lambda agency: zone


class DayWorker:
    def __init__(self, session_factory: sessionmaker[Session], outbox: Outbox, *, zone_of: ZoneOf,
                 chunk: int = CHUNK, pin_chunk: int = PIN_CHUNK, clock: Callable[[], datetime] | None = None,
                 hold_s: float = 0.0, burst_of: BurstOf = no_burst, drain_chunk: int | None = None):
        self.session_factory = session_factory
        self.outbox = outbox
        # each agency's zone and burst window (``agencies.AgencyDirectory``: read again every few
        # seconds, in the round's transaction when it is due)
        self.zone_of = zone_of
        self.burst_of = burst_of
        self.chunk = chunk
        # ``run``'s rounds once no marker came since the last one (SQLite: ``SQLITE_DRAIN_CHUNK``)
        self.drain_chunk = max(chunk, drain_chunk or chunk)
        self.pin_chunk = pin_chunk
        self.clock = clock or (lambda: datetime.now(timezone.utc))
        # fault tests: each round's transaction held open this long after its work (a slow
        # database), so punches for the days it has in hand commit meanwhile
        self.hold_s = hold_s
        # tests: called between a SQLite round's snapshot and its write (``day_round_sqlite``)
        self.between_phases: Callable[[], None] | None = None
        bind = session_factory.kw.get("bind")
        database = bind.url.database if bind is not None and bind.dialect.name == "sqlite" else None
        # a SQLite file's rounds read and recompute without its write lock (``day_round_sqlite``)
        self.sqlite_path = (str(Path(database).resolve()) if database and database != ":memory:" else None)

    def run_round(self, *, upto: int = markers.EVERY_ID, pins: bool = True, agency: str | None = None,
                  chunk: int | None = None) -> Round:
        """One transaction: the claimed PINs released, the claimed days recomputed (up to ``chunk``
        markers on SQLite, else the worker's). A round that takes over ``SLOW_ROUND_S`` is logged
        (INFO) with its keys and each phase's ms."""
        if self.sqlite_path is not None:
            done, phases = day_round_sqlite.run_round(self, self.sqlite_path, upto=upto, pins=pins, agency=agency,
                                                      chunk=chunk or self.chunk)
            self._log_if_slow(done, phases)
            return done
        done = Round()
        now = self.clock()
        phases = Phases()
        with self.session_factory() as session, session.begin():
            conn = session.connection()
            refresh = getattr(self.zone_of, "refresh", None)
            if refresh is not None:
                refresh(conn)
            # the queues' statements planned for the queues as they are, empty one moment and full the
            # next (``day_store.plans_of_the_moment``); the PINs' release with them (it is rare)
            with day_store.plans_of_the_moment(conn):
                if pins:
                    claimed = markers.claim_pins(conn, self.pin_chunk)
                    done.pins = len(claimed)
                    done.more = done.pins >= self.pin_chunk
                    for agency, pin in claimed:
                        done.released += release_quarantine(session, agency, pin, zone_of=self.zone_of, now=now)
                    phases.lap("pins")
                claim = markers.claim(conn, self.chunk, upto=upto, agency=agency)
                if not claim.keys and not done.pins and conn.dialect.name == "postgresql":
                    done.held = markers.days_pending_upto(conn, upto, agency=agency)
            if claim.more and claim.keys and conn.dialect.name == "postgresql":
                # the processes that wait for a backlog (``wakeup.PgWaker``): one statement a full round
                markers.cue_helpers(conn)
            phases.lap("claim")
            keys = claim.keys
            done.days = len(keys)
            done.more = done.more or claim.more
            # a big round's other statements too, their planning a small part of it; a round of a
            # few keys (a punch at a time) keeps the driver's prepared plans, a few ms less a round
            with day_store.plans_of_the_moment(conn) if len(keys) >= FRESH_PLANS_AT else nullcontext():
                if keys:
                    # the claim took each claimed ASN's lock (PostgreSQL; SQLite has one writer)
                    outcome = recompute(session, keys, zone_of=self.zone_of, now=now, burst_of=self.burst_of,
                                        locked=True)
                    done.published = outcome.published
                    phases.lap("recompute")
                    if outcome.alert_years or outcome.alert_maybe:
                        reconcile_alerts(session, self.outbox, outcome.alert_years, maybe=outcome.alert_maybe,
                                         zone_of=self.zone_of, now=now)
                        phases.lap("alerts")
            if self.hold_s and done.worked:
                time.sleep(self.hold_s)
        phases.lap("commit")
        self._log_if_slow(done, phases)
        return done

    @staticmethod
    def _log_if_slow(done: Round, phases: Phases) -> None:
        if phases.total_s() >= SLOW_ROUND_S:
            # the next stall explains itself: which part of which round, at how many keys
            log.info("slow day worker round", extra={"keys": done.days, "pins": done.pins,
                                                     "published": done.published, "ms": phases.ms(),
                                                     "total_ms": round(phases.total_s() * 1000)})

    def run_until_idle(self, max_rounds: int = 10_000) -> Round:
        """Rounds until no marker is left (a test's or a command's way to settle the days)."""
        total = Round()
        for _ in range(max_rounds):
            done = self.run_round()
            total.add(done)
            if not done.worked:
                return total
        raise RuntimeError(f"markers still left after {max_rounds} rounds")

    def drive(self, upto: int, *, agency: str, timeout_s: float = 300.0) -> Round:
        """Work until every day marker of ``agency``'s ASN up to id ``upto`` is done, by this
        worker or another (a request that queued them and waits for them: the day closing on
        demand; it never works on another agency's days). Each chunk is its own transaction, so
        ingest goes on meanwhile."""
        total = Round()
        deadline = time.monotonic() + timeout_s
        while True:
            done = self.run_round(upto=upto, pins=False, agency=agency)
            total.add(done)
            if done.days:
                continue
            with self.session_factory() as session, session.begin():
                left = markers.days_pending_upto(session.connection(), upto, agency=agency)
            if not left:
                return total
            if time.monotonic() > deadline:
                raise TimeoutError("the days queued were not worked through in time")
            time.sleep(0.02)  # another worker holds them: its round ends soon

    def run(self, stop: threading.Event, wake: threading.Event, *, idle_poll_s: float = 1.0,
            held_poll_s: float = HELD_POLL_S, on_idle: Callable[[], None] | None = None,
            beat: Callable[[], None] | None = None, on_backlog: Callable[[], None] | None = None) -> None:
        """Rounds while there is work; when idle, until ``wake`` is set (a notification, a poll)
        or ``idle_poll_s`` passes; when the markers left are another worker's to finish, only
        ``held_poll_s``: its commit wakes nobody, and waiting the idle poll out after it left
        those days up to a second late. ``beat`` is called every time round (a liveness file);
        ``on_backlog`` after each round that left markers it could have taken while nothing new
        was marked during it (another lane's cue)."""
        backoff, newest, draining = 0.2, 0, False
        while not stop.is_set():
            if beat is not None:
                beat()
            try:
                wake.clear()
                done = self.run_round(chunk=self.drain_chunk if draining else None)
                backoff = 0.2
                # no marker since the last round (SQLite's rounds say; ``wake`` cannot: any commit
                # sets it, the relay's too): what is left is a backlog to drain in bigger rounds
                draining = done.more and 0 < done.newest <= newest
                newest = done.newest
                if done.worked:
                    if done.published or done.released:
                        log.debug("days worked", extra={"days": done.days, "published": done.published,
                                                        "released": done.released})
                    # a round that took every marker there was is followed by an empty one only
                    # once something new commits (a statement-full transaction saved after each
                    # worked round, which at a punch a round was most of them)
                    if done.more and on_backlog is not None and not wake.is_set():
                        # a backlog, and nothing committed markers while this round ran: the
                        # upload that made it is over, so the other lanes may help drain it;
                        # while markers keep coming they stay idle, not taking the cores the
                        # requests are answered on
                        on_backlog()
                    if done.more or wake.is_set():
                        continue
                if on_idle is not None:
                    on_idle()
                if done.held:
                    wake.wait(held_poll_s)
                    continue
            except Exception as exc:  # noqa: BLE001 - the database may be away; the markers wait
                log.warning("day worker round failed; will retry", extra={"error": repr(exc)[:500],
                                                                          "backoff_s": backoff})
                stop.wait(backoff)
                backoff = min(backoff * 2, 5.0)
                continue
            wake.wait(idle_poll_s)
