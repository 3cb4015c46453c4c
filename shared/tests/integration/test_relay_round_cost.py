"""What one relay round costs when rows come one at a time (100 punches/s is ~200 one-row
transactions a second, each its own notification and round), counted rather than timed: the
Python functions a round runs and the statements it sends, on PostgreSQL (at the driver, from
libpq's trace) and on SQLite (the driver's statement trace), against a real broker.

A round that reads and sends one row is one statement; the row's ack neither wakes the loop nor
is marked by the next round (a wake-up with nothing due sends nothing) but with every other ack
since, once ``mark_interval_s`` has passed, in one UPDATE. Budgets in Python calls, measured on
this code (and the code before in brackets, whose every ack was its own UPDATE and commit):
PostgreSQL read 82 (136), mark 22; SQLite read 85 (357), mark 27. Back over them means SQLAlchemy
or psycopg's cursor is on the path again, or a round does work it need not."""
from __future__ import annotations

import json
import sqlite3
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import MetaData, select

from kinerja import wakeup
from kinerja.db import make_engine
from kinerja.messaging.outbox import NOTIFY_CHANNEL, Outbox, add_plumbing_tables, outbox_row, trim_sent
from kinerja.messaging.producer import make_producer
from kinerja.messaging.relay import RELAY_PRODUCER, OutboxRelay
from kinerja.messaging.relay.loop import _RowsAnnounced
from kinerja.testing import wait_until
from kinerja.testing.counting import python_calls as calls_in

pytestmark = pytest.mark.integration
EVENT_TYPE = "kehadiran.punch.recorded.v1"
BUDGET = {"read": 100, "mark": 35}


class Statements:
    """The statements the relay's own connection sends, by their first word."""

    def __init__(self, relay: OutboxRelay, tmp_path: Path):
        self.relay = relay
        self.tmp_path = tmp_path
        self.sent: list[str] = []
        self._file = None

    def attach(self) -> None:
        plain = self.relay._statements()
        if self.relay.engine.dialect.name == "postgresql":
            import psycopg

            pgconn = plain._connection()
            self._file = open(self.tmp_path / "relay.trace", "w")
            pgconn.trace(self._file.fileno())
            pgconn.set_trace_flags(psycopg.pq.Trace.SUPPRESS_TIMESTAMPS)
        else:
            conn: sqlite3.Connection = plain._connection()
            conn.set_trace_callback(lambda sql: self.sent.append(sql.split()[0].upper()))

    def since(self, mark: int) -> list[str]:
        if self._file is None:
            return self.sent[mark:]
        self._file.flush()
        words = []
        for line in (self.tmp_path / "relay.trace").read_text().splitlines():
            parts = line.split("\t")
            if len(parts) > 2 and parts[0] == "F" and parts[2] == "Execute":
                # a statement run: a prepared one (Bind, Execute, Sync), or one planned with its
                # parameters (Parse of the unnamed statement, Bind, Execute, Sync): one round trip
                words.append("EXECUTE")
            elif len(parts) > 2 and parts[0] == "F" and parts[2] == "Parse" and not parts[3].startswith(' ""'):
                words.append("PARSE")  # a statement prepared by name: a round trip of its own
            elif len(parts) > 2 and parts[0] == "F" and parts[2] == "Query":
                words.append(parts[3].split('"')[1].split()[0].upper())
        return words[mark:]

    def count(self) -> int:
        return len(self.since(0))


def one_row(box: Outbox, engine, k: int) -> str:
    event_id = str(uuid.uuid4())
    with engine.begin() as conn:
        box.add_rows(conn, [outbox_row(event_id, EVENT_TYPE, f"19900101201501{k:04d}", json.dumps({"id": event_id}))])
    return event_id


def test_a_one_row_round_is_one_statement_and_its_ack_is_marked_later_in_bulk(database_url, kafka_bootstrap,
                                                                             topic_prefix, tmp_path):
    metadata = MetaData()
    table, _ = add_plumbing_tables(metadata)
    engine = make_engine(database_url)
    metadata.create_all(engine)
    box = Outbox(metadata)
    # its rounds driven by hand, woken as ``run`` is: by its listener (NOTIFY, or the writer's signal)
    relay = OutboxRelay(engine, table, lambda: make_producer(kafka_bootstrap, **RELAY_PRODUCER), prefix=topic_prefix,
                        depth_interval_s=3600, mark_interval_s=0.2, notify_poll_s=3600)
    relay._listener = wakeup.listen(engine, NOTIFY_CHANNEL, _RowsAnnounced(relay))
    statements = Statements(relay, tmp_path)
    postgres = engine.dialect.name == "postgresql"
    try:
        wait_until(relay._listener.connected.is_set, 30, message="the relay listening")
        for k in range(3):  # warm: the producer connected, the relay's connection open
            one_row(box, engine, k)
            wait_until(lambda: relay.step() == 1, 30, interval_s=0.05, message="a warm row sent")
        relay._get_producer().flush(30)
        wait_until(lambda: relay.step() == 0 and relay.published == 3, 30, interval_s=0.05, message="warm rows marked")
        relay.claims.refresh_s = float("inf")  # the buckets are held: no claims statement among those counted
        statements.attach()
        read_calls, mark_calls = [], []
        for k in range(3, 6):
            relay._wake.clear()
            one_row(box, engine, k)
            wait_until(relay._wake.is_set, 30, interval_s=0.01, message="the relay woken by the row's commit")
            relay._wake.clear()
            before = statements.count()
            calls, sent = calls_in(relay.step)
            assert sent == 1
            read_calls.append(calls)
            assert statements.since(before) == (["EXECUTE"] if postgres else ["BEGIN", "PRAGMA", "SELECT", "ROLLBACK"])
            relay._get_producer().flush(30)
            # acknowledged: nothing woke the loop for it, and a round now (a wake-up with nothing
            # due) sends no statement at all
            assert not relay._wake.is_set()
            before = statements.count()
            assert relay.step() == 0 and relay.published == k
            assert statements.since(before) == []
            # once due: every row acknowledged since the last mark, in one UPDATE
            time.sleep(relay._mark_at - time.monotonic() + 0.01)
            before = statements.count()
            calls, sent = calls_in(relay.step)
            assert sent == 0 and relay.published == k + 1 and relay._mark_at is None
            mark_calls.append(calls)
            assert statements.since(before) == (["EXECUTE"] if postgres else ["BEGIN", "UPDATE", "COMMIT"])
        assert min(read_calls) <= BUDGET["read"], read_calls
        assert min(mark_calls) <= BUDGET["mark"], mark_calls
        # the marks are instants SQLAlchemy reads, and trims, like any other
        with engine.connect() as conn:
            sent_at = conn.execute(select(table.c.sent_at)).scalars().all()
        assert len(sent_at) == 6 and all(s is not None and s.tzinfo is not None for s in sent_at)
        assert trim_sent(engine, table, 3600) == 0
        assert trim_sent(engine, table, 0, now=max(sent_at)) == 5  # all but the latest, strictly before
    finally:
        relay._finish()
        engine.dispose()
