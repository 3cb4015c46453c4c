"""kehadiran's consumer process: keeps its slice of the roster from ``pegawai.v1`` (releasing
quarantined punches when a PIN becomes known), and closes finished days in a side thread."""
from __future__ import annotations

import logging
import os
import threading

from kehadiran.entrypoints.runtime import make_runtime
from kehadiran.service_layer.attendance import apply_roster_event, close_due_days
from kinerja.messaging import topics
from kinerja.runtime import ServiceRuntime, consumer_main

log = logging.getLogger(__name__)


def day_closer(runtime: ServiceRuntime, stop: threading.Event, interval_s: float) -> None:
    """Every ``interval_s``: finalise the days that ended (a workday with no punch becomes TK)."""
    while not stop.is_set():
        try:
            with runtime.session() as session, session.begin():
                n = close_due_days(session, runtime.outbox, agency_tz=runtime.settings.timezone)
            if n:
                log.info("days closed", extra={"published": n})
        except Exception:  # noqa: BLE001 - try again next round; the database may be away
            log.exception("closing days failed")
        stop.wait(interval_s)


def main() -> None:
    runtime = make_runtime()
    stop_closer = threading.Event()
    interval = float(os.environ.get("KEHADIRAN_CLOSE_INTERVAL_S", "300"))
    threading.Thread(target=day_closer, args=(runtime, stop_closer, interval), daemon=True,
                     name="day-closer").start()

    def handle(session, event):
        apply_roster_event(session, runtime.outbox, event, agency_tz=runtime.settings.timezone)

    try:
        consumer_main(runtime, [topics.PEGAWAI], handle)
    finally:
        stop_closer.set()


if __name__ == "__main__":
    main()
