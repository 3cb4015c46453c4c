"""A poll's transactions on a thread of their own while the loop polls and decodes the next
(``IdempotentConsumer(overlap=True)``, batches only).

Why: a consumer that is behind spends a large share of its time waiting for the database (the
batch's statements and its commit: ~19 % of penilaian's wall time in a profile) and another
large share in kafka-python parsing the next fetch and in decoding it (~33 %), one after the
other. psycopg and sqlite3 let go of the GIL while they wait, so the next poll's parsing and
decoding can run in that time instead of after it.

What stays as it was:

- One poll's transactions at a time, and in poll order: the loop hands a poll's decoded events
  over only after the one before is done with (``finish``), so per-key order is as before (a
  key's messages come in poll order, and each poll's transactions keep it).
- Offsets are committed only after the database committed: the loop adds a poll's offsets to
  those to commit only when ``finish`` says how many of its messages are done with. Decoding
  ahead commits nothing; what was decoded and not applied (a stop, a poll cut short, a crash) is
  fetched again from the last commit.
- The KafkaConsumer is used by the loop's thread alone (kafka-python's consumer is not
  thread-safe); the worker thread touches only the database (and the DLQ producer on the
  one-by-one path, which is thread-safe).
- A rebalance: the loop finishes the poll in flight and commits its offsets before a poll that
  will rejoin the group (``coordinator.need_rejoin()``), so the partitions it hands over carry
  their offsets to the next member. A rebalance noticed inside the poll itself (a heartbeat
  answer in between) can still hand over partitions whose last poll is in flight: their offsets
  are then not committed (``_commit`` keeps only partitions still assigned) and the next member
  applies those records again, whose ids, claimed by this member's transaction, make them
  duplicates dropped (the claim waits for that transaction) — as when a slow member is dropped
  from the group today; nothing is applied twice.
- A stop (SIGTERM) is seen by the worker between transactions (``apply_prepared``); the loop
  then waits for it, commits what it did, and closes.
"""
from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
import threading


class OverlappedApply:
    """At most one poll in flight on one worker thread (``submit``), and its result (``finish``)."""

    def __init__(self, apply_prepared):
        self._apply_prepared = apply_prepared  # (msgs, events, stop) -> messages done with
        self._pool: ThreadPoolExecutor | None = None
        self._inflight: tuple[Future, list] | None = None

    @property
    def busy(self) -> bool:
        return self._inflight is not None

    def submit(self, msgs: list, events: list, stop: threading.Event) -> None:
        assert self._inflight is None, "one poll in flight at a time: finish() first"
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="consumer-apply")
        self._inflight = (self._pool.submit(self._apply_prepared, msgs, events, stop), msgs)

    def finish(self) -> tuple[list, int] | None:
        """(messages of the poll in flight, how many of them from the first are done with), once
        it is done; None when nothing was in flight. An error of the worker is raised here."""
        if self._inflight is None:
            return None
        future, msgs = self._inflight
        self._inflight = None
        return msgs, future.result()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
