"""A busy consumer's batch topped up with what arrived while it worked on the previous one.

kafka-python prefetches: when a poll hands over the records it has buffered it sends the next
fetch at once, the broker answers it with what is there at that moment (or with the first record
that arrives), and the answer waits in the buffer while the loop applies its batch. The next
poll returns that buffer without looking again, so the records that arrived during the batch are
fetched only then and applied one whole batch later: under steady load every record waited about
one batch longer than it had to (the Java client prefetches the same way).

So when the loop worked ``after_s`` or longer on the records of its last poll, it polls a second
time right after the first, for at most ``wait_ms``: the fetch the first poll sent is answered
within a round trip with what came in meanwhile, and that joins the batch (up to its size). An
idle consumer never tops up (after a poll that found nothing the next one waits for its records,
so they are fresh); a busy one waits ``wait_ms`` at most, when nothing new came.

Rebalances: the second poll may apply a new assignment. kafka-python keeps a retained
partition's position, so its records from the two polls follow each other; the records of a
partition no longer assigned are dropped (neither applied nor committed here: its new owner reads
them from the committed offset).
"""
from __future__ import annotations

import time

from kafka import KafkaConsumer

TOP_UP_AFTER_S = 0.01  # work shorter than this leaves too little behind to wait for
TOP_UP_WAIT_MS = 5  # a fetch with records waiting is answered in about a millisecond on one host


class TopUp:
    def __init__(self, after_s: float = TOP_UP_AFTER_S, wait_ms: int = TOP_UP_WAIT_MS):
        self.after_s = after_s
        self.wait_ms = wait_ms
        self._worked_from: float | None = None  # when the loop got the records it worked on since
        self.polls = 0  # second polls made (tests read them)
        self.topped_up = 0  # ... that added records

    def poll(self, consumer: KafkaConsumer, timeout_ms: int, limit: int) -> dict:
        """``consumer.poll``, and when the loop worked ``after_s`` or longer since its last poll,
        what a second, short poll brings too; at most ``limit`` records in all."""
        asked = time.monotonic()
        worked_s = asked - self._worked_from if self._worked_from is not None else 0.0
        records = consumer.poll(timeout_ms=timeout_ms, max_records=limit)
        if not records:
            self._worked_from = None  # the next poll waits for its records: they will be fresh
            return records
        have = sum(len(msgs) for msgs in records.values())
        if worked_s >= self.after_s and have < limit:
            records = self._second_poll(consumer, records, limit - have)
        self._worked_from = time.monotonic()
        return records

    def _second_poll(self, consumer: KafkaConsumer, records: dict, room: int) -> dict:
        self.polls += 1
        more = consumer.poll(timeout_ms=self.wait_ms, max_records=room)
        if more:
            self.topped_up += 1
        assigned = consumer.assignment()
        merged: dict = {}
        for tp, msgs in list(records.items()) + list(more.items()):
            if tp in assigned:
                merged.setdefault(tp, []).extend(msgs)
        return merged
