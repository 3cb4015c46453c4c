"""CPU seconds of a consumer group's run by kind of process: the consumer processes this benchmark
started, the Kafka broker it started (a ``java`` descendant of this process) and one PostgreSQL
server (the postmaster listening on the URL's port, its live backends, and the backends it
reaped: ``pg_ctl`` daemonises it, so it is no descendant of ours, and a backend that exited
counts in its parent's ``cutime``). Read from ``/proc`` with ``benchlib.cpu``'s readers, so only
these processes count, however many other brokers and servers the machine runs.

``GroupCpu.watch_first_row`` takes the reading when the group's first batch is in (the benchmark times
from there), so the consumers' start-up (imports, group join) is reported apart."""
from __future__ import annotations

import os
import threading
import time

from sqlalchemy import create_engine, text

from benchlib.cpu import _postmaster, _procs

KINDS = ("consumers", "broker", "postgresql")


def reading(consumer_pids: set[int], pg_port: str | None) -> dict[str, float]:
    """CPU seconds so far of each kind (``KINDS``)."""
    procs = _procs()
    me = os.getpid()
    cpu = dict.fromkeys(KINDS, 0.0)
    postmaster = _postmaster(procs, int(pg_port) if pg_port else None)
    for pid, (parent, comm, own, reaped) in procs.items():
        if pid in consumer_pids:
            cpu["consumers"] += own
        elif pid == postmaster:
            cpu["postgresql"] += own + reaped + sum(p[2] for p in procs.values() if p[0] == pid)
        elif comm == "java":
            p, hops = parent, 0
            while p in procs and p != me and hops < 16:
                p, hops = procs[p][0], hops + 1
            if p == me:
                cpu["broker"] += own
    return cpu


class GroupCpu:
    """Readings at the consumers' start, at the group's first recorded event, and at the end."""

    def __init__(self, pg_url: str | None):
        self.pg_port = pg_url.rsplit(":", 1)[1].split("/")[0] if pg_url and pg_url.startswith("postgresql") else None
        self.pids: set[int] = set()
        self.start = reading(set(), self.pg_port)
        self.first: dict[str, float] | None = None
        self.last: dict[str, float] = self.start

    def watch_first_row(self, db_url: str, pids: set[int]) -> None:
        """Take ``first`` when ``processed_events`` has its first row (polled every 20 ms)."""
        self.pids = pids
        engine = create_engine(db_url)

        def watch() -> None:
            try:
                while self.first is None:
                    with engine.connect() as c:
                        if c.execute(text("SELECT 1 FROM processed_events LIMIT 1")).first():
                            self.first = reading(self.pids, self.pg_port)
                            return
                    time.sleep(0.02)
            finally:
                engine.dispose()

        threading.Thread(target=watch, daemon=True, name="group-cpu").start()

    def mark_end(self) -> None:
        """The reading at the end of the run (the group drained)."""
        self.last = reading(self.pids, self.pg_port)

    def per_event(self, events: int) -> dict[str, float]:
        """µs an event of each kind from the first row to ``mark_end``, ``total``, and the
        consumers' start-up CPU seconds (``startup_s``)."""
        first = self.first or self.start
        out = {k: (self.last[k] - first[k]) / max(events, 1) * 1e6 for k in KINDS}
        out["total"] = sum(out[k] for k in KINDS)
        out["startup_s"] = first["consumers"]
        return out
