"""A punch batch's statements on PostgreSQL at a request's size (200) and at a whole upload's
(20,000: half of them stored already, so the look-up finds some), every statement under a
generic plan (``plan_cache_mode = force_generic_plan``, every statement prepared), their
executed plans read back (``auto_explain``) and held to what does not depend on the machine:
rows examined in proportion to the batch, and each list parameter (one JSON text) read once,
never scanned again per row of a join. The day worker's statements are held the same way in
``test_day_round_plans``, which says why: a list once split per row ran one DELETE for minutes."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import event, text

from kehadiran.entrypoints.app import create_app
from kehadiran.entrypoints.migrate import main as migrate
from kehadiran.service_layer.ingest import DeviceRef, PunchInput, record_punches
from kinerja.webapp import runtime_of

pytestmark = pytest.mark.integration
N = 20_000
AGENCY = "plans"
SN = "PLAN0001"
HISTORY = 2  # days of the device's punches before the batch's
DAY = datetime(2026, 11, 3, 7, 0)
ROWS_PER_PUNCH = 12  # rows a statement may look at per punch of the batch (a few joins deep)
SESSION = [
    "LOAD 'auto_explain'",
    "SET auto_explain.log_min_duration = 0",
    "SET auto_explain.log_analyze = on",
    "SET auto_explain.log_timing = off",
    "SET auto_explain.log_nested_statements = on",
    "SET auto_explain.log_format = json",
    "SET auto_explain.log_level = notice",
    "SET plan_cache_mode = force_generic_plan",
    "SET statement_timeout = '60s'",  # a guard: a plan that loops over a list runs for minutes (seconds would do)
]


# the statistics the planner has: taken after the roster and history were written, or taken while
# the tables were empty (an agency's roster imported in seconds, its first uploads before autovacuum
# has analysed it: the look-up of the batch's PINs was planned as a walk of the agency's whole roster,
# every request, 4,400 punches/s where 11,000 were measured with the statistics taken)
STATISTICS = ("taken", "taken_empty")


@pytest.fixture(params=STATISTICS)
def runtime(request, postgres_url):
    migrate(postgres_url)
    app = create_app({"database_url": postgres_url, "kafka_bootstrap": "127.0.0.1:1"})
    rt = runtime_of(app)
    if request.param == "taken_empty":
        with rt.engine.begin() as conn:
            conn.execute(text("ANALYZE"))
            for table in ("employees", "punches"):  # no autovacuum's analyse mid-test
                conn.execute(text(f"ALTER TABLE {table} SET (autovacuum_enabled = false)"))
    with rt.engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO employees (nip, nama, agency, unit, active, pin, pin_key) "
            "SELECT '19900101' || lpad(i::text, 10, '0'), 'ASN ' || i, :agency, 'Unit ' || (i % 40), true, "
            "i::text, i::text FROM generate_series(1, :n) AS i"), {"agency": AGENCY, "n": N})
        # the device's history, as a live database has it: its punches of the days before, which
        # a look-up of the batch's keys must not go through (the planner picks by the table's size)
        conn.execute(text(
            "INSERT INTO punches (id, device_sn, agency, person_key, device_time, time, nip, status, channel, "
            "received_at, event_id) "
            "SELECT md5('h' || i || '/' || k)::uuid::text, :sn, :agency, i::text, "
            ":day - k * interval '1 day' + (i % 50) * interval '1 minute', "
            ":day - k * interval '1 day' - interval '7 hours', '19900101' || lpad(i::text, 10, '0'), NULL, 'adms', "
            "now(), md5('f' || i || '/' || k)::uuid::text FROM generate_series(1, :n) AS i, "
            "generate_series(1, :days) AS k"), {"agency": AGENCY, "n": N, "sn": SN, "day": DAY, "days": HISTORY})
        if request.param == "taken":
            conn.execute(text("ANALYZE"))
    yield rt
    rt.dispose()


def nodes(plan: dict):
    yield plan
    for child in plan.get("Plans", ()):
        yield from nodes(child)


def examined(node: dict) -> float:
    per_loop = (node.get("Actual Rows", 0) + node.get("Rows Removed by Filter", 0)
                + node.get("Rows Removed by Join Filter", 0) + node.get("Rows Removed by Index Recheck", 0))
    return per_loop * node.get("Actual Loops", 1)


def faults(plan: dict, punches: int) -> list[str]:
    out, total = [], 0.0
    for node in nodes(plan["Plan"]):
        total += examined(node)
        if node["Node Type"] == "Function Scan" and node.get("Actual Loops", 1) > 1:
            out.append(f"{node.get('Function Name')}: a list scanned again in each of {node['Actual Loops']} loops")
        if "ANY" in node.get("Filter", "") + node.get("Join Filter", "") and examined(node) > 100:
            out.append(f"{node['Node Type']}: a list looked through for each of {examined(node):.0f} rows")
    if total > ROWS_PER_PUNCH * punches:
        out.append(f"{total:.0f} rows examined for {punches} punches")
    return out


def batch(first: int, n: int, day: datetime) -> list[PunchInput]:
    return [PunchInput(person_key=str(1 + i % N), device_time=day + timedelta(seconds=i)) for i in range(first, first + n)]


def test_a_batchs_statements_under_generic_plans_do_work_in_proportion_to_it(runtime):
    """A request's size, then a whole upload's, on one database (its set-up is most of the time)."""
    device = DeviceRef(SN, AGENCY, 420)
    for size, day in ((200, DAY), (N, DAY + timedelta(days=1))):
        now = datetime.now(timezone.utc)
        with runtime.engine.begin() as conn:  # half of the batch stored already
            conn.execute(text("SET LOCAL statement_timeout = '60s'"))
            record_punches(conn, device, batch(0, size // 2, day), channel="adms", agency_tz="Asia/Jakarta",
                           now=now).settle()
        plans: list[dict] = []

        def set_up(dbapi_conn, _record, plans=plans):
            dbapi_conn.prepare_threshold = 0
            with dbapi_conn.cursor() as cur:
                for statement in SESSION:
                    cur.execute(statement)
            dbapi_conn.commit()
            dbapi_conn.add_notice_handler(
                lambda diag: plans.append(json.loads(diag.message_primary[diag.message_primary.index("{"):]))
                if "plan:" in (diag.message_primary or "") else None)

        runtime.engine.dispose()
        event.listen(runtime.engine, "connect", set_up)
        try:
            with runtime.engine.begin() as conn:
                result = record_punches(conn, device, batch(0, size, day), channel="adms", agency_tz="Asia/Jakarta",
                                        now=now).settle()
        finally:
            event.remove(runtime.engine, "connect", set_up)
            runtime.engine.dispose()
        assert (result.accepted, result.duplicates) == (size - size // 2, size // 2)
        texts = [p["Query Text"] for p in plans]
        for statement in ("FROM json_to_recordset", "FROM employees", "INSERT INTO punches"):
            assert any(statement in t for t in texts), (statement, texts)
        assert all("$1" in t for t in texts if "FROM employees" in t or "INSERT INTO punches" in t), texts
        found = {p["Query Text"][:200]: f for p in plans if (f := faults(p, size))}
        assert not found, (size, json.dumps(found, indent=1))
