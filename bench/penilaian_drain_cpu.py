"""CPU seconds penilaian's consumer (and its PostgreSQL backends) spends on a fixed stream, the one
it sees in the drain window of a 20,000-line upload: ``--n`` punch records (fetched only to be
passed over), ``--n`` day summaries of one workday (applied) and 3 × ``--n`` of its own score
updates (a month, quarter and year a summary; passed over), through the real broker. Not part of the test suite.

Each run: fresh topics and database; the roster (``--n`` ASN) and a policy published and applied
by a ``penilaian.entrypoints.consumer`` process (warm: imports, group join, roster rows); then the
CPU reading, the stream published (``--mode live``: while the consumer runs, at the bench
producer's pace, as a relay would; ``--mode backlog``: the consumer stopped first and started
again on the whole stream, CPU taken from its first new row), the wait for lag 0, and the reading
again. Checked every run: every day summary in ``day_facts``, each event recorded once, every
punch and score update passed over (the consumer's own counts).

A/B: ``--a`` (and ``--b``) are git revisions whose ``shared`` and ``penilaian`` sources (``git
archive``) the A (B) consumer imports first (``PYTHONPATH``); B without ``--b`` is this worktree
as it is when each consumer starts. Runs alternate A B B A A B ... ``--statements``: the top
statements of each run (``pg_stat_statements``: a server of ``KINERJA_TEST_POSTGRES_URL`` started
with it preloaded).

    .venv/bin/python bench/penilaian_drain_cpu.py --n 20000 --pairs 3 --a main --b HEAD
"""
from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import ExitStack
from datetime import date
from pathlib import Path

from sqlalchemy import create_engine, text

from benchlib import cpu as cpumod
from benchlib import fresh_database, load, own_broker, own_postgres
from benchlib.drain_stream import roster, stream, workday
from benchlib.penilaian_consumers import CONSUMER, consumer_env, spawn, stop
from benchlib.penilaian_lag import GroupLag
from kinerja.config import load_settings
from kinerja.localbroker import free_port
from kinerja.messaging.producer import make_producer
from kinerja.messaging.topics import ensure_topics, topic
from penilaian.entrypoints.migrate import main as migrate

STATEMENTS = False  # --statements


def publish(bootstrap: str, prefix: str, records) -> None:
    producer = make_producer(bootstrap, client_id="bench-drain", linger_ms=5, batch_size=64 * 1024)
    for base, key, value in records:
        producer.send(topic(base, prefix), key=key.encode(), value=value)
    producer.flush(timeout=300)
    producer.close(timeout=10)


def start_consumer(variant_path: str | None, url: str, bootstrap: str, prefix: str, log: Path, extra_env: dict):
    env = consumer_env(url, bootstrap, prefix, free_port(), KINERJA_LOG_LEVEL="INFO", **extra_env)
    if variant_path:
        env["PYTHONPATH"] = f"{variant_path}/services/penilaian/src:{variant_path}/shared/src"
    f = open(log, "ab")
    profile = extra_env.get("PROFILE_TO")
    cmd = ([sys.executable, "-m", "cProfile", "-o", profile, "-m", "penilaian.entrypoints.consumer"] if profile
           else CONSUMER)
    return spawn(cmd, env, f)


def reading(pid: int, dbname: str, port: int) -> dict[str, float]:
    snap = cpumod.snapshot({pid: "consumer"}, pg_dbs={dbname: "pg"}, pg_port=port)
    return {"consumer": snap.get("consumer", 0.0), "pg": snap.get("postgresql pg", 0.0),
            "pg_other": snap.get("postgresql other", 0.0) + snap.get("postgresql postmaster+exited", 0.0)}


def stopped_stats(log: Path) -> dict:
    m = None
    for line in log.read_text(errors="replace").splitlines():
        if "consumer stopped" in line:
            m = line
    out = {}
    if m:
        for k in ("applied", "duplicates", "skipped", "batches", "fallbacks"):
            g = re.search(rf'"{k}":\s*(\d+)', m)
            if g:
                out[k] = int(g.group(1))
    return out


def pgss(pg: str, reset: bool) -> list:
    """pg_stat_statements (a server started with it preloaded): reset, or its top statements."""
    eng = create_engine(pg, isolation_level="AUTOCOMMIT")
    try:
        with eng.connect() as c:
            c.execute(text("CREATE EXTENSION IF NOT EXISTS pg_stat_statements"))
            if reset:
                c.execute(text("SELECT pg_stat_statements_reset()"))
                return []
            return c.execute(text(
                "SELECT calls, round(total_exec_time::numeric, 1), rows, left(regexp_replace(query, '\\s+', ' ', 'g'), 160) "
                "FROM pg_stat_statements ORDER BY total_exec_time DESC LIMIT 25")).all()
    finally:
        eng.dispose()


