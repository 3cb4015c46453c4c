"""kehadiran's consumer importing a roster of 5,000 ASN in polls of 500 on PostgreSQL, on a new
database's statistics (every table analysed while empty, ``VACUUM ANALYZE``; autovacuum off, so
they stay so): the roster the batched apply loads in seconds, before autovacuum has analysed
anything (stop 33's PIN look-up, planned on those statistics, then walked the roster every
request). Every statement of every poll is read back as it ran (``auto_explain``) and held to
counts: at most one pass over what is stored so far (a hashed scan of the roster for a poll's 500
NIPs is the planner's choice at these sizes, statistics or not) and the poll's own rows, never a
table rescanned per key or a list parameter looked through per row."""
from __future__ import annotations

import threading
import uuid
from datetime import datetime, timezone

import pytest
from sqlalchemy import event, text

from kehadiran.entrypoints.consumer import make_consumer
from kehadiran.entrypoints.migrate import main as migrate
from kehadiran.entrypoints.runtime import make_runtime
from kinerja.config import load_settings
from kinerja.events import decode_event, make_event
from kinerja.events.pegawai import EMPLOYEE_UPSERTED
from kinerja.testing import consumer_record
from kinerja.testing.plans import PlanLog, faults

pytestmark = pytest.mark.integration
ROSTER = 5_000
POLL = 500  # the consumer's roster poll on PostgreSQL
AGENCY = "plans"
SLACK = 12  # rows a statement may examine per event of its poll, beyond one pass over the tables' rows
TABLES = 3  # the tables a poll reads by NIP: employees, tracking, day summaries


def roster_event(i: int):
    nip = f"19900101{i:010d}"
    return decode_event(make_event(
        EMPLOYEE_UPSERTED, subject=nip, agency=AGENCY, source="test", time=datetime(2026, 11, 2, tzinfo=timezone.utc),
        event_id=str(uuid.uuid4()), data={"nip": nip, "nama": f"ASN {i}", "agency": AGENCY, "unit": "Umum",
                                          "pin": str(i), "active": True}).to_bytes())


def test_a_roster_import_on_a_new_databases_statistics_reads_each_table_at_most_once_a_poll(postgres_url):
    migrate(postgres_url)
    runtime = make_runtime(load_settings("kehadiran", {"database_url": postgres_url}))
    try:
        with runtime.engine.begin() as conn:
            for (table,) in conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")).all():
                conn.execute(text(f'ALTER TABLE "{table}" SET (autovacuum_enabled = off)'))
        with runtime.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
        consumer = make_consumer(runtime)
        log = PlanLog()

        def watch(dbapi_conn, record, _proxy):
            if not record.info.get("watched"):
                record.info["watched"] = True
                log.attach(dbapi_conn)

        event.listen(runtime.engine, "checkout", watch)
        polls = []
        try:
            for first in range(0, ROSTER, POLL):
                records = [consumer_record(roster_event(i), i, "t.pegawai.v1", key=str(i).encode())
                           for i in range(first, first + POLL)]
                start = len(log.plans)
                assert consumer.process_batch(records, threading.Event())
                polls.append(log.plans[start:])
        finally:
            event.remove(runtime.engine, "checkout", watch)
        with runtime.engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM employees")).scalar() == ROSTER
        assert any("FROM employees" in p["Query Text"] for p in polls[-1])
        found = {f"poll {k}: {p['Query Text'][:200]}": f for k, plans in enumerate(polls) for p in plans
                 if (f := faults(p, SLACK * POLL + TABLES * (k + 1) * POLL))}
        assert not found, found
    finally:
        runtime.dispose()
