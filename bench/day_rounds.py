"""The day worker's cost in-process, not a benchmark: ``--people`` ASN punch once each through
ADMS requests (the app's test client, batches of 1,000 lines), then one ``DayWorker`` works the
dirty ASN-days until none is left. Prints, per database: rounds, CPU ms per ASN-day (this
process's CPU time, so the machine's load does not enter it; on PostgreSQL the CPU time of the
backends it used too), SQL statements per round and per
ASN-day, and with ``--profile`` the top of a cProfile of the rounds.

    .venv/bin/python bench/day_rounds.py --db both --people 20000 --profile 25

Load-independent figures for deciding a change; they are not figures of the issues (the ingest
benchmark measures those, on a quiet machine).
"""
from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import tempfile
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import event, text

from kehadiran.adapters.orm import Employee
from kehadiran.entrypoints.app import create_app
from kehadiran.entrypoints.migrate import main as migrate
from kehadiran.entrypoints.runtime import day_worker
from kehadiran.service_layer.schedules import track_from
from kinerja.auth import issue_token
from kinerja.config import DEV_JWT_SECRET
from kinerja.gc_tuning import tune_gc
from benchlib.db import load_statement_stats
from kinerja.testing import create_postgres_database
from kinerja.testing.postgres_fixtures import ThrowawayPostgres
from kinerja.webapp import runtime_of

AGENCY = "bench"
SN = "ROUND0001"
WIB = timezone(timedelta(hours=7))
OPERATOR = {"Authorization": "Bearer " + issue_token(DEV_JWT_SECRET, role="operator", agency="*")}


def a_past_workday() -> date:
    day = datetime.now(WIB).date() - timedelta(days=2)
    while day.weekday() > 3:
        day -= timedelta(days=1)
    return day


def setup(url: str, people: int, day: date):
    migrate(url)
    app = create_app({"database_url": url, "kafka_bootstrap": "127.0.0.1:1"})
    r = app.test_client().post("/api/v1/devices", json={"sn": SN, "agency": AGENCY, "tz": 7}, headers=OPERATOR)
    assert r.status_code == 201, r.json
    runtime = runtime_of(app)
    # the roster as the pegawai consumer leaves it (its rows; the consumer's own cost is not measured here)
    with runtime.session() as s, s.begin():
        s.add_all(Employee(nip=f"19900101{i:010d}", nama=f"ASN {i}", agency=AGENCY, unit=f"Unit {i // 500}",
                           active=True, pin=str(i), pin_key=str(i)) for i in range(1, people + 1))
        s.flush()
        for i in range(1, people + 1):
            track_from(s, f"19900101{i:010d}", day - timedelta(days=30))
    client = app.test_client()
    lines = [f"{i}\t{day} 07:{10 + i % 40:02d}:{i % 60:02d}\t0\t1\t0\t0\t0" for i in range(1, people + 1)]
    for k in range(0, len(lines), 1000):
        r = client.post(f"/iclock/cdata?SN={SN}&table=ATTLOG", data="\n".join(lines[k:k + 1000]).encode(),
                        content_type="text/plain")
        assert r.status_code == 200 and r.text.startswith("OK:"), r.text
    with runtime.engine.connect() as c:
        assert c.execute(text("SELECT count(DISTINCT nip) FROM dirty_days")).scalar() == people
    return app, runtime


