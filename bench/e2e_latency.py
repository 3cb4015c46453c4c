"""End-to-end latency: punch → kehadiran → Kafka → penilaian score updated → notifikasi stream client,
at a steady offered rate (issue 13's figures: 100 and 1,000 punches/s sustained for 60 s with 1,000
open streams, on SQLite and on PostgreSQL). Not part of the test suite.

The whole system runs as real processes as ``make run`` starts it (``kinerja.stack.Stack`` with
``kinerja up``'s settings: per service gunicorn, consumer, relay; notifikasi's webhooks and mailer;
the topics with ``KINERJA_PARTITIONS`` partitions) on its own Kafka broker (LocalBroker, free
ports, temp data dir) and, per ``--databases``, on SQLite files (``make run``'s default) or its own
PostgreSQL cluster (``ThrowawayPostgres``; one database per service). A roster of ``--asn`` ASN
(blocks of 20 under one atasan) is imported through ``pegawai.v1``; ``--streams`` of them hold a
live SSE stream (asyncio raw sockets in a separate process).

Each run sends ``rate × seconds`` punches, ``--batch`` per ``POST /api/v1/punches`` (1: single JSON
punches, as a phone sends them) from registered devices in turn, open loop: POST j is sent at
t0 + j·batch/rate whatever the earlier ones are doing (asyncio over raw keep-alive sockets,
``benchlib.rawhttp``, in ``--senders`` processes, up to ``--connections`` in flight each). Every punch is a new ASN-day: a past workday at
07:45 WIB, an arrival with no departure, so each adds TL1 0.5 % + PSW4 2 % = 2.5 % to that ASN's
month. For a streamed ASN's j-th punch in a month, its latency = arrival of the first
``score.updated`` frame for that ASN and month with disiplin ≤ 100 − 2.5·j, minus the time its POST
was sent (a frame that carries two punches at once counts for both). Every percentile counts every
accepted streamed punch: one not delivered within ``--drain`` ranks above all delivered ones. Also
printed: the rate actually sent and accepted, how far the senders fell behind their schedule, the
load average before and after each run, each consumer group's lag, and how long after the last
send the last streamed punch arrived.

    .venv/bin/python bench/e2e_latency.py --runs 3 --append BENCHMARKS.md     # the issue's figures
    .venv/bin/python bench/e2e_latency.py --databases sqlite --rates 5 --seconds 3 --runs 1 --streams 20 --asn 200   # a smoke run
"""
from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import shutil
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from benchlib import (append_markdown, fmt_spread, load, machine, machine_line, now_utc, own_broker, own_postgres,
                      spread, write_result)
from benchlib.figures import fmt_lat, lat_spread
from benchlib.lag import LagMonitor, caught_up
from benchlib.senders import Senders
from benchlib.system import publish_roster, register_devices, start_stack, team_roster, wait_for_roster, workdays_back
from e2e_run import AGENCY, Plan, Streams, nip_of, one_run


def device_sn(d: int) -> str:
    return f"BENCHE2E{d:04d}"


def start_system(bootstrap: str, database: str, pg_server: str | None, tmp: Path, n_asn: int,
                 web_workers: int | None, relays: int, devices: int, prefix: str):
    """The system as ``kinerja up`` starts it (``Stack`` with its defaults: gunicorn workers and
    threads, ``relays`` relays per service), on ``database`` (sqlite: each service's default file
    under the var dir, as ``make run``; postgresql: a database per service on ``pg_server``)."""
    from kinerja.config import DEV_JWT_SECRET
    from kinerja.stack import SERVICES
    from kinerja.testing import create_postgres_database

    var_dir = (tmp / prefix).resolve()
    if database == "postgresql":
        urls = {svc: create_postgres_database(pg_server) for svc in SERVICES}
        given = urls
    else:
        urls = {svc: f"sqlite:///{var_dir / (svc + '.db')}" for svc in SERVICES}
        given = {}  # the services' own default (KINERJA_VAR_DIR/<service>.db), as make run
    sizing = {} if web_workers is None else {"web_workers": web_workers}
    stack = start_stack(bootstrap, prefix, var_dir=var_dir, database_urls=given, relays=relays,
                        extra_env={"KINERJA_JWT_SECRET": DEV_JWT_SECRET}, **sizing)
    register_devices(stack, [device_sn(d) for d in range(devices)], AGENCY)
    publish_roster(team_roster(n_asn, nip_of, AGENCY), bootstrap, prefix)
    try:
        wait_for_roster(urls, n_asn)
    except SystemExit:
        for p in stack.procs:
            print(f"--- {p.name}\n{stack.tail(p, 40)}")
        stack.stop()
        raise
    return stack, urls




