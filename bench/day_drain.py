"""Where the seconds after an upload go, not a benchmark: one bench_ingest-style upload (ADMS or
JSON, ``--people`` ASN, one punch each, the real processes on a throwaway PostgreSQL with
``pg_stat_statements``), then, from the database itself:

- the day worker's rounds: every record a round writes has the round's ``updated_at``, so the
  records of the day grouped by it are the rounds (keys each, when, the gaps between them), split
  into those before and after the last answer;
- each process's CPU during the upload and during the drain (``benchlib.cpu``; its ``postgresql``
  is every PostgreSQL process on the machine, so only a quiet machine gives this cluster's);
- kehadiran's statements by backend time over the upload and drain (``pg_stat_statements``).

    .venv/bin/python bench/day_drain.py --mode adms --people 20000

Counts and a time line for deciding a change on a loaded machine; the figure itself is
bench_ingest's, taken on a quiet one.
"""
from __future__ import annotations

import argparse
import statistics
from datetime import datetime, timezone
from pathlib import Path
import tempfile

import psycopg
from sqlalchemy import text

import bench_ingest as bi
from benchlib import cpu, own_broker
from benchlib.day_summaries import summarised
from benchlib.db import Db, load_statement_stats
from benchlib.ingest_clients import adms_run, json_run
from benchlib.system import wait_for, workdays_back
from kinerja.testing import create_postgres_database
from kinerja.testing.postgres_fixtures import ThrowawayPostgres


def statements(server: str, dbname: str, top: int) -> list[tuple]:
    with psycopg.connect(server, autocommit=True) as c:
        return c.execute(
            "SELECT s.calls, s.rows, s.total_exec_time, left(regexp_replace(s.query, '\\s+', ' ', 'g'), 110) "
            "FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid WHERE d.datname = %s "
            "ORDER BY s.total_exec_time DESC LIMIT %s", (dbname, top)).fetchall()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mode", default="adms", help="adms, json, single, or several in order (adms,json: bench_ingest's "
                    "order, --runs of each in one stack)")
    ap.add_argument("--people", type=int, default=20000)
    ap.add_argument("--runs", type=int, default=1, help="uploads, a fresh day each (the first warms the tables); "
                    "KEHADIRAN_DAY_WORKER_LANES etc. in the environment reach the stack")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--threads", type=int, default=16)
    ap.add_argument("--top", type=int, default=10)
    args = ap.parse_args()
    # bench_ingest's arguments, as its defaults have them
    bargs = argparse.Namespace(people=args.people, single=1, adms_devices=20, adms_batch=100, json_clients=8,
                               json_batch=200, single_devices=50, workers=args.workers, threads=args.threads)
    pg = ThrowawayPostgres()
    server = pg.start()
    try:
        load_statement_stats(pg, server)
        urls = {svc: create_postgres_database(server) for svc in bi.SERVICES}
        with own_broker(6) as bootstrap:
            stack = bi.start("PostgreSQL", urls, bootstrap, bargs, Path(tempfile.mkdtemp(prefix="day-drain-")))
            dbs = {svc: Db(url, pool_size=2) for svc, url in urls.items()}
            try:
                modes = [m.strip() for m in args.mode.split(",") if m.strip()]
                # bench_ingest's days: a fresh workday each run, newest first (a weekend's records
                # carry no deductions or alerts and flattered the runs that fell on one)
                days = workdays_back(len(modes) * args.runs)
                for m, mode in enumerate(modes):
                    for run in range(args.runs):
                        probe(stack, dbs, server, urls, args, bargs, run, mode, days[m * args.runs + run])
            finally:
                for db in dbs.values():
                    db.close()
                stack.stop()
    finally:
        pg.stop()


def probe(stack, dbs, server, urls, args, bargs, run: int, mode: str, day) -> None:
    name = urls["kehadiran"].rsplit("/", 1)[1]
    with psycopg.connect(server, autocommit=True) as c:
        c.execute("SELECT pg_stat_statements_reset()")
    pids = cpu.stack_pids(stack)
    c0 = cpu.snapshot(pids)
    t0 = datetime.now(timezone.utc)
    # single: bench_ingest's one-line requests from 50 devices at once (use --people 5000, as it does)
    upload = json_run if mode == "json" else adms_run
    parallel = {"adms": bargs.adms_devices, "json": bargs.json_clients, "single": bargs.single_devices}[mode]
    batch = {"adms": bargs.adms_batch, "json": bargs.json_batch, "single": 1}[mode]
    accepted = upload(stack.url("kehadiran"), day, range(1, args.people + 1), parallel, batch)
    t1 = datetime.now(timezone.utc)
    c1 = cpu.snapshot(pids)
    drain_s = wait_for(lambda: summarised(dbs["kehadiran"], day, args.people), 600, "day summaries")
    t2 = datetime.now(timezone.utc)
    c2 = cpu.snapshot(pids)
    with dbs["kehadiran"].engine.connect() as c:
        rows = c.execute(text("SELECT updated_at, count(*) FROM day_summaries WHERE day = :d GROUP BY updated_at "
                              "ORDER BY updated_at"), {"d": day}).all()

    def at(v):
        v = datetime.fromisoformat(v) if isinstance(v, str) else v
        return v if v.tzinfo else v.replace(tzinfo=timezone.utc)

    rounds = [((at(u) - t1).total_seconds(), n) for u, n in rows]
    upload_s = (t1 - t0).total_seconds()
    before = [n for s, n in rounds if s <= 0]
    after = [n for s, n in rounds if s > 0]
    print(f"\nrun {run + 1}, {mode}, {day}: {accepted:,} punches in {upload_s:.2f} s ({accepted / upload_s:,.0f}/s); "
          f"day summaries {drain_s:.2f} s after the last answer")
    print(f"  rounds during the upload: {len(before)}, {sum(before):,} keys "
          f"(median {statistics.median(before) if before else 0:.0f} a round); "
          f"after: {len(after)}, {sum(after):,} keys (median {statistics.median(after) if after else 0:.0f})")
    print("  round ends, s from the last answer (keys): " + ", ".join(f"{s:+.2f} ({n})" for s, n in rounds))
    for label, a, b, wall in (("upload", c0, c1, upload_s), ("drain", c1, c2, (t2 - t1).total_seconds())):
        parts = sorted(((b[k] - a.get(k, 0.0), k) for k in b), reverse=True)
        print(f"  CPU s during the {label} ({wall:.2f} s wall, {2 * wall:.2f} CPU s on 2 cores): "
              + ", ".join(f"{k} {d:.2f}" for d, k in parts if d >= 0.01))
    print(f"  kehadiran statements by backend time (upload + drain):")
    for calls, nrows, ms, query in statements(server, name, args.top):
        print(f"    {ms:9.1f} ms {calls:7d} calls {nrows:8d} rows  {query}")


if __name__ == "__main__":
    main()
