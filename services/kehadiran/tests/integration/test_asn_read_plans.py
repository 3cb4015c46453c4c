"""A day worker round's read of its ASN and their tracking (``day_store.asns_tracked``) on PostgreSQL
with ``employees`` and ``tracking`` never analysed, as in a new database or a roster just loaded:
rows examined in proportion to the round's keys, both as the worker plans it (afresh, with the list
known) and under a generic plan. As ``employees.nip = ANY(<list>)`` it read the whole roster every
round, each row checked against the round's NIPs one by one (3,000 ASN: 6,000+ rows examined for
500 keys; at 5,000 ASN 40 ms of the backend a round, more than all its other statements). Rows,
not milliseconds: the same on any machine."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import event, text

from kehadiran.entrypoints.app import create_app
from kehadiran.entrypoints.migrate import main as migrate
from kehadiran.entrypoints.runtime import day_worker
from kinerja.testing.plans import PlanLog, faults, rows_examined
from kinerja.webapp import runtime_of

pytestmark = pytest.mark.integration
ROSTER = 3_000
KEYS = 500  # a round's default chunk
# the NIP list (one row each), one probe of employees and one of tracking per NIP, and the joins'
# output: 5 a key; a scan of the roster is ROSTER rows on its own
ROWS_PER_KEY = 6
WIB = timezone(timedelta(hours=7))


@pytest.fixture
def runtime(postgres_url):
    migrate(postgres_url)
    rt = runtime_of(create_app({"database_url": postgres_url, "kafka_bootstrap": "127.0.0.1:1"}))
    yield rt
    rt.dispose()


def a_past_workday() -> date:
    day = datetime.now(WIB).date() - timedelta(days=3)
    while day.weekday() > 3:
        day -= timedelta(days=1)
    return day


@pytest.mark.parametrize("plans", ["as the worker plans it", "generic"])
def test_the_asn_read_examines_rows_in_proportion_to_the_keys_on_tables_never_analysed(runtime, plans):
    day = a_past_workday()
    with runtime.engine.begin() as conn:
        for (table,) in conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")).all():
            conn.execute(text(f'ALTER TABLE "{table}" SET (autovacuum_enabled = off)'))
        conn.execute(text(
            "INSERT INTO employees (nip, nama, agency, unit, active, pin, pin_key) "
            "SELECT '19900101' || lpad(i::text, 10, '0'), 'ASN ' || i, 'plans', 'Unit ' || (i % 7), true, "
            "i::text, i::text FROM generate_series(1, :n) AS i"), {"n": ROSTER})
        conn.execute(text("INSERT INTO tracking (nip, since) SELECT nip, :since FROM employees"),
                     {"since": day - timedelta(days=30)})
        # the round's keys spread over the roster, as an upload's are
        conn.execute(text(
            "INSERT INTO dirty_days (nip, day) SELECT '19900101' || lpad((i * 6)::text, 10, '0'), :day "
            "FROM generate_series(1, :k) AS i"), {"day": day, "k": KEYS})
        assert conn.execute(text("SELECT reltuples FROM pg_class WHERE relname = 'employees'")).scalar() < 0
    log = PlanLog()

    def watch(dbapi_conn, _record):
        if plans == "generic":
            dbapi_conn.prepare_threshold = 0  # prepared at once, so the generic plan is the one run
            with dbapi_conn.cursor() as cur:
                cur.execute("SET plan_cache_mode = force_generic_plan")
            dbapi_conn.commit()
        log.attach(dbapi_conn)

    runtime.engine.dispose()
    event.listen(runtime.engine, "connect", watch)
    try:
        done = day_worker(runtime).run_round()
    finally:
        event.remove(runtime.engine, "connect", watch)
        runtime.engine.dispose()
    assert done.days == done.published == KEYS  # each a TK day of a tracked ASN: the read found them all
    read = log.since(0, "FROM employees")
    read = [p for p in read if "tracking" in p["Query Text"]]
    assert len(read) == 1, [p["Query Text"][:100] for p in log.plans]
    assert rows_examined(read[0]) >= KEYS  # the check sees the read's rows
    assert faults(read[0], most_rows=ROWS_PER_KEY * KEYS) == []
