"""The relay's housekeeping: the outbox's depth as gauges, and sent rows deleted after their
retention (by the leader of the claims only)."""
from __future__ import annotations

import logging
import time
from datetime import timezone

from sqlalchemy import func, select

from kinerja import metrics
from kinerja.db import read_only
from kinerja.messaging.outbox import trim_sent, utcnow
from kinerja.messaging.relay.pg_statements import PgRelayStatements

log = logging.getLogger("kinerja.messaging.relay")


class RelayUpkeep:
    """Part of :class:`OutboxRelay` (its ``__init__`` sets the intervals and counters used here)."""

    def pending(self) -> int:
        """Unsent rows, read on a pooled connection (tools and tests call it on relays they do not
        run; the gauges' ``_depth`` reads on the relay's own connection where it has one)."""
        with read_only(self.engine.connect()) as conn:
            return self._unsent(conn)[0]

    def _unsent(self, conn) -> tuple[int, object]:
        """(unsent rows, when the oldest of them was written, or None)."""
        t = self.table
        return tuple(conn.execute(
            select(func.count(), func.min(t.c.created_at)).select_from(t).where(t.c.sent_at.is_(None))).one())

    def report_depth(self, force: bool = False) -> None:
        """At most every ``depth_interval_s``: unsent rows and the age of the oldest one (gauges)."""
        now = time.monotonic()
        if not force and now - self._depth_at < self.depth_interval_s:
            return
        self._depth_at = now
        try:
            pending, age = self._depth()
        except Exception as exc:  # noqa: BLE001 - the run loop reports the database being away
            log.debug("outbox depth not measured", extra={"error": repr(exc)[:300]})
            return
        metrics.OUTBOX_PENDING.labels(self.service).set(pending)
        metrics.OUTBOX_OLDEST_AGE.labels(self.service).set(age)
        metrics.RELAY_IN_FLIGHT.labels(self.service).set(len(self._inflight))

    def _depth(self) -> tuple[int, float]:
        """(unsent rows, age of the oldest in seconds). PostgreSQL: on the relay's own connection
        (``PgRelayStatements.depth``: why)."""
        plain = self._statements()
        if isinstance(plain, PgRelayStatements):
            return plain.depth()
        with read_only(self.engine.connect()) as conn:
            pending, oldest = self._unsent(conn)
        if oldest is None:
            return pending, 0.0
        if oldest.tzinfo is None:
            oldest = oldest.replace(tzinfo=timezone.utc)
        return pending, max(0.0, (utcnow() - oldest).total_seconds())

    def trim(self, force: bool = False) -> int:
        """The housekeeping relay, at most every ``trim_interval_s``: delete rows sent more than
        ``retention_s`` ago (a bounded amount per call)."""
        now = time.monotonic()
        if not force and (now - self._trim_at < self.trim_interval_s or not self.claims.leader):
            return 0
        self._trim_at = now
        n = trim_sent(self.engine, self.table, self.retention_s)
        if n:
            self.trimmed += n
            metrics.OUTBOX_TRIMMED.labels(self.service).inc(n)
            log.info("sent outbox rows deleted", extra={"rows": n, "retention_s": self.retention_s})
        return n
