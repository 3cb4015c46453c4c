"""penilaian's consumer fed polls in the test's own thread (``process_batch``, no broker), and the
statements the database runs for them: the set-up the tests share that count what a poll costs
(Python calls, statements), so that what they count is the same on any machine, however loaded."""
from __future__ import annotations

import itertools
import threading
from datetime import date

from sqlalchemy import event

from kinerja.testing import consumer_record
from kinerja_testkit.penilaian import day_event, roster_event
from penilaian.entrypoints.consumer import make_consumer


class PolledConsumer:
    """``make_consumer(runtime, batch_size=...)`` with its stop flag; ``records`` numbers the
    events' offsets on from 0, keyed by their subject when ``keyed`` (else the default key)."""

    def __init__(self, runtime, *, batch_size: int, keyed: bool = False, topic: str = "t.kehadiran.v1"):
        self.consumer = make_consumer(runtime, batch_size=batch_size)
        self.stop = threading.Event()
        self._engine = runtime.engine
        self._offsets = itertools.count()
        self._keyed = keyed
        self._topic = topic

    def records(self, events) -> list:
        if self._keyed:
            return [consumer_record(e, next(self._offsets), self._topic, key=e.subject.encode()) for e in events]
        return [consumer_record(e, next(self._offsets), self._topic) for e in events]

    def poll(self, events) -> None:
        """``events`` as one poll, which must be done (not stopped)."""
        assert self.consumer.process_batch(self.records(events), self.stop)

    def seed(self, nips: list[str], day: date) -> None:
        """One poll: ``nips`` on the roster, each with a day summary of ``day`` (no deduction)."""
        self.poll([roster_event(nip, f"Pegawai {i}") for i, nip in enumerate(nips)] + [day_event(n, day) for n in nips])

    def statements(self) -> list[str]:
        """The statements the database runs from here on, in order (one an executemany row)."""
        sql: list[str] = []
        event.listen(self._engine, "do_execute", lambda cursor, statement, params, context: sql.append(statement))
        event.listen(self._engine, "do_executemany",
                     lambda cursor, statement, params, context: sql.extend([statement] * len(params)))
        return sql
