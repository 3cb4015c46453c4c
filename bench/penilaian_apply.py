"""How many events penilaian applies per second: live, as ``make run`` runs it (the
``penilaian.entrypoints.consumer`` process; one, or several in one consumer group), and in a
rebuild (``kinerja scores rebuild``'s path: manual assignment from offset 0, facts stored in
batches, each ASN recomputed once). Not part of the test suite.

Each run publishes a synthetic month (``kinerja_testkit.synthetic.generate_month``: ``--asn`` ASN, two
punches and one to three versions of a day summary per workday, tasks with lifecycles,
innovations, ratings, training, dialogs, a policy version) to fresh topics with
``KINERJA_PARTITIONS`` partitions (12), starts ``--consumers`` consumer processes in one group on a
fresh database, and times the group from its first batch applied (the earliest ``processed_at``)
until its lag is 0 on every partition. Then:

- nothing lost, nothing applied twice: the events each process applied (its own
  ``kinerja_consumer_events_applied_total``, read from its metrics port) add up to the events
  recorded once in ``processed_events``, and the rebuild of the same topics by one process into
  another fresh database equals the live tables, every score and ledger (``--no-rebuild`` skips it);
- copies dropped by event id (``kinerja_consumer_duplicates_total``) are reported, split into the
  month's own re-sent copies (``generate_month`` re-sends ~1 %: 1,878 at ``--events 400000``, in
  every run) and re-deliveries after a rebalance or restart: no-ops either way, not double counts;
- CPU µs an applied event by kind of process (the consumers, the broker, PostgreSQL; ``benchlib.group_cpu``),
  from the group's first batch to lag 0, and the consumers' start-up CPU apart: with two cores, 2 s of CPU a
  second divided by the total says how many events/s the machine can give any number of consumers.

Median and spread over ``--runs`` per database and consumer count; with several counts, the ratio
of each to one consumer.

    .venv/bin/python bench/penilaian_apply.py --asn 1000 --consumers 1,3 --db both --runs 3 --append BENCHMARKS.md

Run length: a live run lasts (applied events) / (events/s), about half the messages being
applied (punches and score updates are skipped). ``--asn 1000`` (~84,000 messages) drains in
~3 s at ~4,000 events/s, and in so short a run the group's fixed start (join, first fetch, first
statements) weighs in. ``--events N`` sizes the month by messages instead (ASN = N / ~84):
``--events 400000`` (~4,800 ASN, ~195,000 events applied) lasts ≥ 15 s up to ~13,000 events/s.
Every run says how long it lasted, and the table gives each row's shortest; a run shorter than
``--min-seconds`` (15) is flagged as too short to be a stable figure.

Kafka: ``KINERJA_KAFKA_BOOTSTRAP`` (e.g. the dev broker), else a broker from ``deploy/kafka`` on a
free port. PostgreSQL: ``KINERJA_TEST_POSTGRES_URL``, else a throwaway cluster (as the tests do).
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from contextlib import ExitStack
from datetime import datetime, timezone
from pathlib import Path

import requests
from sqlalchemy import func, select

from benchlib import append_markdown, fmt_median, fresh_database, load, machine_line, now_utc, own_broker, own_postgres
from benchlib.group_cpu import GroupCpu
from benchlib.penilaian_consumers import CONSUMER, consumer_env, reap, spawn, terminate
from benchlib.penilaian_lag import GroupLag
from benchlib.publishing import publish_events
from kinerja.config import default_partitions, load_settings
from kinerja.localbroker import free_port
from kinerja.messaging.topics import ensure_topics, topic
from penilaian.entrypoints.consumer import SKIPPED_TYPES
from penilaian.entrypoints.migrate import main as migrate
from penilaian.entrypoints.rebuild import rebuild
from penilaian.entrypoints.runtime import make_runtime
from kinerja_testkit.synthetic import generate_month


MESSAGES_PER_ASN = 84  # ``generate_month``'s messages per ASN (a 30-day month, ~1 % re-sent)


def resent_copies(month) -> int:
    """Copies the month itself sends again (same id) of the types penilaian applies (not skipped)."""
    ids = [event.id for _, event in month.events if event.type not in SKIPPED_TYPES]
    return len(ids) - len(set(ids))


def cpu_line(us: dict) -> str:
    """CPU µs an applied event by kind of process (``benchlib.group_cpu``)."""
    return (f"CPU µs an event: consumers {us['consumers']:.0f}, broker {us['broker']:.0f}, PostgreSQL "
            f"{us['postgresql']:.0f}, total {us['total']:.0f} (consumers' start-up {us['startup_s']:.1f} s)")


def copies(r: dict) -> str:  # the month's own re-sent copies + re-deliveries
    return f"{r['duplicates'] - r['redelivered']} + {r['redelivered']}"


def publish(bootstrap: str, prefix: str, month) -> int:
    ensure_topics(bootstrap, prefix=prefix)  # KINERJA_PARTITIONS each
    publish_events(month.events, bootstrap, prefix, "bench-penilaian")
    return len(month.events)


def scrape(port: int) -> dict[str, float]:
    """applied / duplicates / dead_lettered totals from one consumer's /metrics."""
    out = {"applied": 0.0, "duplicates": 0.0, "dead_lettered": 0.0}
    text = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
    for name, key in (("kinerja_consumer_events_applied_total", "applied"),
                      ("kinerja_consumer_duplicates_total", "duplicates"),
                      ("kinerja_consumer_dead_lettered_total", "dead_lettered")):
        for m in re.finditer(rf"^{name}(?:{{[^}}]*}})? ([0-9.e+]+)$", text, re.M):
            out[key] += float(m.group(1))
    return out


