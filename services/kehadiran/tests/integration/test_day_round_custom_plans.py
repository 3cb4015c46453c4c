"""The day worker's rounds and the day closer at 20,000 ASN-days on PostgreSQL as the worker plans
them itself (no plan forced: its statements planned with their lists at each run, psycopg's and
the server's choice for the rest), with the statistics a live database may have when an upload's
markers come (autovacuum off, so they stay so): (a) taken while every table was empty (a new
database's, ``VACUUM ANALYZE``), the worker's idle rounds then run a dozen times on its
connections, and only then the roster, the punches and the markers written in seconds (stop 33's
PIN look-up: planned on an empty roster's statistics, it walked the roster every request); (b)
taken during a burst, while the first 1,000 ASN of the upload were stored and marked. Every
statement's executed plan is read back (``auto_explain``) and held to rows examined in proportion
to the round's keys, no list parameter looked through per row, no table rescanned per row.
``test_day_round_plans`` holds the same statements under forced generic plans."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

import pytest
from sqlalchemy import event, text

from kehadiran.entrypoints.app import create_app
from kehadiran.entrypoints.migrate import main as migrate
from kehadiran.entrypoints.runtime import day_worker
from kehadiran.service_layer.day_closing import close_due_days
from kinerja.testing.plans import PlanLog, faults
from kinerja.webapp import runtime_of

pytestmark = pytest.mark.integration
N = 20_000
BURST = 1_000  # ASN stored and marked when the statistics were taken during a burst
AGENCY = "plans"
WIB = timezone(timedelta(hours=7))
# rows a statement may examine per ASN-day of its round (its keys, their markers, punches, records
# and history, a few joins deep); a walk of the 20,000-row roster for a round of 500 is 40 a key
ROWS_PER_KEY = 20


def a_past_workday() -> date:
    day = datetime.now(WIB).date() - timedelta(days=3)
    while day.weekday() > 3:
        day -= timedelta(days=1)
    return day


def store(conn, day: date, first: int, last: int) -> None:
    """ASN ``first``..``last`` on the roster, tracked, each with a punch on ``day``, a final day
    record of the day before, and a marker of ``day``."""
    p = {"agency": AGENCY, "a": first, "b": last, "day": day, "since": day - timedelta(days=30),
         "t0": datetime.combine(day, time(7, 0), tzinfo=WIB).astimezone(timezone.utc).replace(tzinfo=None),
         "now": datetime.now(timezone.utc).replace(tzinfo=None)}
    series = "generate_series(CAST(:a AS integer), CAST(:b AS integer)) AS i"
    nip = "'19900101' || lpad(i::text, 10, '0')"
    conn.execute(text(f"INSERT INTO employees (nip, nama, agency, unit, active, pin, pin_key) SELECT {nip}, "
                      f"'ASN ' || i, :agency, 'Unit ' || (i % 40), true, i::text, i::text FROM {series}"), p)
    conn.execute(text(f"INSERT INTO tracking (nip, since) SELECT {nip}, :since FROM {series}"), p)
    conn.execute(text(
        "INSERT INTO punches (id, device_sn, agency, person_key, device_time, time, nip, status, channel, "
        f"received_at, event_id) SELECT md5('p' || i)::uuid::text, 'PLAN0001', :agency, i::text, "
        f"(:t0 + interval '7 hours' + (i % 50) * interval '1 minute'), (:t0 + (i % 50) * interval '1 minute'), "
        f"{nip}, '0', 'adms', :now, md5('e' || i)::uuid::text FROM {series}"), p)
    conn.execute(text(
        "INSERT INTO day_summaries (nip, day, version, final, payload, updated_at) SELECT "
        f"{nip}, :day - 1, 1, true, CAST('{{\"final\": true, \"workday\": true, \"deductions\": []}}' AS json), "
        f":now FROM {series}"), p)
    conn.execute(text(f"INSERT INTO dirty_days (nip, day) SELECT {nip}, :day FROM {series}"), p)


@pytest.fixture(params=["planned while empty", "analysed during a burst"])
def runtime(request, postgres_url):
    migrate(postgres_url)
    rt = runtime_of(create_app({"database_url": postgres_url, "kafka_bootstrap": "127.0.0.1:1"}))
    day = a_past_workday()
    with rt.engine.begin() as conn:
        for (table,) in conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")).all():
            conn.execute(text(f'ALTER TABLE "{table}" SET (autovacuum_enabled = off)'))
    if request.param == "planned while empty":
        with rt.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
        worker = day_worker(rt)
        for _ in range(12):  # idle polls: more than psycopg's 5 and the server's 5 custom plans
            assert not worker.run_round().worked
        with rt.engine.begin() as conn:
            store(conn, day, 1, N)
    else:
        with rt.engine.begin() as conn:
            store(conn, day, 1, BURST)
            conn.execute(text("ANALYZE"))
            store(conn, day, BURST + 1, N)
    yield rt, day
    rt.dispose()


def test_rounds_and_the_closer_at_20000_keys_as_planned_do_work_in_proportion_to_their_keys(runtime):
    rt, day = runtime
    log = PlanLog()

    def watch(dbapi_conn, record, _proxy):  # the pool's connections as they are, prepared statements kept
        if not record.info.get("watched"):
            record.info["watched"] = True
            log.attach(dbapi_conn)

    event.listen(rt.engine, "checkout", watch)
    parts = []  # (what, ASN-days, its plans)
    try:
        worker = day_worker(rt)
        days = 0
        for _ in range(N // worker.chunk + 2):  # rounds of the default size until none is left
            first = len(log.plans)
            done = worker.run_round()
            if not done.worked:
                break
            assert done.days == done.published > 0
            parts.append(("a round", done.days, log.plans[first:]))
            days += done.days
        assert days == N
        first = len(log.plans)
        with rt.session() as s, s.begin():
            s.execute(text("INSERT INTO closing_cursors (agency, closed_through) VALUES (:a, :d)"),
                      {"a": AGENCY, "d": day})
            close_due_days(s, zone_of=lambda agency: WIB,
                           now=datetime.combine(day + timedelta(days=4), time(9), tzinfo=WIB))
        parts.append(("the closer", N, log.plans[first:]))
    finally:
        event.remove(rt.engine, "checkout", watch)
    texts = [p["Query Text"] for _, _, part in parts for p in part]
    for statement in ("DELETE FROM dirty_days", "INSERT INTO day_summaries", "INSERT INTO outbox", "FROM punches"):
        assert any(statement in t for t in texts), statement
    found = {f"{what}: {p['Query Text'][:300]}": f for what, days, part in parts for p in part
             if (f := faults(p, ROWS_PER_KEY * days))}
    assert not found, found
