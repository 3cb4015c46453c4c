"""The day worker's round and the day closer at benchmark size on PostgreSQL (20,000 ASN-days in
one round), every statement under a generic plan (``plan_cache_mode = force_generic_plan``: what
a prepared statement gets once the server finds its generic plan cheap enough, which psycopg
prepares after five runs). Each statement's executed plan is read back with its row counts
(``auto_explain``, its ``ANALYZE`` counts sent to the client as notices) and held to what is
load-independent: rows examined in proportion to the round's keys, and no list parameter looked
through once per row (``x = ANY($n)`` as a filter, or a scan of the list re-run per outer row).

Commit 9ef9b0d passed the round's lists as one text each, split by ``string_to_array`` on the
server: every small test passed, and then the marker sweep of the ingest benchmark's 20,000-key
backlog ran one DELETE for 7+ minutes at full CPU. Rows, not wall time: this holds on any machine.
The plan a statement gets depends on the statistics: under the ones set up here (a queue's, see
``load``) 9ef9b0d's sweep is planned on the index and passes; what this check found on the code
before it was the punches read by NIP alone (every punch an ASN ever made, for a few days').
"""
from __future__ import annotations

import json
import re
from datetime import date, datetime, time, timedelta, timezone

import pytest
from sqlalchemy import event, text

from kehadiran.entrypoints.app import create_app
from kehadiran.entrypoints.migrate import main as migrate
from kehadiran.entrypoints.runtime import day_worker
from kehadiran.service_layer.day_closing import close_due_days
from kinerja.testing.plans import examined, nodes
from kinerja.webapp import runtime_of

pytestmark = pytest.mark.integration
N = 20_000
TK = 1_000  # ASN with a marker and no punch: their day closes as TK, so the alerts' statements run too
AGENCY = "plans"
WIB = timezone(timedelta(hours=7))
# rows a statement (each of its WITH queries) may look at per ASN-day of the round (its keys, their markers, punches and
# records, a few joins deep); a list looked through per row costs thousands per ASN-day
ROWS_PER_KEY = 20
# a filter on a list parameter is fine over a handful of rows, not once per row of a table
FEW_ROWS = 100
SESSION = [
    "LOAD 'auto_explain'",
    "SET auto_explain.log_min_duration = 0",
    "SET auto_explain.log_analyze = on",
    "SET auto_explain.log_timing = off",
    "SET auto_explain.log_format = json",
    "SET auto_explain.log_level = notice",
    "SET plan_cache_mode = force_generic_plan",
    # a guard, not the check: a plan that looks through a list per row would otherwise run for
    # minutes before the rows it examined are known
    "SET statement_timeout = '300s'",
]
# ``x = ANY(<something made of a parameter>)``: a list parameter (or one split on the server)
LIST_PARAMETER = re.compile(r"ANY \([^)]*\$\d")


def a_past_workday() -> date:
    day = datetime.now(WIB).date() - timedelta(days=3)
    while day.weekday() > 3:
        day -= timedelta(days=1)
    return day


def nip(i: int) -> str:
    return f"19900101{i:010d}"