def stop_system(stack, streams: Streams | None, lagmon: LagMonitor | None) -> None:
    """Stop what of one system is running (the lag monitor, the stream clients, the stack)."""
    if lagmon is not None:
        lagmon.close()
    if streams is not None:
        streams.stop()
    if stack is not None:
        stack.stop()



def run_database(database: str, args, bootstrap: str, pg: str | None, tmp: Path, senders, days, nips, every,
                 rates, token) -> tuple[list[dict], int]:
    """Every rate's runs on one database; a system is reused while it keeps up."""
    results, systems = [], 0
    stack = streams = lagmon = plan = None
    try:
        for rate in rates:
            runs = []
            for k in range(args.runs):
                if stack is None:
                    systems += 1
                    prefix = f"{database[:2]}{rate}n{k}"
                    began = time.monotonic()
                    stack, _urls = start_system(bootstrap, database, pg, tmp, args.asn, args.web_workers, args.relays,
                                                args.devices, prefix)
                    streams = Streams(stack.ports["notifikasi"], nips, args.stream_processes)
                    streams.wait_ready(300)
                    lagmon = LagMonitor(bootstrap, prefix)
                    plan = Plan(args.asn, every, days)
                    warm = one_run(stack, streams, senders, plan, token, 20, 2.0, args.connections, 60, 1)
                    if warm["delivered"] == 0:
                        raise SystemExit("no streamed punch reached its stream in the warm-up; logs in " + str(tmp))
                    print(f"[{database} {prefix}] system up, roster of {args.asn} in every service, {len(nips)} streams, "
                          f"warm-up {warm['delivered']}/{warm['streamed']} delivered: {time.monotonic() - began:.0f} s",
                          flush=True)
                    caught_up(lagmon, 60)
                r = one_run(stack, streams, senders, plan, token, rate, args.seconds, args.connections, args.drain,
                            args.batch, lagmon, args.http_timeout)
                r["system"] = systems
                runs.append(r)
                print(f"{database} {rate}/s run {k + 1} (system {systems}): sent {r['sent_per_s']}/s (sender max lag "
                      f"{r['max_sender_lag_s']} s), accepted {r['accepted']}/{r['punches']} = {r['accepted_per_s']}/s "
                      f"{r['failures'] or ''}; HTTP p50/p99 {r['http_response_ms']['p50']}/{r['http_response_ms']['p99']} ms; "
                      f"e2e {r['delivered']}/{r['streamed']} streamed p50/p95/p99 {r['latency_ms']['p50']}/"
                      f"{r['latency_ms']['p95']}/{r['latency_ms']['p99']} ms (None: not delivered within "
                      f"{args.drain:.0f} s); kept up: {r['kept_up']}; last delivered "
                      f"{r['last_delivery_after_last_send_s']} s after the last send (load {r['load_before']} → "
                      f"{r['load_after']}); consumer groups: {r['consumer_lag']}", flush=True)
                # a system that kept up is reused once its consumer groups are back at lag 0; one that
                # fell behind is replaced (new databases, new topics), so a backlog never slows the next run
                if not (r["kept_up"] and caught_up(lagmon, 60)):
                    print("this run's backlog has not drained: a fresh system for the next run", flush=True)
                    stop_system(stack, streams, lagmon)
                    stack = streams = lagmon = None
            results.append({"database": database, "offered_per_s": rate, "runs": runs,
                            "achieved_accepted_per_s": spread([r["accepted_per_s"] for r in runs], 1),
                            **{q: lat_spread([r["latency_ms"][q] for r in runs]) for q in ("p50", "p95", "p99")}})
    finally:
        stop_system(stack, streams, lagmon)
    return results, systems


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--databases", default="sqlite,postgresql", help="sqlite (make run's default), postgresql, or both")
    ap.add_argument("--rates", default="100,1000", help="offered punches per second, one set of runs each")
    ap.add_argument("--seconds", type=float, default=60.0, help="sending time per run (sustained)")
    ap.add_argument("--runs", type=int, default=3, help="runs per database and rate; the median is reported")
    ap.add_argument("--asn", type=int, default=10_000)
    ap.add_argument("--streams", type=int, default=1000, help="ASN holding an open SSE stream")
    ap.add_argument("--stream-processes", type=int, default=1, help="processes holding the streams")
    ap.add_argument("--web-workers", type=int, default=None,
                    help="gunicorn workers per service (default: as make run, kinerja.stack.Stack's)")
    ap.add_argument("--relays", type=int, default=int(os.environ.get("KINERJA_RELAYS") or 1),
                    help="outbox relays per publishing service (default: as make run, KINERJA_RELAYS or 1)")
    ap.add_argument("--devices", type=int, default=50, help="registered devices the POSTs come from, in turn")
    ap.add_argument("--batch", type=int, default=1, help="punches per POST (1: single JSON punches, as a phone)")
    ap.add_argument("--senders", type=int, default=2, help="sender processes sharing the POSTs")
    ap.add_argument("--client", default="raw", choices=("raw", "aiohttp"),
                    help="the senders' HTTP client: raw keep-alive sockets (benchlib.rawhttp), or aiohttp as before")
    ap.add_argument("--connections", type=int, default=500, help="client connections in flight at most, per sender")
    ap.add_argument("--drain", type=float, default=120.0, help="seconds to wait for the streamed punches after a run")
    ap.add_argument("--http-timeout", type=float, default=120.0,
                    help="a POST not answered in this many seconds counts as not accepted")
    ap.add_argument("--append", type=Path, default=None)
    ap.add_argument("--durable", action="store_true",
                    help="the throwaway PostgreSQL flushes its commits to disk (its defaults), not fsync off")
    args = ap.parse_args()
    from kinerja.auth import issue_token
    from kinerja.config import DEV_JWT_SECRET, default_partitions

    databases = [d.strip() for d in args.databases.split(",") if d.strip()]
    assert set(databases) <= {"sqlite", "postgresql"}, databases
    every = max(1, args.asn // args.streams)
    rates = [int(r) for r in args.rates.split(",")]
    # every punch a new ASN-day; one system may serve every run of a database
    need = sum(rates) * args.runs * args.seconds / args.asn + 5
    days = workdays_back(int(need) + 5)
    m = machine()
    load_before = load()
    print(f"machine: {machine_line(m)}; load average before {load_before}", flush=True)
    tmp = Path(tempfile.mkdtemp(prefix="bench-e2e-"))
    results: list[dict] = []
    systems = 0
    token = [issue_token(DEV_JWT_SECRET, role="device", agency=AGENCY, device_sn=device_sn(d))
             for d in range(args.devices)]
    nips = [nip_of(i) for i in range(args.asn) if i % every == 3]
    try:
        with own_broker() as bootstrap, \
                ProcessPoolExecutor(args.senders, mp_context=mp.get_context("spawn")) as pool:
            senders = Senders(pool, args.senders, args.client)
            for database in databases:
                if database == "postgresql":
                    with own_postgres(durable=args.durable) as pg:
                        out, n = run_database(database, args, bootstrap, pg, tmp, senders, days, nips, every, rates, token)
                    for r in out:
                        r["database"] += " durable" if args.durable else ""
                else:
                    out, n = run_database(database, args, bootstrap, None, tmp, senders, days, nips, every, rates, token)
                results += out
                systems += n
    finally:
        if not os.environ.get("KEEP_BENCH"):
            shutil.rmtree(tmp, ignore_errors=True)
    load_after = load()
    from kinerja.stack import web_workers_setting

    # what the stack started kehadiran with: the option, else KEHADIRAN_WEB_WORKERS, else the default
    web_workers = args.web_workers or web_workers_setting(os.environ, "kehadiran")
    result = {"when": now_utc(), "machine": m, "load_before": load_before, "load_after": load_after,
              "databases": databases, "batch": args.batch, "devices": args.devices, "asn": args.asn,
              "streams": len(nips), "seconds": args.seconds, "web_workers": web_workers, "relays": args.relays,
              "partitions": default_partitions(), "rates": results}
    write_result("e2e_latency", result)
    table = ["| database | offered punches/s | sent /s | accepted /s | e2e p50 ms | e2e p95 ms | e2e p99 ms | streamed delivered | kept up | last delivery after last send | HTTP p50 / p99 ms | load before → after |",
             "|---|---:|---|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        runs = r["runs"]
        table.append(
            f"| {r['database']} | {r['offered_per_s']:,} | {', '.join(str(x['sent_per_s']) for x in runs)} | "
            f"{fmt_spread(r['achieved_accepted_per_s'])} | {fmt_lat(r['p50'])} | {fmt_lat(r['p95'])} | "
            f"{fmt_lat(r['p99'])} | {', '.join(str(x['delivered']) + '/' + str(x['streamed']) for x in runs)} | "
            f"{', '.join('yes' if x['kept_up'] else 'no' for x in runs)} | "
            f"{', '.join(str(x['last_delivery_after_last_send_s']) + ' s' for x in runs)} | "
            f"{', '.join(str(x['http_response_ms']['p50']) + ' / ' + str(x['http_response_ms']['p99']) for x in runs)} | "
            f"{', '.join(x['load_before'] + ' → ' + x['load_after'] for x in runs)} |")
    print("\n" + "\n".join(table))
    if args.append:
        cmd = " ".join(["bench/e2e_latency.py", *sys.argv[1:]])
        text = "\n".join([
            f"\n## End to end: punch → kehadiran → Kafka → penilaian → notifikasi stream ({result['when']})\n",
            f"- machine: {machine_line(m)}; load average (1/5/15 min) before {load_before}, after {load_after} "
            "(per run in the table). The senders, the stream clients, the broker and PostgreSQL run on this machine too.",
            f"- command: `.venv/bin/python {cmd}`",
            f"- the whole system as real processes as `make run` starts it (`kinerja.stack.Stack`: gunicorn {web_workers} "
            f"worker(s) per service, each service's consumer and {args.relays} relay(s), notifikasi's webhooks and mailer; "
            f"topics with {default_partitions()} partitions) on its own Kafka 4.3 broker; SQLite: each service's file under the "
            "var dir (make run's default); PostgreSQL: ThrowawayPostgres, "
            + ("PostgreSQL's own durability settings (commits flushed to disk)" if args.durable else "fsync off")
            + ", one database per service. Roster of "
            f"{args.asn:,} ASN (blocks of 20 under one atasan) through `pegawai.v1`; {len(nips):,} of them hold a live SSE "
            f"stream. Open loop: {args.batch} punch(es) per `POST /api/v1/punches`, from {args.devices} registered devices "
            f"in turn, POST j sent at t0 + j·{args.batch}/rate by {args.senders} asyncio sender processes ({args.client} client) "
            f"(≤ {args.connections} connections each), {args.seconds:.0f} s per run, every punch a new ASN-day (past "
            "workday 07:45, no departure: −2.5 %); latency = first `score.updated` frame on that ASN's stream whose month "
            "disiplin includes the punch − the time its POST was sent. "
            f"Median (min–max) of {args.runs} runs per database and rate; 'sent' shows whether the senders kept the "
            "offered rate. Every percentile is over every accepted streamed punch: one not delivered within the drain "
            f"({args.drain:.0f} s after the run's last send) ranks above all delivered ones, so 'not delivered' means that "
            "share had not arrived by then. 'kept up': every punch accepted and every streamed one delivered within the "
            "drain; a system that kept up serves the next run once its consumer groups are back at lag 0, one that did "
            f"not is replaced by a fresh one ({systems} system(s) started in all).\n",
            *table, ""])
        append_markdown(args.append, text)


if __name__ == "__main__":
    main()
