"""One message at a time: decoded (or dead-lettered, or passed over), then applied and its id
recorded in one transaction, a database error retried with backoff, never skipped."""
from __future__ import annotations

import logging
import threading

from sqlalchemy import insert, select
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from kinerja import metrics
from kinerja.events.envelope import Event, InvalidEvent
from kinerja.messaging.outbox import utcnow
from kinerja.messaging.topics import dlq

log = logging.getLogger("kinerja.messaging.consumer")
_DLQ_PRODUCER_MADE = threading.Lock()


class MessagePath:
    """Part of :class:`IdempotentConsumer` (its ``__init__`` sets the settings and state used here)."""

    def apply_once(self, event: Event, topic: str, partition: int, offset: int) -> bool:
        """Apply in one transaction with the processed-id record. False when already applied.
        An event ``wants`` turns down is done with at once: no transaction, no record."""
        if self.wants is not None and not self.wants(event.type):
            return True
        with self.session_factory() as session:
            with session.begin():
                seen = session.execute(
                    select(self.processed.c.event_id).where(self.processed.c.event_id == event.id)
                ).first()
                if seen:
                    return False
                self.handle(session, event)
                session.execute(
                    insert(self.processed).values(
                        event_id=event.id, topic=topic, partition=partition, offset=offset,
                        processed_at=utcnow(),
                    )
                )
        return True

    def _dead_letter(self, msg, reason: str) -> None:
        with _DLQ_PRODUCER_MADE:  # the loop's thread and an overlapped apply's (consumer.overlap) share one
            if self._dlq_producer is None:
                self._dlq_producer = self.producer_factory()
        headers = [
            ("error", reason.encode()[:4000]),
            ("original_topic", msg.topic.encode()),
            ("original_partition", str(msg.partition).encode()),
            ("original_offset", str(msg.offset).encode()),
            ("consumer_group", self.group_id.encode()),
        ]
        self._dlq_producer.send(dlq(msg.topic), key=msg.key, value=msg.value, headers=headers).get(timeout=30)
        self.stats.dead_lettered += 1
        metrics.DEAD_LETTERED.labels(self.group_id, msg.topic).inc()
        log.warning("message dead-lettered", extra={"topic": msg.topic, "offset": msg.offset, "reason": reason})

    def _passed_over(self, msg) -> bool:
        """True (and counted) when the message is done with before any decoding: below a
        replay's offsets (a duplicate) or ``skip``ped from its bytes."""
        if self.replayed_table is not None and msg.offset < self._replayed_below().get((msg.topic, msg.partition), 0):
            self.stats.duplicates += 1
            metrics.DUPLICATES.labels(self.group_id, msg.topic).inc()
            return True
        if self.skip is not None and self.skip(msg.value):
            self.stats.skipped += 1
            return True
        return False

    def _decoded(self, msg, passed_over_checked: bool = False) -> Event | None:
        """The message's event, or None when it is done with already: passed over (a replay's,
        ``skip``, ``wants``; ``passed_over_checked``: the first two were asked already) or
        dead-lettered (undecodable, invalid)."""
        if not passed_over_checked and self._passed_over(msg):
            return None
        try:
            event = self.decode(msg.value)
        except InvalidEvent as exc:
            self._dead_letter(msg, str(exc))
            return None
        if self.wants is not None and not self.wants(event.type):
            self.stats.skipped += 1
            return None
        return event

    def _replayed_below(self) -> dict[tuple[str, int], int]:
        if self._replayed is None:
            from kinerja.messaging.replay import replayed_below

            with self.session_factory() as session:
                self._replayed = replayed_below(session, self.replayed_table)
        return self._replayed

    def _count_applied(self, event: Event, msg_topic: str) -> None:
        self.stats.applied += 1
        self.stats.by_type[event.type] = self.stats.by_type.get(event.type, 0) + 1
        metrics.EVENTS_APPLIED.labels(self.group_id, msg_topic, event.type).inc()

    def process_message(self, msg, stop: threading.Event) -> bool:
        """True when the message is done with (applied, duplicate, skipped or dead-lettered)."""
        event = self._decoded(msg)
        if event is None:
            return True
        return self._apply_with_retries(event, msg, stop)

    def _apply_with_retries(self, event: Event, msg, stop: threading.Event) -> bool:
        """One decoded event in its own transaction; True when done with, False when ``stop``
        came while the database was away (the message is then not done)."""
        failures = 0
        backoff = 0.1
        while not stop.is_set():
            try:
                if self.apply_once(event, msg.topic, msg.partition, msg.offset):
                    self._count_applied(event, msg.topic)
                    log.debug("event applied", extra={"event_id": event.id, "type": event.type})
                else:
                    self.stats.duplicates += 1
                    metrics.DUPLICATES.labels(self.group_id, msg.topic).inc()
                return True
            except InvalidEvent as exc:
                self._dead_letter(msg, str(exc))
                return True
            except IntegrityError as exc:
                # another consumer recorded the same id between our check and insert
                if self._already_processed(event.id):
                    self.stats.duplicates += 1
                    metrics.DUPLICATES.labels(self.group_id, msg.topic).inc()
                    return True
                failures += 1
                if failures >= self.handler_attempts:
                    self._dead_letter(msg, f"integrity error: {exc.orig!r}")
                    return True
            except (OperationalError, DBAPIError) as exc:
                # the database is away: never skip; wait and try the same message again
                self.stats.retries += 1
                metrics.DB_RETRIES.labels(self.group_id).inc()
                log.warning("database unavailable; retrying", extra={"event_id": event.id, "error": repr(exc)[:300]})
                stop.wait(backoff)
                backoff = min(backoff * 2, 5.0)
            except Exception as exc:  # noqa: BLE001 - a handler bug must not stall the partition forever
                failures += 1
                log.exception("handler failed", extra={"event_id": event.id, "type": event.type})
                if failures >= self.handler_attempts:
                    self._dead_letter(msg, f"handler error: {exc!r}")
                    return True
        return False