def load(conn, day: date, stats: str = "analysed") -> None:
    """N ASN in 40 units, tracked for a month, with a fortnight of punches and day records; all but
    ``TK`` of them punched in on ``day``, and every one marked dirty for it (half of them twice, as
    an upload's requests mark a day again and again). Set-based: the setup is a few statements.
    ``stats``: ``analysed``, as a live database has them (the tables analysed with their
    history, the markers, a queue mostly empty, analysed before the upload filled it); ``never``,
    as a new database has them (no table ever analysed or vacuumed: the planner goes by each
    table's pages); ``empty queue``, the tables analysed and the marker queue vacuumed empty (no
    pages, one row estimated) before the upload, the state in which the worker's idle polls
    once left it a plan for an empty queue (see ``test_a_plan_made_while_the_queue_was_empty``)."""
    if stats != "analysed":
        # autovacuum must not take the statistics the case is about
        for (table,) in conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")).all():
            conn.execute(text(f'ALTER TABLE "{table}" SET (autovacuum_enabled = off)'))
    p = {"agency": AGENCY, "n": N, "punched": N - TK, "since": day - timedelta(days=30), "day": day,
         "t0": datetime.combine(day, time(7, 0), tzinfo=WIB).astimezone(timezone.utc).replace(tzinfo=None),
         "now": datetime.now(timezone.utc).replace(tzinfo=None)}
    conn.execute(text(
        "INSERT INTO employees (nip, nama, agency, unit, active, pin, pin_key) "
        "SELECT '19900101' || lpad(i::text, 10, '0'), 'ASN ' || i, :agency, 'Unit ' || (i % 40), true, "
        "i::text, i::text FROM generate_series(1, :n) AS i"), p)
    conn.execute(text("INSERT INTO tracking (nip, since) SELECT nip, :since FROM employees"), p)
    conn.execute(text(
        "INSERT INTO punches (id, device_sn, agency, person_key, device_time, time, nip, status, channel, "
        "received_at, event_id) "
        "SELECT md5('p' || i)::uuid::text, 'PLAN0001', :agency, i::text, "
        "(:t0 + interval '7 hours' + (i % 50) * interval '1 minute'), "
        "(:t0 + (i % 50) * interval '1 minute'), '19900101' || lpad(i::text, 10, '0'), '0', 'adms', :now, "
        "md5('e' || i)::uuid::text FROM generate_series(1, :punched) AS i"), p)
    # a fortnight of history, as a live database has (the planner picks its scans by the tables' sizes)
    conn.execute(text(
        "INSERT INTO day_summaries (nip, day, version, final, payload, updated_at) "
        "SELECT e.nip, :day - k, 1, true, CAST('{\"final\": true, \"workday\": true, \"deductions\": []}' AS json), "
        ":now FROM employees AS e, generate_series(1, 14) AS k"), p)
    conn.execute(text(
        "INSERT INTO punches (id, device_sn, agency, person_key, device_time, time, nip, status, channel, "
        "received_at, event_id) "
        "SELECT md5('h' || i || '/' || k)::uuid::text, 'PLAN0001', :agency, i::text, "
        "(:t0 + interval '7 hours' - k * interval '1 day'), (:t0 - k * interval '1 day'), "
        "'19900101' || lpad(i::text, 10, '0'), '0', 'adms', :now, md5('f' || i || '/' || k)::uuid::text "
        "FROM generate_series(1, :n) AS i, generate_series(1, 14) AS k"), p)
    # the markers' statistics as autovacuum may leave a queue's: taken while it held a handful
    # of one ASN's markers, so the planner takes any NIP to match most of them
    if stats == "analysed":
        conn.execute(text("INSERT INTO dirty_days (nip, day) SELECT :nip, :day - k FROM generate_series(1, 5) "
                          "AS k"), {**p, "nip": nip(1)})
        conn.execute(text("ANALYZE"))
        conn.execute(text("DELETE FROM dirty_days"))
    if stats == "empty queue":
        conn.execute(text("ANALYZE"))
    else:
        mark_all(conn, day)


def mark_all(conn, day: date) -> None:
    conn.execute(text(
        "INSERT INTO dirty_days (nip, day) SELECT '19900101' || lpad(i::text, 10, '0'), :day "
        "FROM generate_series(1, :n) AS i, generate_series(1, 1 + i % 2) AS k ORDER BY k, i"), {"day": day, "n": N})


@pytest.fixture
def runtime(postgres_url):
    migrate(postgres_url)
    app = create_app({"database_url": postgres_url, "kafka_bootstrap": "127.0.0.1:1"})
    rt = runtime_of(app)
    yield rt
    rt.dispose()


class Plans:
    """Every plan the engine's statements run with, from connections opened after ``watch``."""

    def __init__(self, engine):
        self.engine = engine
        self.plans: list[dict] = []

    def watch(self) -> "Plans":
        self.engine.dispose()
        event.listen(self.engine, "connect", self._set_up)
        return self

    def stop(self) -> None:
        event.remove(self.engine, "connect", self._set_up)
        self.engine.dispose()

    def _set_up(self, dbapi_conn, record) -> None:
        dbapi_conn.prepare_threshold = 0  # every statement prepared, so the generic plan is the one run
        with dbapi_conn.cursor() as cur:
            for statement in SESSION:
                cur.execute(statement)
        dbapi_conn.commit()
        dbapi_conn.add_notice_handler(self._notice)

    def _notice(self, diag) -> None:
        message = diag.message_primary or ""
        if "plan:" in message:
            self.plans.append(json.loads(message[message.index("{"):]))


def parts(node: dict, name: str = "the statement"):
    """(name, rows examined) of a plan's parts: each ``WITH`` query its own (a statement may do the
    work of several in its CTEs, as the claim with its sweep does), the rest the statement's."""
    total = examined(node)
    stack = list(node.get("Plans", ()))
    while stack:
        child = stack.pop()
        if child.get("Subplan Name", "").startswith("CTE "):
            yield from parts(child, child["Subplan Name"])
            continue
        total += examined(child)
        stack.extend(child.get("Plans", ()))
    yield name, total


