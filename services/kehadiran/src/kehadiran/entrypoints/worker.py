"""kehadiran's day worker process: recomputes the days the requests and the roster mark dirty,
releases quarantined punches, reconciles PP 94/2021 alerts, and closes finished days (every
``KEHADIRAN_CLOSE_INTERVAL_S``, 300 s, when it also fails device commands never answered). Run as many as you like: ``kehadiran-worker``.

On PostgreSQL a process has ``KEHADIRAN_DAY_WORKER_LANES`` (2) lanes, each a thread running rounds
on its own connection: a round costs the backend (claim, reads, the records + outbox INSERT) about
as much as this process's Python, so with one lane one of them was idle at every step; with two,
one lane's round computes while the other's statements run. The first lane is woken by commits
(and polls); the others only when it finds a backlog (a full claim) and nothing was marked while its
round ran: after an upload, not during one (where a second lane took cores from the requests), and
never at a trickle (one round a wake-up, as before). The lanes' rounds claim disjoint ASN (``markers.claim``), as processes' do; only
one runs Python at a time (the GIL): a process still takes at most one core for itself.
"""
from __future__ import annotations

import logging
import os
import threading
from datetime import datetime, timezone

from kehadiran.adapters.wakeup import waker_for
from kehadiran.entrypoints.runtime import SERVICE, command_retry, day_worker, day_worker_lanes, make_runtime
from kehadiran.service_layer import day_worker as day_worker_module
from kehadiran.service_layer.day_closing import close_due_days
from kehadiran.service_layer.device_command_queue import expire_unanswered
from kinerja.config import number
from kinerja.gc_tuning import tune_gc
from kinerja.heartbeat import Heartbeat
from kinerja.logging import configure_logging
from kinerja.messaging.consumer import stop_on_signals
from kinerja.metrics import serve_process_metrics
from kinerja.runtime import ServiceRuntime

log = logging.getLogger(__name__)
# a lane past the first waits for the first lane's backlog signal; this poll only in case one is missed
BACKLOG_LANE_IDLE_S = 30.0


def day_closer(runtime: ServiceRuntime, zone_of, stop: threading.Event, wake: threading.Event,
               interval_s: float) -> None:
    """Every ``interval_s``: queue the days that ended (a workday with no punch becomes TK)."""
    while not stop.is_set():
        try:
            with runtime.session() as session, session.begin():
                refresh = getattr(zone_of, "refresh", None)
                if refresh is not None:
                    refresh(session.connection())  # each agency's zone, read in this transaction
                n = close_due_days(session, zone_of=zone_of)
                # commands whose last attempt went unanswered, of terminals that stopped polling too
                expired = expire_unanswered(session, datetime.now(timezone.utc), command_retry(runtime.settings))
            if expired:
                log.warning("device commands failed: no reply", extra={"commands": expired})
            if n:
                log.info("days queued for closing", extra={"asn_days": n})
                wake.set()
        except Exception:  # noqa: BLE001 - try again next round; the database may be away
            log.exception("closing days failed")
        stop.wait(interval_s)


def main() -> None:
    configure_logging(f"{SERVICE}-worker")
    # a slow round's line (INFO, ``day_worker.SLOW_ROUND_S``) is rare and the one that explains a
    # stall: it is written whatever KINERJA_LOG_LEVEL quiets (the benchmark runs at WARNING)
    rounds = logging.getLogger(day_worker_module.__name__)
    if rounds.getEffectiveLevel() > logging.INFO:
        rounds.setLevel(logging.INFO)
    runtime = make_runtime()
    stop, wake = threading.Event(), threading.Event()
    stop_on_signals(stop)
    serve_process_metrics(SERVICE, "worker")
    worker = day_worker(runtime)
    runtime.start_checkpointer(stop)
    waker = waker_for(runtime.engine, wake)
    interval = number(os.environ, "KEHADIRAN_CLOSE_INTERVAL_S", 300, low=0.1)  # 0 would sweep without a pause
    threading.Thread(target=day_closer, args=(runtime, worker.zone_of, stop, wake, interval), daemon=True,
                     name="day-closer").start()
    # each further lane waits on an event of its own (a lane clears its event before each round)
    backlog = [threading.Event() for _ in range(day_worker_lanes(runtime) - 1)]
    lanes = [threading.Thread(target=worker.run, args=(stop, event), kwargs={"idle_poll_s": BACKLOG_LANE_IDLE_S},
                              daemon=True, name=f"day-lane-{i}") for i, event in enumerate(backlog, 2)]
    log.info("day worker starting", extra={"chunk": worker.chunk, "lanes": 1 + len(lanes),
                                           "dialect": runtime.engine.dialect.name})
    tune_gc()
    for lane in lanes:
        lane.start()
    try:
        worker.run(stop, wake, beat=Heartbeat.from_env().beat,
                   on_backlog=(lambda: [event.set() for event in backlog]) if backlog else None)
        for event in backlog:
            event.set()  # the other lanes see ``stop`` now
        for lane in lanes:
            lane.join(timeout=30)
    finally:
        if waker is not None:
            waker.close()
        runtime.dispose()


if __name__ == "__main__":
    main()
