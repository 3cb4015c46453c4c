"""A consumer process stops cleanly on SIGTERM/SIGINT."""
from __future__ import annotations

import logging
import signal
import threading
from typing import Iterable

log = logging.getLogger("kinerja.messaging.consumer")


def stop_on_signals(stop: threading.Event, signals: Iterable[int] = (signal.SIGTERM, signal.SIGINT)) -> None:
    """SIGTERM/SIGINT ask the loop to finish the message in hand, commit, and close."""

    def _handler(signum, _frame):
        log.info("stop requested", extra={"signal": signum})
        stop.set()

    for sig in signals:
        signal.signal(sig, _handler)
