"""One poll in one transaction, or in several cut by key (``transaction_shape``,
``kinerja.messaging.consumer.transactions``): in each, the ids already recorded dropped with
one query, the rest applied and recorded together; any error sends that transaction's events
down the one-message path instead."""
from __future__ import annotations

import logging
import threading
from typing import NamedTuple

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from kinerja import metrics
from kinerja.events.envelope import Event
from kinerja.messaging.outbox import utcnow

log = logging.getLogger("kinerja.messaging.consumer")


class _Message(NamedTuple):
    """Where an event applied on its own came from (``apply_in_one_transaction``)."""
    topic: str
    partition: int
    offset: int


class BatchPath:
    """Part of :class:`IdempotentConsumer` (its ``__init__`` sets the settings and state used here)."""

    def process_batch(self, msgs: list, stop: threading.Event) -> bool:
        """Apply ``msgs`` (one poll's worth) in one transaction, or in the ones
        ``transaction_shape`` cuts; True when all are done with."""
        return self._process_batch(msgs, stop) == len(msgs)

    def _process_batch(self, msgs: list, stop: threading.Event) -> int:
        """How many of ``msgs``, from the first, are done with: ``prepare_batch`` then
        ``apply_prepared`` (the loop may run the two on different threads, ``consumer.overlap``)."""
        return self.apply_prepared(msgs, self.prepare_batch(msgs), stop)

    def prepare_batch(self, msgs: list) -> list[tuple[int, Event, object]]:
        """(position in ``msgs``, event, message) of those to apply: the poll's passed-over
        messages left out (``_kept``), the rest decoded (the invalid ones dead-lettered, those
        ``wants`` turns down skipped). No transaction: done with whatever the database is doing."""
        decoded = self._decoded
        events: list[tuple[int, Event, object]] = []
        for i, msg in self._kept(msgs):
            event = decoded(msg, True)
            if event is not None:
                events.append((i, event, msg))
        return events

    def apply_prepared(self, msgs: list, events: list[tuple[int, Event, object]], stop: threading.Event) -> int:
        """How many of ``msgs``, from the first, are done with, ``events`` (``prepare_batch``)
        applied (all of them unless ``stop`` came while the fallback waited for the database, or
        came between two transactions). The poll goes in the transactions ``transaction_shape``
        cuts, one after the other; the loop commits offsets only after the last, below the first
        message not done with (one done after it comes again and is dropped as a duplicate)."""
        shape = self.transaction_shape
        if shape is None or shape.whole_poll:
            n = self._apply_events(events, stop)
            return len(msgs) if n == len(events) else events[n][0]
        by_message = {id(msg): triple for triple in events for msg in (triple[2],)}
        done: set[int] = set(map(id, msgs))
        done.difference_update(by_message)  # passed over, dead-lettered or not wanted: done
        for chunk in shape.chunks([msg for _, _, msg in events], full=len(msgs) >= self.batch_size):
            n = self._apply_events([by_message[id(msg)] for msg in chunk], stop)
            done.update(id(msg) for msg in chunk[:n])
            if n < len(chunk) or stop.is_set():
                break
        prefix = 0
        while prefix < len(msgs) and id(msgs[prefix]) in done:
            prefix += 1
        return prefix

    def _apply_events(self, events: list[tuple[int, Event, object]], stop: threading.Event) -> int:
        """``events`` in one transaction; how many, from the first, are done with."""
        if not events:
            return 0
        try:
            fresh, duplicates = self._apply_batch_once(events)
        except Exception:  # noqa: BLE001 - the careful path decides: retry, duplicate or DLQ
            log.warning("batch failed; applying its messages one by one",
                        extra={"messages": len(events)}, exc_info=True)
            self.stats.fallbacks += 1
            for k, (_, event, msg) in enumerate(events):
                if not self._apply_with_retries(event, msg, stop):
                    return k
            return len(events)
        self.stats.batches += 1
        self.stats.applied += len(fresh)
        applied: dict[tuple[str, str], int] = {}
        for event, msg in fresh:  # counted by (topic, type) in one pass, then added up once each
            key = (msg.topic, event.type)
            applied[key] = applied.get(key, 0) + 1
        by_type = self.stats.by_type
        for (msg_topic, event_type), n in applied.items():
            by_type[event_type] = by_type.get(event_type, 0) + n
            metrics.EVENTS_APPLIED.labels(self.group_id, msg_topic, event_type).inc(n)
        for msg in duplicates:
            self.stats.duplicates += 1
            metrics.DUPLICATES.labels(self.group_id, msg.topic).inc()
        return len(events)

    def _kept(self, msgs: list) -> list[tuple[int, object]]:
        """(position, message) of those not passed over: ``_passed_over`` for a whole poll, its
        replayed offsets looked up and its counts added once (not a call chain a message)."""
        replayed = self._replayed_below() if self.replayed_table is not None else None
        skip = self.skip
        kept: list[tuple[int, object]] = []
        below: dict[str, int] = {}  # topic -> messages below a replay's offsets
        skipped = 0
        for i, msg in enumerate(msgs):
            if replayed and msg.offset < replayed.get((msg.topic, msg.partition), 0):
                below[msg.topic] = below.get(msg.topic, 0) + 1
            elif skip is not None and skip(msg.value):
                skipped += 1
            else:
                kept.append((i, msg))
        self.stats.skipped += skipped
        for msg_topic, n in below.items():
            self.stats.duplicates += n
            metrics.DUPLICATES.labels(self.group_id, msg_topic).inc(n)
        return kept

    def _apply_batch_once(self, events: list[tuple[int, Event, object]]) -> tuple[list[tuple[Event, object]], list]:
        """One transaction: drop the ids already recorded (and repeats within the batch), apply
        the rest, record their ids. Returns (applied, duplicate messages); raises on any error,
        having rolled back."""
        with self.session_factory() as session, session.begin():
            if self.claim_processed is not None:
                return self._claim_and_apply(session, events)
            ids = list({event.id for _, event, _ in events})
            seen: set[str] = set()
            for start in range(0, len(ids), 500):
                seen.update(session.execute(select(self.processed.c.event_id).where(
                    self.processed.c.event_id.in_(ids[start:start + 500]))).scalars())
            fresh, duplicates, rows = self._fresh(events, seen.__contains__)
            if fresh:
                self._apply(session, fresh)
                # in id order: two consumers handed the same events (a rebalance) wait on each
                # other's records in one order, never in a cycle
                self.record_processed(session, sorted(rows, key=lambda r: r["event_id"]))
        return fresh, duplicates

    def _claim_and_apply(self, session: Session, events: list[tuple[int, Event, object]]
                         ) -> tuple[list[tuple[Event, object]], list]:
        """The ids recorded first, with one statement that also says which are new; then those
        applied (a failure rolls the records back with the rest)."""
        distinct, duplicates, rows = self._fresh(events, lambda event_id: False)
        new = self.claim_batch(session, [event for _, event, _ in events], sorted(rows, key=lambda r: r["event_id"]))
        if len(new) == len(distinct):  # the usual case: every distinct id was new
            fresh = distinct
        else:  # the first pass's list filtered by the new ids (not a second pass over the batch)
            fresh = [pair for pair in distinct if pair[0].id in new]
            duplicates.extend(msg for event, msg in distinct if event.id not in new)
        if fresh:
            self._apply(session, fresh)
        return fresh, duplicates

    def claim_batch(self, session: Session, events: list[Event], rows: list[dict]) -> set[str]:
        """A transaction's first statement when ``claim_processed`` is set: ``rows`` (the
        ``processed_events`` rows of ``events``, distinct ids in id order) recorded, returning the
        ids that were new. A service may extend it to do more in the same statement before its
        events are applied (penilaian: its first locks, and the batch's reads after them)."""
        return self.claim_processed(session, self.processed, rows)

    def apply_in_one_transaction(self, event: Event, topic: str, partition: int, offset: int) -> bool:
        """One event through the batch path's transaction, as a batch of one (its id claimed first
        when ``claim_processed`` is set); False when it was applied already. For a service whose
        one-message path must take its locks in the same order as its batches."""
        fresh, _ = self._apply_batch_once([(0, event, _Message(topic, partition, offset))])
        return bool(fresh)

    @staticmethod
    def _fresh(events: list[tuple[int, Event, object]], recorded) -> tuple[list[tuple[Event, object]], list, list[dict]]:
        """(events to apply, duplicate messages, their ``processed_events`` rows): an id
        ``recorded`` already, or a repeat within the batch, is a duplicate."""
        seen: set[str] = set()
        fresh: list[tuple[Event, object]] = []
        duplicates: list = []
        rows: list[dict] = []
        now = utcnow()
        for _, event, msg in events:
            if event.id in seen or recorded(event.id):
                duplicates.append(msg)
                continue
            seen.add(event.id)
            fresh.append((event, msg))
            rows.append({"event_id": event.id, "topic": msg.topic, "partition": msg.partition,
                         "offset": msg.offset, "processed_at": now})
        return fresh, duplicates, rows

    def _apply(self, session: Session, fresh: list[tuple[Event, object]]) -> None:
        if self.apply_batch is not None:
            self.apply_batch(session, [event for event, _ in fresh])
        else:
            for event, _ in fresh:
                self.handle(session, event)

    def record_processed(self, session: Session, rows: list[dict]) -> None:
        """The batch's ``processed_events`` rows, in the batch's transaction (a service may write
        them its own way: penilaian's consumer in one statement)."""
        session.execute(insert(self.processed), rows)

    def _already_processed(self, event_id: str) -> bool:
        with self.session_factory() as session:
            return session.execute(
                select(self.processed.c.event_id).where(self.processed.c.event_id == event_id)
            ).first() is not None
