"""How fast kehadiran accepts punches, and how soon what follows is done: ADMS ``ATTLOG`` lines/s
(20 devices x 100-line batches), JSON punches/s (200 a request) and single-punch requests/s (50
devices, one line a request, as ``Realtime=1`` terminals push), on SQLite and on PostgreSQL,
against the real processes (``kinerja.stack``: kehadiran's gunicorn, day worker, consumer and
relay; penilaian's consumer; a local broker). Not part of the test suite.

A punch counts once it is accepted: stored with its outbox event and its day's dirty marker in
one transaction, and acknowledged to the client. After each run two more figures, from the last
answer on:

- day summaries in the outbox: every ASN-day of the run has its ``kehadiran.day.summarized.v1``
  row (the day worker's work), the issue's "after the last punch of a 20,000-line upload" for
  the ADMS run;
- applied by penilaian: penilaian's ``day_facts`` hold every one of those days (relay, broker,
  penilaian's consumer), so the pipeline behind the ingest is held to account too
  (``benchlib.day_summaries``). A run whose day summaries stall keeps the logs
  (``benchlib.stall_logs``).

Every figure is also given as a ratio to a limit taken in the same run: the same client sending the
same requests to a minimal standard-library server that stores nothing (``benchlib.stdlib_limit``).
The client (``benchlib.ingest_clients``) is ``http.client`` on one keep-alive connection per device
thread (``benchlib.keepalive``): ``requests`` cost about 1.4 ms of client CPU a request, taken from
the server on two cores.

Each run is a Monday-morning rush on a fresh workday: ``--people`` ASN with one punch each (the
single-punch run ``--single`` of them). Prints median and spread of ``--runs`` runs, and checks
that every accepted punch was stored exactly once with its event.

    .venv/bin/python bench/bench_ingest.py --db both --runs 3 --append BENCHMARKS.md
    .venv/bin/python bench/bench_ingest.py --db sqlite --runs 1 --people 400 --single 200   # a smoke run

An A/B of gunicorn's shape: ``--shape`` twice or more (``WORKERSxTHREADS``) runs a fresh stack of
each shape in turn, ``--passes`` times (A B A B ...), against one stdlib limit; ``--modes`` keeps
only the runs asked for (``single`` alone: the single-punch figure in a few minutes):

    .venv/bin/python bench/bench_ingest.py --db postgresql --modes single --people 5000 --runs 3 \\
        --shape 2x16 --shape 1x16 --passes 2 --cpu

(``--cpu``: each run's CPU a punch by process, from the run's start until penilaian applied its
days, ``benchlib.cpu``: a figure that a loaded machine disturbs less than requests/s.)

PostgreSQL: ``KINERJA_TEST_POSTGRES_URL`` (a maintenance database URL), else a throwaway cluster
from Debian's binaries; the broker: ``KINERJA_BENCH_KAFKA_BOOTSTRAP``, else a local one.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path

from kinerja.stack import WEB_THREADS, WEB_WORKERS, Stack
from kinerja.testing import create_postgres_database

from benchlib import (append_markdown, cpu, ingest_report, load, machine, now_utc, own_broker, own_postgres, spread,
                      write_result)
from benchlib.day_summaries import punch_to_summary, until_summarised_and_applied
from benchlib.db import Db
from benchlib.ingest_clients import AGENCY, adms_run, json_run, sn
from benchlib.stall_logs import StallLogs
from benchlib.stdlib_limit import stdlib_server
from benchlib.system import publish_roster, register_devices, start_stack, wait_for, workdays_back

SERVICES = ("kehadiran", "penilaian")


def nip_of(i: int) -> str:
    return f"19900101{i:010d}"


def start(kind: str, database_urls: dict[str, str], bootstrap: str, args, workdir: Path) -> Stack:
    prefix = f"bench{kind.lower().replace(' ', '')}{int(time.time())}"
    var_dir, n = workdir / kind, 1
    while var_dir.exists():  # a later stack of an A/B (``--shape``): its own files and logs
        var_dir, n = workdir / f"{kind}.{n}", n + 1
    stack = start_stack(bootstrap, prefix, partitions=6, var_dir=var_dir, services=SERVICES,
                        database_urls=database_urls, web_workers=args.workers, web_threads=args.threads,
                        extra_env={"KINERJA_LOG_LEVEL": "WARNING"})
    register_devices(stack, [sn(c) for c in range(max(args.adms_devices, args.single_devices, args.json_clients))],
                     AGENCY, operator_agency="*")
    # every run's ASN must be on the roster: a PIN without one is quarantined and its day never summarised
    roster = max(args.people, args.single)
    publish_roster([f"{nip_of(i)},ASN {i},{AGENCY},Unit {i // 500},Analis,,{i}" for i in range(1, roster + 1)],
                   bootstrap, prefix)
    dbs = {svc: Db(url, pool_size=2) for svc, url in database_urls.items()}
    try:
        wait_for(lambda: all(dbs[s].scalar("SELECT count(*) FROM employees") >= roster for s in SERVICES), 600,
                 "the roster reached kehadiran and penilaian")
        wait_for(lambda: dbs["kehadiran"].scalar("SELECT count(*) FROM dirty_pins") == 0, 600,
                 "kehadiran's worker went through the roster's PINs")
    finally:
        for db in dbs.values():
            db.close()
    return stack


# --modes: the short names of MODES' runs
MODE_NAMES = {"adms": "ADMS lines", "json": "JSON punches", "single": "single-punch requests"}
MODES = {
    # name: (run, devices or clients argument, punches a request argument, people argument)
    "ADMS lines": (adms_run, "adms_devices", "adms_batch", "people"),
    "JSON punches": (json_run, "json_clients", "json_batch", "people"),
    "single-punch requests": (adms_run, "single_devices", None, "single"),
}


def one_run(stack: Stack, dbs: dict[str, Db], name: str, day: date, args,
            database_urls: dict[str, str] | None = None) -> dict:
    run, parallel, batch, people = MODES[name]
    n = getattr(args, people)
    who = range(1, n + 1)
    cpu_now = None
    if args.cpu:  # this benchmark's PostgreSQL backends by service (SQLite: none) and its broker
        urls = database_urls or {}
        pg_url = next((u for u in urls.values() if u.startswith("postgres")), None)
        pg_dbs, pg_port = cpu.pg_databases(urls), cpu.pg_port(pg_url)

        def cpu_now() -> dict[str, float]:
            return cpu.snapshot(cpu.stack_pids(stack), None, pg_dbs, pg_port)

    cpu_before = cpu_now() if cpu_now is not None else None
    started = time.perf_counter()
    accepted = run(stack.url("kehadiran"), day, who, getattr(args, parallel), getattr(args, batch) if batch else 1)
    ingest_s = time.perf_counter() - started
    # the day worker's work left at the last answer (one count, a few ms of backend once): what the
    # figure after it is made of, where the seconds alone do not say whether the worker fell behind
    # during the upload or is slow after it
    left = dbs["kehadiran"].scalar("SELECT count(*) FROM dirty_days")
    # from the last answer: every ASN-day of the run summarised in the outbox, then applied by penilaian
    summaries_s, applied_s = until_summarised_and_applied(dbs, day, n, name)
    if cpu_now is not None:  # until penilaian applied the run's days: the pipeline behind the requests too
        print(f"{name}, {day}: " + cpu.report(cpu_before, cpu_now(), n, time.perf_counter() - started), flush=True)
    latency = punch_to_summary(dbs["kehadiran"], day)
    # each stored punch has its event id (its outbox row was written in the same transaction)
    stored = dbs["kehadiran"].scalar(
        "SELECT count(*) FROM punches WHERE event_id IS NOT NULL AND device_time >= :a AND device_time < :b",
        a=datetime.combine(day, datetime.min.time()), b=datetime.combine(day + timedelta(days=1), datetime.min.time()))
    assert accepted == n and stored == n, (accepted, stored, n)
    return {"rate": n / ingest_s, "summaries_s": summaries_s, "applied_s": applied_s, "latency_ms": latency,
            "left": left}


def limits(args) -> dict[str, dict]:
    """Each mode's same client, same requests, against the minimal stdlib server: what the client,
    the loopback and the cores allow at all (median of ``--runs``)."""
    out = {}
    with stdlib_server() as url:
        for name in args.mode_names:
            run, parallel, batch, people = MODES[name]
            n = getattr(args, people)
            rates = []
            for _ in range(args.runs):
                started = time.perf_counter()
                run(url, date(2026, 1, 5), range(1, n + 1), getattr(args, parallel), getattr(args, batch) if batch else 1)
                rates.append(n / (time.perf_counter() - started))
            out[name] = spread(rates)
            print(f"limit (same client, stdlib server): {name} median {out[name]['median']:,.0f}/s "
                  f"runs {', '.join(f'{r:.0f}' for r in rates)}", flush=True)
    return out


def bench(kind: str, database_urls: dict[str, str], bootstrap: str, args, logs: StallLogs,
          limit: dict[str, dict]) -> list[dict]:
    stack = start(kind, database_urls, bootstrap, args, logs.workdir)
    dbs = {svc: Db(url, pool_size=2) for svc, url in database_urls.items()}
    # a fresh workday for every run (a weekend's day records carry no deductions or alerts: they are
    # cheaper for the day worker and for penilaian, and flattered the figures of runs that fell on one)
    days = workdays_back(len(MODES) * args.runs)
    rows = []
    try:
        for name in args.mode_names:
            m = list(MODES).index(name)
            results = []
            for run in range(args.runs):
                day = days[run + m * args.runs]
                results.append(one_run(stack, dbs, name, day, args, database_urls))
            rates = [r["rate"] for r in results]
            _, parallel, batch, people = MODES[name]
            per_request = getattr(args, batch) if batch else 1
            print(f"\n{kind}: {name}, {getattr(args, people):,} punches a run, {getattr(args, parallel)} in parallel, "
                  f"{per_request} a request, gunicorn {args.workers} workers x {args.threads} threads, "
                  f"load average after {os.getloadavg()[0]:.1f}")
            print(f"  accepted/s  median {statistics.median(rates):7.0f}  runs {', '.join(f'{r:.0f}' for r in rates)}"
                  f"  ({statistics.median(rates) / limit[name]['median']:.3f} of the stdlib limit)")
            summaries = ", ".join(f"{r['summaries_s']:.2f}" for r in results)
            logs.check(kind, "day summaries", [r["summaries_s"] for r in results])
            applied = ", ".join(f"{r['applied_s']:.2f}" for r in results)
            print(f"  day summaries in the outbox after the last answer (s)  {summaries}")
            print("  ASN-days left to the day worker at the last answer     "
                  + ", ".join(f"{r['left']:,}" for r in results))
            print(f"  applied by penilaian after the last answer (s)         {applied}")
            print("  a punch's arrival to its day record (ms)               " + "; ".join(
                " ".join(f"{k} {v}" for k, v in r["latency_ms"].items()) for r in results), flush=True)
            rows.append({"database": kind, "kind": name, "batch": per_request, "parallel": getattr(args, parallel),
                         "punches": getattr(args, people), "shape": f"{args.workers}x{args.threads}",
                         **spread(rates), "limit": limit[name],
                         "summaries_s": spread([r["summaries_s"] for r in results], 2),
                         "applied_s": spread([r["applied_s"] for r in results], 2),
                         "latency_ms": [r["latency_ms"] for r in results], "load_after": load()})
    finally:
        for db in dbs.values():
            db.close()
        stack.stop()
    return rows


def each_shape(shapes: list[tuple[int, int]], bench_one, args) -> list[dict]:
    """``bench_one()`` with gunicorn in each shape in turn, ``args.passes`` times over (A B A B)."""
    rows = []
    for _ in range(args.passes if len(shapes) > 1 else 1):
        for args.workers, args.threads in shapes:
            rows += bench_one()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--people", type=int, default=20000, help="ASN, one punch each, in the ADMS and JSON runs")
    parser.add_argument("--single", type=int, default=5000, help="punches of the single-punch run")
    parser.add_argument("--adms-devices", type=int, default=20)
    parser.add_argument("--adms-batch", type=int, default=100)
    parser.add_argument("--json-clients", type=int, default=8)
    parser.add_argument("--json-batch", type=int, default=200)
    parser.add_argument("--single-devices", type=int, default=50)
    # kehadiran's gunicorn as ``make run`` starts it (``kinerja.stack``'s defaults), unless told
    parser.add_argument("--workers", type=int, default=WEB_WORKERS["kehadiran"], help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=WEB_THREADS["kehadiran"], help="gunicorn threads per worker")
    parser.add_argument("--modes", default="adms,json,single", help="runs to make: adms, json, single (comma-separated)")
    parser.add_argument("--shape", action="append", default=[],
                        help="WORKERSxTHREADS, e.g. 1x16; given twice or more: each shape's stack in turn (A/B), "
                        "instead of --workers/--threads")
    parser.add_argument("--cpu", action="store_true",
                        help="print each run's CPU a punch by part of the system (benchlib.cpu: the stack's "
                        "processes, PostgreSQL's backends by service, the broker, this client)")
    parser.add_argument("--passes", type=int, default=1, help="with --shape: how many times each shape runs")
    parser.add_argument("--append", type=Path, default=None, help="append the figures to this Markdown file")
    parser.add_argument("--durable", action="store_true",
                        help="the throwaway PostgreSQL flushes its commits to disk (its defaults), not fsync off")
    args = parser.parse_args()
    try:
        args.mode_names = [MODE_NAMES[m.strip()] for m in args.modes.split(",") if m.strip()]
        shapes = [tuple(int(x) for x in s.lower().split("x")) for s in args.shape] or [(args.workers, args.threads)]
        assert args.mode_names and all(len(s) == 2 and min(s) >= 1 for s in shapes)
    except (KeyError, ValueError, AssertionError):
        parser.error("--modes: adms, json, single; --shape: WORKERSxTHREADS")
    m, load_before = machine(), load()
    rows: list[dict] = []
    logs = StallLogs()
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average before {os.getloadavg()[0]:.1f}, "
          f"logs in {logs.workdir}")
    limit = limits(args)
    with own_broker(6) as bootstrap:
        if args.db in ("sqlite", "both"):
            fresh = iter(range(1_000_000))

            def urls_of() -> dict[str, str]:  # each stack its own files
                n = next(fresh)
                return {svc: f"sqlite:///{logs.workdir / 'sqlite' / svc}{'' if n == 0 else n}.db" for svc in SERVICES}

            rows += each_shape(shapes, lambda: bench("SQLite", urls_of(), bootstrap, args, logs, limit), args)
        if args.db in ("postgresql", "both"):
            # a statement over 1 s leaves its plan in PostgreSQL's log, copied to the logs' directory
            with own_postgres(slow_plans_ms=1000, keep_log=logs.postgres_log, durable=args.durable) as server:
                rows += each_shape(shapes, lambda: bench(
                    "PostgreSQL durable" if args.durable else "PostgreSQL",
                    {svc: create_postgres_database(server) for svc in SERVICES}, bootstrap, args, logs,
                    limit), args)
    logs.close()
    args.workers, args.threads = shapes[0]
    result = {"when": now_utc(), "machine": m, "load_before": load_before, "load_after": load(), "runs": args.runs,
              "workers": args.workers, "threads": args.threads, "shapes": [f"{w}x{t}" for w, t in shapes],
              "rows": rows}
    write_result("bench_ingest", result)
    table = ingest_report.table(rows)
    print("\n" + "\n".join(table))
    if args.append:
        append_markdown(args.append, ingest_report.section(result, table, sys.argv[1:]))

if __name__ == "__main__":
    main()
