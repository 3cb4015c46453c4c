"""tugas's consumer on PostgreSQL: a roster import of 5,000 ASN in polls of 500 (the rows read for
each poll's NIPs, written, the ids claimed), and the overdue sweep with 20,000 tasks, every
statement read back as it ran (``auto_explain``) and held to counts: rows examined in proportion to
the poll (the roster read: at most one pass over the roster so far) or to the tasks the sweep
flags, no list parameter looked through per row, no table rescanned per row. The statistics (autovacuum off, so they stay so) are a new database's: taken
while every table was empty (``VACUUM ANALYZE``), the idle consumer's sweep then run a dozen times
on its connection (more than psycopg's 5 runs before it prepares a statement, and the server's 5
custom plans before it keeps a generic one), then the roster imported and the tasks written, as an
agency onboarding does in its first hour."""
from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import event

from kinerja.config import load_settings
from kinerja.testing import consumer_record
from kinerja.testing.plans import PlanLog, analyse, faults, keep_statistics, sql
from tugas.entrypoints import consumer as consumer_entry
from tugas.entrypoints.migrate import main as migrate
from tugas.entrypoints.runtime import make_runtime
from .tugas_testkit import AGENCY, roster_event, today_wib

pytestmark = pytest.mark.integration
N = 20_000  # tasks
ROSTER = 5_000
POLL = 500  # consumer.ROSTER_BATCH
DUE = 50  # tasks past their due date and open, among N
SLACK = 12  # rows a statement may examine per event of its poll (a probe each, the joins' output)


def nip(i: int) -> str:
    return f"19900101{i:010d}"


@pytest.fixture
def runtime(postgres_url):
    migrate(postgres_url)
    rt = make_runtime(load_settings("tugas", {"database_url": postgres_url}))
    keep_statistics(rt.engine)
    analyse(rt.engine, vacuum=True)
    for _ in range(12):  # the idle consumer's sweeps, on an empty database
        assert consumer_entry.check_overdue(rt) == 0
    yield rt
    rt.dispose()


def watched(engine, log: PlanLog):
    def watch(dbapi_conn, record, _proxy):  # the pool's connections as they are, prepared statements kept
        if not record.info.get("watched"):
            record.info["watched"] = True
            log.attach(dbapi_conn)
    return watch


def test_a_roster_import_and_the_overdue_sweep_examine_rows_in_proportion_to_their_work(runtime):
    engine = runtime.engine
    consumer = consumer_entry.make_consumer(runtime)
    log = PlanLog()
    watch = watched(engine, log)
    event.listen(engine, "checkout", watch)
    try:
        polls = []
        for first in range(0, ROSTER, POLL):  # the import, each ASN under the one before it
            records = [consumer_record(roster_event(nip(i), f"ASN {i}", AGENCY, nip(i - 1) if i else None),
                                       i, "t.pegawai.v1") for i in range(first, first + POLL)]
            start = len(log.plans)
            assert consumer.process_batch(records, threading.Event())
            polls.append(log.plans[start:])
        # N tasks: all but DUE of them finished or not yet due
        today = today_wib()
        sql(engine, "INSERT INTO tasks (id, agency, nip, atasan_nip, assigned_by, title, status, due_date, "
                    "target_quantity, links, created_at, updated_at, version) "
                    "SELECT 't' || i, :agency, '19900101' || lpad((i % 5000)::text, 10, '0'), NULL, 'x', 'T', "
                    "CASE WHEN i <= :due THEN 'assigned' WHEN i % 2 = 0 THEN 'approved' ELSE 'assigned' END, "
                    "CASE WHEN i <= :due OR i % 2 = 0 THEN CAST(:today AS date) - 3 ELSE CAST(:today AS date) + 30 END, "
                    "1, '[]', now(), now(), 1 FROM generate_series(1, :n) AS i",
            agency=AGENCY, due=DUE, today=today, n=N)
        start = len(log.plans)
        assert consumer_entry.check_overdue(runtime, now=datetime.now(timezone.utc) + timedelta(minutes=1)) == DUE
        sweep = [p for p in log.plans[start:] if "FROM tasks" in p["Query Text"] and "UPDATE" not in p["Query Text"]]
    finally:
        event.remove(engine, "checkout", watch)
    assert sql(engine, "SELECT count(*) FROM employees")[0][0] == ROSTER
    # the roster read of a poll's 500 NIPs may walk the roster stored so far (a hashed scan: the
    # planner's choice for 500 keys of a few thousand rows, statistics or not), never rescan it per
    # key (a plan kept from the empty table)
    found = {f"poll {k}: {p['Query Text'][:200]}": f for k, plans in enumerate(polls) for p in plans
             if (f := faults(p, SLACK * POLL + (k + 1) * POLL))}
    assert not found, found
    assert any("FROM employees" in p["Query Text"] for p in polls[-1]), [p["Query Text"][:100] for p in polls[-1]]
    assert len(sweep) == 1
    assert faults(sweep[0], SLACK * DUE) == []