def faults(plan: dict, keys: int) -> list[str]:
    """What in one executed plan is work out of proportion to ``keys`` ASN-days."""
    out = []
    for node in nodes(plan["Plan"]):
        name = node["Node Type"] + (f" on {node['Relation Name']}" if "Relation Name" in node else "")
        loops = node.get("Actual Loops", 1)
        for field in ("Filter", "Join Filter"):
            if LIST_PARAMETER.search(node.get(field, "")) and examined(node) > FEW_ROWS:
                out.append(f"{name}: a list parameter looked through for each of {examined(node):.0f} rows "
                           f"({field}: {node[field]})")
        for field in ("Index Cond", "Recheck Cond", "Hash Cond", "Merge Cond"):
            if LIST_PARAMETER.search(node.get(field, "")) and loops > 1:
                out.append(f"{name}: a list parameter evaluated again in each of {loops} loops "
                           f"({field}: {node[field]})")
        if node["Node Type"] == "Function Scan" and loops > 1:
            out.append(f"{name} ({node.get('Function Name')}): a list scanned again in each of {loops} loops")
    for name, total in parts(plan["Plan"]):
        if total > ROWS_PER_KEY * keys:
            out.append(f"{name}: {total:.0f} rows examined for {keys} ASN-days (at most {ROWS_PER_KEY} each)")
    return out


@pytest.mark.parametrize("stats", ["analysed", "never"])
def test_rounds_and_the_closer_at_20000_keys_under_generic_plans_do_work_in_proportion_to_their_keys(runtime, stats):
    """A round of the worker's own size with the whole backlog still marked (the 7-minute sweep
    was one of those), then one round of every key left, then the closer reaching the next days
    of the whole roster; with the statistics of a live database and with none at all."""
    day = a_past_workday()
    with runtime.engine.begin() as conn:
        load(conn, day, stats)
    plans = Plans(runtime.engine).watch()
    check_rounds(runtime, plans, day)


def test_a_plan_made_while_the_queue_was_empty_is_not_used_on_a_full_one(runtime):
    """The stall after an upload (48.5 s, then 284.75 s in the ingest benchmark): the worker polls
    an empty queue every second, so its claim was prepared and its generic plan made while
    ``dirty_days`` was empty and vacuumed (one row estimated), and kept until the table was
    analysed again; on the upload's markers that plan rescanned the table for each of its rows
    (one claim of 1,000 markers: 80 s; of 20,000: not finished in 10 minutes). Here the worker's
    statements run often enough on the empty queue, on the connections they then run on, for
    psycopg and the server to keep a plan of every one (prepared at once, generic), before the
    upload's markers come."""
    day = a_past_workday()
    with runtime.engine.begin() as conn:
        load(conn, day, "empty queue")
        conn.execute(text("INSERT INTO dirty_days (nip, day) SELECT :nip, :day FROM generate_series(1, 50)"),
                     {"nip": nip(1), "day": day - timedelta(days=1)})
    worker = day_worker(runtime)
    plans = Plans(runtime.engine).watch()
    for _ in range(3):  # each statement of a round run on the same connection, its plan kept
        worker.run_round()
    with runtime.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("DELETE FROM dirty_days"))
        conn.execute(text("VACUUM dirty_days"))  # what autovacuum does to a drained queue
        assert conn.execute(text("SELECT relpages FROM pg_class WHERE relname = 'dirty_days'")).scalar() == 0
    for _ in range(12):  # idle polls: more than psycopg's 5 and the server's 5 custom plans
        assert not worker.run_round().worked
    with runtime.engine.begin() as conn:
        mark_all(conn, day)
    check_rounds(runtime, plans, day)


def check_rounds(runtime, plans: "Plans", day: date) -> None:
    parts = []  # (what, ASN-days, its plans)
    try:
        worker = day_worker(runtime)
        for what, chunk in (("a round of the default size", worker.chunk), ("a round of every key left", 2 * N)):
            worker.chunk = chunk
            first = len(plans.plans)
            done = worker.run_round()
            assert done.days == done.published > 0
            parts.append((what, done.days, plans.plans[first:]))
        first = len(plans.plans)
        with runtime.session() as s, s.begin():
            s.execute(text("INSERT INTO closing_cursors (agency, closed_through) VALUES (:a, :d)"),
                      {"a": AGENCY, "d": day})
            close_due_days(s, zone_of=lambda agency: WIB,
                           now=datetime.combine(day + timedelta(days=4), time(9), tzinfo=WIB))
        parts.append(("the closer", N, plans.plans[first:]))
    finally:
        plans.stop()
    assert sum(days for what, days, _ in parts[:2]) == N
    texts = [p["Query Text"] for _, _, part in parts[:2] for p in part]
    # the check saw the rounds' statements, under their generic plans
    for statement in ("DELETE FROM dirty_days", "INSERT INTO day_summaries", "INSERT INTO outbox", "FROM punches",
                      "FROM discipline_alerts"):
        assert any(statement in t for t in texts), (statement, texts)
    assert any(LIST_PARAMETER.search(json.dumps(p)) for _, _, part in parts for p in part), \
        "no plan shows a list parameter: not generic plans?"
    found = {f"{what}: {p['Query Text'][:300]}": f for what, days, part in parts for p in part
             if (f := faults(p, days))}
    assert not found, json.dumps(found, indent=1)
    with runtime.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM dirty_days WHERE day = :d"), {"d": day}).scalar() == 0