def one_run(label: str, variant_path: str | None, bootstrap: str, pg: str, n: int, day: date, warm, records,
            tmp: Path, mode: str, extra_env: dict) -> dict:
    prefix = "d" + uuid.uuid4().hex[:10]
    ensure_topics(bootstrap, prefix=prefix)
    publish(bootstrap, prefix, warm)
    url = fresh_database("postgresql", tmp, pg)
    migrate(url)
    dbname = url.rsplit("/", 1)[1].split("?")[0]
    port = cpumod.pg_port(pg)
    log = tmp / f"{prefix}-{label}.log"
    group = topic(load_settings("penilaian").consumer_group, prefix)
    p = start_consumer(variant_path, url, bootstrap, prefix, log, extra_env)
    lag = GroupLag(bootstrap, prefix, group)
    engine = create_engine(url)
    try:
        lag.wait_zero(p)
        # the policy's recompute of the roster (between polls) done too: not part of the stream
        deadline = time.monotonic() + 600
        while True:
            with engine.connect() as c:
                if not c.execute(text("SELECT count(*) FROM policy_recomputes WHERE done_at IS NULL")).scalar():
                    break
            if time.monotonic() > deadline:
                raise SystemExit("the policy recompute did not end")
            time.sleep(0.2)
        with engine.connect() as c:
            warm_rows = c.execute(text("SELECT count(*) FROM processed_events")).scalar()
        if mode == "backlog":
            stop(p)
            publish(bootstrap, prefix, records)
            p = start_consumer(variant_path, url, bootstrap, prefix, log, extra_env)
            # from its first new row: start-up (imports, join) left out
            while True:
                before = reading(p.pid, dbname, port)
                with engine.connect() as c:
                    if c.execute(text("SELECT count(*) FROM processed_events")).scalar() > warm_rows:
                        break
                time.sleep(0.01)
            began = time.monotonic()
        else:
            if STATEMENTS:
                pgss(pg, True)
            before = reading(p.pid, dbname, port)
            began = time.monotonic()
            publish(bootstrap, prefix, records)
        lag.wait_zero(p)
        after = reading(p.pid, dbname, port)
        wall = time.monotonic() - began
        if STATEMENTS:
            for row in pgss(pg, False):
                print("   ", *row, flush=True)
    finally:
        stop(p)
        lag.close()
    with engine.connect() as c:
        facts = c.execute(text("SELECT count(*) FROM day_facts WHERE day = :d"), {"d": day}).scalar()
        recorded = c.execute(text("SELECT count(*) FROM processed_events")).scalar()
    engine.dispose()
    stats = stopped_stats(log)
    r = {k: after[k] - before[k] for k in after}
    r.update(wall=wall, facts=facts, recorded=recorded - warm_rows, stats=stats)
    return r


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=20000)
    ap.add_argument("--pairs", type=int, default=3)
    ap.add_argument("--a", default=None, help="git revision of the A consumer (default: only B runs)")
    ap.add_argument("--b", default=None, help="git revision of the B consumer (default: this worktree)")
    ap.add_argument("--statements", action="store_true", help="print pg_stat_statements' top statements a run")
    ap.add_argument("--mode", choices=("live", "backlog"), default="live")
    ap.add_argument("--no-scores", action="store_true")
    ap.add_argument("--env-a", default="", help="extra env for A, K=V,K=V")
    ap.add_argument("--env-b", default="", help="extra env for B, K=V,K=V")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-drain-"))
    global STATEMENTS
    STATEMENTS = args.statements
    paths = {}
    for label, rev in (("A", args.a), ("B", args.b)):
        if rev:
            paths[label] = str(tmp / label)
            os.makedirs(paths[label])
            subprocess.run(f"git archive {rev} shared/src services/penilaian/src | tar -x -C {paths[label]}",
                           shell=True, check=True)
    env = {"A": dict(kv.split("=", 1) for kv in args.env_a.split(",") if kv),
           "B": dict(kv.split("=", 1) for kv in args.env_b.split(",") if kv)}
    day = workday()
    warm = roster(args.n)
    records = stream(args.n, day, scores=not args.no_scores)
    print(f"stream: {len(records):,} records; day {day}; mode {args.mode}; load {load()}", flush=True)
    order = []
    for k in range(args.pairs):
        order += (["A", "B"] if k % 2 == 0 else ["B", "A"]) if args.a or args.env_a else ["B"]
    results: dict[str, list] = {"A": [], "B": []}
    with ExitStack() as servers:
        bootstrap = servers.enter_context(own_broker())
        pg = servers.enter_context(own_postgres())
        for label in order:
            r = one_run(label, paths.get(label), bootstrap, pg, args.n, day, warm, records, tmp,
                        args.mode, env[label])
            results[label].append(r)
            ok = r["facts"] == args.n and r["recorded"] == args.n
            print(f"{label}: consumer {r['consumer']:.2f} s, pg {r['pg']:.2f} s, pg other {r['pg_other']:.2f} s, "
                  f"wall {r['wall']:.1f} s; facts {r['facts']}, recorded {r['recorded']} ({'ok' if ok else 'WRONG'}); "
                  f"{r['stats']}; load {load()}", flush=True)
    for label in ("A", "B"):
        rs = results[label]
        if rs:
            print(f"{label} median: consumer {statistics.median(r['consumer'] for r in rs):.2f} s, "
                  f"pg {statistics.median(r['pg'] for r in rs):.2f} s "
                  f"(each: {[round(r['consumer'], 2) for r in rs]} / {[round(r['pg'], 2) for r in rs]})")


if __name__ == "__main__":
    main()