def start_consumers(n: int, url: str, bootstrap: str, prefix: str, batch: int, logs: Path) -> list:
    procs = []
    for k in range(n):
        port = free_port()
        env = consumer_env(url, bootstrap, prefix, port, PENILAIAN_APPLY_BATCH=str(batch), KINERJA_LOG_LEVEL="WARNING")
        log = open(logs / f"{prefix}-consumer-{k + 1}.log", "ab")
        procs.append((spawn(CONSUMER, env, log), port, log))
    return procs


def stop_consumers(procs) -> None:
    for p, _, _ in procs:
        terminate(p)
    for p, _, log in procs:
        reap(p)
        log.close()


def one_run(bootstrap: str, kind: str, consumers: int, batch: int, tmp: Path, pg: str | None, month, check: bool,
            timeout_s: float) -> dict:
    prefix = "b" + uuid.uuid4().hex[:10]
    total = publish(bootstrap, prefix, month)
    url = fresh_database(kind, tmp, pg)
    migrate(url)
    runtime = make_runtime(load_settings("penilaian", {"database_url": url}))
    processed = runtime.processed_table
    lag = GroupLag(bootstrap, prefix, topic(load_settings("penilaian").consumer_group, prefix), ends_once=True)
    load_before = load()
    cpu = GroupCpu(url)
    procs = start_consumers(consumers, url, bootstrap, prefix, batch, tmp)
    cpu.watch_first_row(url, {p.pid for p, _, _ in procs})
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            dead = [p for p, _, _ in procs if p.poll() is not None]
            if dead:
                raise SystemExit(f"a consumer exited ({dead[0].returncode}); logs in {tmp}")
            if lag() == 0:
                ended = datetime.now(timezone.utc)
                cpu.mark_end()
                break
            if time.monotonic() > deadline:
                raise SystemExit(f"the group did not drain within {timeout_s:.0f} s (lag {lag()}); logs in {tmp}")
            time.sleep(0.2)
        per_process = [scrape(port) for _, port, _ in procs]
        applied_now = int(sum(p["applied"] for p in per_process))
        cpu_us = cpu.per_event(applied_now)
    finally:
        stop_consumers(procs)
        lag.close()
    load_after = load()
    with runtime.session() as s:
        recorded, first = s.execute(select(func.count(), func.min(processed.c.processed_at))).one()
    runtime.dispose()
    if first.tzinfo is None:
        first = first.replace(tzinfo=timezone.utc)
    live_s = max((ended - first).total_seconds(), 1e-3)
    applied = [int(p["applied"]) for p in per_process]
    r = {"consumers": consumers, "messages": total, "recorded": recorded, "applied_per_process": applied,
         "duplicates": int(sum(p["duplicates"] for p in per_process)),
         "redelivered": int(sum(p["duplicates"] for p in per_process)) - resent_copies(month),
         "dead_lettered": int(sum(p["dead_lettered"] for p in per_process)),
         "applied_once": sum(applied) == recorded, "live_s": live_s, "live_applied_s": recorded / live_s,
         "live_msg_s": total / live_s, "load_before": load_before, "load_after": load_after, "cpu_us": cpu_us}
    if check:
        target = fresh_database(kind, tmp, pg)
        report = rebuild(bootstrap=bootstrap, prefix=prefix, live_url=url, target_url=target)
        busy = report.seconds_read_apply + report.seconds_recompute
        r.update(identical=not report.differences and not report.failed, differences=len(report.differences),
                 rebuild_applied_s=report.applied / busy if busy else 0.0)
    return r


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--asn", type=int, default=1000, help="ASN in the synthetic month (~84 messages each)")
    ap.add_argument("--events", type=int, default=None,
                    help="messages to publish per run instead of --asn (ASN = events / ~84); 400000 gives runs "
                         "of >= 15 s up to ~13,000 events applied/s")
    ap.add_argument("--min-seconds", type=float, default=15.0,
                    help="a live run shorter than this is flagged: its fixed start weighs in")
    ap.add_argument("--consumers", default="1,3", help="consumer processes in the group, e.g. 1,3")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    ap.add_argument("--batch", type=int, default=int(os.environ.get("PENILAIAN_APPLY_BATCH", "1000")),
                    help="events applied per transaction (PENILAIAN_APPLY_BATCH, as make run)")
    ap.add_argument("--no-rebuild", action="store_true", help="skip the rebuild and the comparison")
    ap.add_argument("--timeout", type=float, default=1800.0, help="seconds a group may take to drain")
    ap.add_argument("--append", type=Path, default=None, help="append the figures to this Markdown file")
    args = ap.parse_args()
    counts = [int(c) for c in args.consumers.split(",")]
    if args.events is not None:
        args.asn = max(1, -(-args.events // MESSAGES_PER_ASN))

    given_broker = os.environ.get("KINERJA_KAFKA_BOOTSTRAP")
    tmp = Path(tempfile.mkdtemp(prefix="bench-penilaian-"))
    kinds = ("sqlite", "postgresql") if args.db == "both" else (args.db,)
    load_before = load()
    began = time.monotonic()
    month = generate_month(args.asn, agency="bench")
    print(f"{len(month.events):,} messages generated in {time.monotonic() - began:.1f} s", flush=True)
    rows = []
    try:
        with ExitStack() as servers:
            bootstrap = servers.enter_context(own_broker(env="KINERJA_KAFKA_BOOTSTRAP"))
            pg = servers.enter_context(own_postgres()) if "postgresql" in kinds else None
            for kind in kinds:
                for n in counts:
                    runs = []
                    for i in range(args.runs):
                        r = one_run(bootstrap, kind, n, args.batch, tmp, pg, month, not args.no_rebuild, args.timeout)
                        runs.append(r)
                        short = (f" — SHORTER than {args.min_seconds:.0f} s: the group's start weighs in, raise --events"
                                 if r["live_s"] < args.min_seconds else "")
                        print(f"{kind}, {n} consumer(s), run {i + 1}: lasted {r['live_s']:.1f} s{short}; "
                              f"{r['recorded']:,} events applied = {r['live_applied_s']:,.0f}/s ({r['live_msg_s']:,.0f} messages/s); per process "
                              f"{r['applied_per_process']}, applied once: {r['applied_once']}, copies dropped "
                              f"{r['duplicates']} (re-deliveries beyond the month's own re-sent copies: {r['redelivered']}), dead-lettered {r['dead_lettered']}"
                              + (f"; rebuild identical: {r['identical']} ({r['rebuild_applied_s']:,.0f} applied/s)"
                                 if 'identical' in r else "") + f"; load {r['load_before']} → {r['load_after']}; "
                              + cpu_line(r["cpu_us"]), flush=True)
                    rows.append((kind, n, runs))
    finally:
        if not os.environ.get("KEEP_BENCH"):
            shutil.rmtree(tmp, ignore_errors=True)

    by_topic = month.by_topic()
    desc = (f"{len(month.events):,} messages per run ({', '.join(f'{t} {n:,}' for t, n in by_topic.items())}); "
            f"{args.asn:,} ASN; {default_partitions()} partitions; `PENILAIAN_APPLY_BATCH={args.batch}`")
    head = f"machine: {machine_line()}; load average (1/5/15 min) before {load_before}, after {load()}"
    table = ["| database | consumers | live events applied/s | × one consumer | live messages/s | live run s (each) "
             "| applied per process (last run) | copies dropped: the month's re-sent + re-deliveries | applied once | rebuild identical "
             "| rebuild events applied/s |",
             "|---|---:|---:|---:|---:|---|---|---:|---|---|---:|"]
    one = {kind: statistics.median([r["live_applied_s"] for r in runs]) for kind, n, runs in rows if n == 1}
    for kind, n, runs in rows:
        med = statistics.median([r["live_applied_s"] for r in runs])
        ratio = f"{med / one[kind]:.2f}" if kind in one else "–"
        checked = [r for r in runs if "identical" in r]
        lasted = ", ".join(f"{r['live_s']:.1f}" for r in runs) + (
            " (short)" if min(r["live_s"] for r in runs) < args.min_seconds else "")
        table.append(
            f"| {kind} | {n} | {fmt_median([r['live_applied_s'] for r in runs])} | {ratio} | {fmt_median([r['live_msg_s'] for r in runs])} | "
            f"{lasted} | "
            f"{' / '.join(f'{a:,}' for a in runs[-1]['applied_per_process'])} | "
            f"{', '.join(copies(r) for r in runs)} | {'yes' if all(r['applied_once'] for r in runs) else 'NO'} | "
            f"{('yes' if all(r['identical'] for r in checked) else 'NO') if checked else 'not checked'} | "
            f"{fmt_median([r['rebuild_applied_s'] for r in checked]) if checked else '–'} |")
    cpu_rows = [f"- {kind}, {n} consumer(s): " + cpu_line({k: statistics.median([r["cpu_us"][k] for r in runs])
                                                          for k in runs[0]["cpu_us"]}) for kind, n, runs in rows]
    print("\n" + head + "\n" + desc + f"\nmedian (min–max) of {args.runs} runs\n" + "\n".join(table)
          + "\nCPU µs an applied event by process, from the group's first batch to lag 0 (median of the runs; "
          "benchlib.group_cpu):\n" + "\n".join(cpu_rows))
    if args.append:
        cmd = " ".join(["bench/penilaian_apply.py", *sys.argv[1:]])
        loads = "; ".join(f"{kind} × {n}: " + ", ".join(f"{r['load_before']} → {r['load_after']}" for r in runs)
                          for kind, n, runs in rows)
        text = (f"\n## penilaian: events applied per second, live with {args.consumers} consumer process(es) in one group, "
                f"and rebuild ({now_utc()})\n\n"
                f"- {head}; per run (before → after) {loads}\n- command: `{('KINERJA_KAFKA_BOOTSTRAP=' + given_broker + ' ') if given_broker else ''}"
                f".venv/bin/python {cmd}`\n"
                f"- {desc}. Live: `python -m penilaian.entrypoints.consumer` processes in one consumer group on a fresh "
                "database, from the group's first batch applied (earliest `processed_at`) until its lag is 0 on every "
                "partition (group join before the first batch excluded; 'live run s': how long each run lasted, "
                f"'short' when one lasted less than {args.min_seconds:.0f} s). An applied event is one recorded in "
                "`processed_events` (punches and penilaian's own score updates are skipped without a transaction). "
                "'applied once': the processes' own applied counts (their metrics) add up to the events recorded; "
                "'rebuild identical': one process's rebuild of the same topics into a fresh database equals the live "
                "tables, every score and ledger. Copies are dropped by event id: the month's own re-sent events "
                "(~1 % of them, in every run) and any re-delivery after a rebalance. "
                f"Median (min–max) of {args.runs} runs.\n\n" + "\n".join(table) + "\n\nCPU µs an applied event by process, from the group's first batch to lag 0 (median of the runs; `benchlib.group_cpu`):\n\n" + "\n".join(cpu_rows) + "\n")
        append_markdown(args.append, text)


if __name__ == "__main__":
    main()