def rounds(runtime, profile: int, chunk: int | None, stats_server: str | None = None) -> None:
    kw = {"chunk": chunk} if chunk else {}
    if stats_server is not None:
        reset_statements(stats_server)
    worker = day_worker(runtime, **kw)
    statements: list[int] = []

    spent: dict[str, list[float]] = {}

    backends: dict[int, float] = {}  # PostgreSQL backend pid: its CPU seconds when first seen

    def count(conn, cursor, statement, *args):
        statements[-1] += 1
        pid = getattr(getattr(conn.connection.dbapi_connection, "info", None), "backend_pid", None)
        if pid is not None and pid not in backends:
            backends[pid] = backend_cpu_s(pid)
        conn.info["day_rounds_t0"] = time.perf_counter()

    def timed(conn, cursor, statement, *args):
        key = " ".join(statement.split())[:70]
        entry = spent.setdefault(key, [0, 0.0])
        entry[0] += 1
        entry[1] += time.perf_counter() - conn.info.pop("day_rounds_t0", time.perf_counter())

    tune_gc()  # as the day worker process does once it has started (``entrypoints.worker``)
    event.listen(runtime.engine, "before_cursor_execute", count)
    event.listen(runtime.engine, "after_cursor_execute", timed)
    prof = cProfile.Profile(time.process_time) if profile else None  # CPU time: the load does not enter it
    cpu0, wall0, n, days, published = time.process_time(), time.perf_counter(), 0, 0, 0
    try:
        while True:
            statements.append(0)
            if prof:
                prof.enable()
            done = worker.run_round()
            if prof:
                prof.disable()
            if not done.worked:
                statements.pop()
                break
            n, days, published = n + 1, days + done.days, published + done.published
    finally:
        event.remove(runtime.engine, "before_cursor_execute", count)
        event.remove(runtime.engine, "after_cursor_execute", timed)
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    server = sum(backend_cpu_s(pid) - at for pid, at in backends.items())
    print(f"  chunk {worker.chunk}: {n} rounds, {days} ASN-days, {published} published; "
          f"CPU {cpu * 1000 / max(days, 1):.3f} ms per ASN-day ({cpu:.2f} s; wall {wall:.2f} s, loaded machine); "
          + (f"PostgreSQL backends' CPU {server * 1000 / max(days, 1):.3f} ms per ASN-day ({server:.2f} s); "
             if backends else "") +
          f"statements per round {min(statements, default=0)}..{max(statements, default=0)}, "
          f"{sum(statements) / max(days, 1):.3f} per ASN-day")
    print("  wall per statement kind (SQLAlchemy's own; the hand-written ones on the DBAPI cursor are not seen):")
    for key, (k, t) in sorted(spent.items(), key=lambda kv: -kv[1][1])[:12]:
        print(f"    {t * 1000:8.1f} ms  {k:5d} x  {key}")
    if stats_server is not None:
        print("  backend time per statement (pg_stat_statements; planning included):")
        for calls, rows, ms, query in statement_times(stats_server, runtime.engine.url.database):
            print(f"    {ms:8.1f} ms  {calls:5d} x  {rows:6d} rows  {query}")
    if prof:
        out = io.StringIO()
        pstats.Stats(prof, stream=out).sort_stats("tottime").print_stats(profile)
        print(out.getvalue())


def reset_statements(server: str) -> None:
    import psycopg
    with psycopg.connect(server, autocommit=True) as c:
        c.execute("SELECT pg_stat_statements_reset()")


def statement_times(server: str, dbname: str, top: int = 12) -> list[tuple]:
    import psycopg
    with psycopg.connect(server, autocommit=True) as c:
        return c.execute(
            "SELECT s.calls, s.rows, round((s.total_exec_time + s.total_plan_time)::numeric, 1), "
            "left(regexp_replace(s.query, '\\s+', ' ', 'g'), 100) FROM pg_stat_statements s "
            "JOIN pg_database d ON d.oid = s.dbid WHERE d.datname = %s "
            "ORDER BY s.total_exec_time + s.total_plan_time DESC LIMIT %s", (dbname, top)).fetchall()


def backend_cpu_s(pid: int) -> float:
    """CPU seconds (user + system) of a local process: a PostgreSQL backend of the throwaway
    cluster (0 when it is not on this machine or gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--people", type=int, default=20000)
    parser.add_argument("--chunk", type=int, default=None, help="markers a round claims (the worker's default)")
    parser.add_argument("--profile", type=int, default=0, help="print this many cProfile lines")
    parser.add_argument("--statements", action="store_true",
                        help="PostgreSQL: each statement's backend time (pg_stat_statements, a restart of the cluster)")
    args = parser.parse_args()
    day = a_past_workday()
    with tempfile.TemporaryDirectory() as tmp:
        if args.db in ("sqlite", "both"):
            print(f"SQLite, {args.people} ASN-days")
            _, runtime = setup(f"sqlite:///{Path(tmp) / 'rounds.db'}", args.people, day)
            rounds(runtime, args.profile, args.chunk)
            runtime.dispose()
        if args.db in ("postgresql", "both"):
            pg = ThrowawayPostgres()
            server = pg.start()
            try:
                if args.statements:
                    load_statement_stats(pg, server)
                print(f"PostgreSQL, {args.people} ASN-days")
                _, runtime = setup(create_postgres_database(server), args.people, day)
                rounds(runtime, args.profile, args.chunk, server if args.statements else None)
                runtime.dispose()
            finally:
                pg.stop()


if __name__ == "__main__":
    main()
