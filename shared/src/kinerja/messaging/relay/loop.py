"""The relay's loop: wait for work (a notification, a mark or read falling due, an ack the loop
waits for), run rounds until stopped with back-off on errors, and the stop that lets the flight
land. Part of :class:`~kinerja.messaging.relay.outbox_relay.OutboxRelay`."""
from __future__ import annotations

import logging
import threading
import time

from kafka.errors import KafkaError

from kinerja import wakeup
from kinerja.messaging.outbox import NOTIFY_CHANNEL
from kinerja.messaging.relay.producer_session import close_producer_now

log = logging.getLogger("kinerja.messaging.relay")


class RelayLoop:
    """Part of :class:`OutboxRelay` (its ``__init__`` sets the listener, the wake event and the
    intervals used here; ``step`` is its round)."""

    def _wait(self, stop: threading.Event) -> None:
        """Until a notification, the marking of what is in flight, the poll interval or (when the
        loop waits for one) an ack; a stop is noticed within 0.25 s."""
        self.waits += 1
        if self._listener is not None and self._listener.connected.is_set():
            timeout = self.notify_poll_s
        else:
            timeout = self.idle_interval_s
        now = time.monotonic()
        if self._mark_at is not None:  # rows in flight or acknowledged: collect and mark them then
            timeout = min(timeout, max(0.0, self._mark_at - now))
        if self._read_due and self._next_read_at > now:  # a read held back by the round gap, no longer
            timeout = min(timeout, self._next_read_at - now)
        if self._held_until is not None and self._held_until > now:  # rows left unsent: read by then
            timeout = min(timeout, self._held_until - now)
        deadline = time.monotonic() + timeout
        while not stop.is_set():
            left = deadline - time.monotonic()
            if left <= 0 or self._wake.wait(min(left, 0.25)):
                return

    def run(self, stop: threading.Event) -> None:
        if self.listen:
            self._listener = wakeup.listen(self.engine, NOTIFY_CHANNEL, _RowsAnnounced(self))
        backoff = 0.2
        try:
            while not stop.is_set():
                self._wake.clear()
                try:
                    sent = self.step()
                    backoff = 0.2
                    self.report_depth()
                    self.trim()
                    if sent == 0:
                        self._wait(stop)
                except KafkaError as exc:
                    log.warning("relay cannot publish; will retry", extra={"error": repr(exc)[:300],
                                                                          "backoff_s": backoff})
                    self._drop_producer()
                    stop.wait(backoff)
                    backoff = min(backoff * 2, self.max_backoff_s)
                except Exception as exc:  # database away: acks are kept, unmarked rows go again
                    log.warning("relay error; will retry", extra={"error": repr(exc)[:300], "backoff_s": backoff})
                    stop.wait(backoff)
                    backoff = min(backoff * 2, self.max_backoff_s)
        finally:
            self._finish()

    def _finish(self) -> None:
        """On stop: let what is in flight be acknowledged (up to ``stop_drain_s``) and mark it,
        so the next relay sends little twice; then give everything up."""
        deadline = time.monotonic() + self.stop_drain_s
        self._ack_wakes = True
        try:
            while self._inflight and time.monotonic() < deadline and self._producer is not None:
                self._wake.clear()
                if self._collect_acks() is not None:
                    break
                self._wake.wait(0.1)
            self._collect_acks()
            self._mark()
        except Exception as exc:  # noqa: BLE001 - unmarked rows are sent again by the next relay
            log.warning("relay stopped with rows unmarked", extra={"error": repr(exc)[:300]})
        finally:
            if self._producer is not None:
                close_producer_now(self._producer)
                self._producer = None
            if self._listener is not None:
                self._listener.close()
                self._listener = None
            if self._claims is not None:
                self._claims.close()
            if self._plain:
                self._plain.close()


class _RowsAnnounced:
    """What the listener sets on a notification: rows may be waiting, and the loop wakes."""

    def __init__(self, relay: OutboxRelay):
        self.relay = relay

    def set(self) -> None:
        self.relay._read_due = True
        self.relay._wake.set()
