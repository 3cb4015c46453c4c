"""tugas's consumer process: keeps its slice of the roster from ``pegawai.v1`` and, when idle,
flags overdue tasks (at most once a minute; ``TUGAS_OVERDUE_INTERVAL_S`` changes that).

A poll's roster events (up to ``ROSTER_BATCH``) go in one transaction (``apply_batch``: the rows
read with one query, written with one flush; the ids checked and recorded with one statement,
``claim_new_ids``); on any error the shared consumer applies them one by one with ``handle``
(retries, DLQ), which leaves the same rows. One at a time, an event was a transaction and four
statements."""
from __future__ import annotations

import logging
import os
import time
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from kinerja.messaging import topics
from kinerja.messaging.consumer import IdempotentConsumer
from kinerja.messaging.processed_claims import claim_new_ids
from kinerja.runtime import ServiceRuntime, consumer_main
from tugas.entrypoints.runtime import make_runtime
from tugas.service_layer.overdue import flag_overdue
from tugas.service_layer.roster import apply_roster_batch, apply_roster_event

log = logging.getLogger(__name__)

OVERDUE_INTERVAL_S = 60.0
# events a transaction: a poll of a roster import; on SQLite fewer, as a transaction holds the
# file's one write lock, which the API's writes wait for (kehadiran's consumer measured it)
ROSTER_BATCH = 500
SQLITE_ROSTER_BATCH = 100


def overdue_interval_s() -> float:
    """Seconds between overdue sweeps: ``TUGAS_OVERDUE_INTERVAL_S``, else once a minute."""
    configured = os.environ.get("TUGAS_OVERDUE_INTERVAL_S")
    if not configured:
        return OVERDUE_INTERVAL_S
    value = float(configured)
    if not value > 0:
        raise ValueError(f"TUGAS_OVERDUE_INTERVAL_S must be greater than 0, not {configured!r}")
    return value


def handle(session, event) -> None:
    apply_roster_event(session, event)


def apply_batch(session, events) -> None:
    apply_roster_batch(session, events)


def batch_kw(runtime: ServiceRuntime) -> dict:
    """The consumer's batch settings (``main`` and the tests make it with these)."""
    batch = ROSTER_BATCH if runtime.engine.dialect.name == "postgresql" else SQLITE_ROSTER_BATCH
    return dict(batch_size=batch, apply_batch=apply_batch, max_poll_records=batch, claim_processed=claim_new_ids)


def make_consumer(runtime: ServiceRuntime, **kw) -> IdempotentConsumer:
    return runtime.consumer([topics.PEGAWAI], handle, **{**batch_kw(runtime), **kw})


def check_overdue(runtime: ServiceRuntime, now: datetime | None = None) -> int:
    """One overdue sweep in its own transaction; returns how many tasks were flagged."""
    now = now or datetime.now(timezone.utc)
    today = now.astimezone(ZoneInfo(runtime.settings.timezone)).date()
    with runtime.session() as session, session.begin():
        return flag_overdue(session, runtime.outbox, today=today, now=now)


def overdue_ticker(runtime: ServiceRuntime, interval_s: float = OVERDUE_INTERVAL_S, clock=time.monotonic):
    """An ``on_idle`` hook that sweeps at most once per ``interval_s`` (the first call sweeps)."""
    last: list[float | None] = [None]

    def tick() -> None:
        now = clock()
        if last[0] is not None and now - last[0] < interval_s:
            return
        last[0] = now
        try:
            flagged = check_overdue(runtime)
            if flagged:
                log.info("overdue tasks flagged", extra={"count": flagged})
        except Exception:  # noqa: BLE001 - the database may be away; the next tick tries again
            log.exception("overdue sweep failed")

    return tick


def main() -> None:
    runtime = make_runtime()
    consumer_main(runtime, [topics.PEGAWAI], handle, on_idle=overdue_ticker(runtime, overdue_interval_s()),
                  **batch_kw(runtime))


if __name__ == "__main__":
    main()
