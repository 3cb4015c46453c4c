"""``kinerja scores rebuild`` at size: N events (a synthetic month, ``kinerja_testkit.synthetic``: roster,
punches, day summaries in several versions, task lifecycles, innovations, ratings, training,
dialogs, a policy version) published onto fresh topics of a broker, then ``penilaian-rebuild
--no-compare --json`` run as its own process into a fresh database (SQLite or PostgreSQL), timed:
events/s over read + store + recompute, and the peak RSS of the rebuild process and of its largest
worker, each that process's own (``VmHWM``: a process started by fork + exec inherits its parent's
``ru_maxrss``, so that figure was this generator's memory, not the rebuild's), beside its RSS when
the replay began and the memory per fact folded (KiB above the start, the processes together, over
the final fact rows written: what memory bounded by the fact tables means). Not part of the test
suite; run it on a quiet machine.

    .venv/bin/python bench/rebuild.py --events 1000000 --db postgresql --append BENCHMARKS.md
    .venv/bin/python bench/rebuild.py --events 2000            # a smoke run
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import ExitStack
from pathlib import Path

from benchlib import append_markdown, load, machine_line, now_utc, own_broker, own_postgres, write_result

PER_ASN = 84  # messages per ASN in generate_month
WORKERS = 2  # processes reading kehadiran.v1 (penilaian-rebuild's default)


def publish_month(bootstrap: str, prefix: str, events: int, partitions: int) -> tuple[int, float]:
    from benchlib.publishing import publish_events
    from kinerja.messaging.topics import ensure_topics
    from kinerja_testkit.synthetic import generate_month

    month = generate_month(max(1, round(events / PER_ASN)), agency="bench", seed=11)
    ensure_topics(bootstrap, prefix=prefix, partitions=partitions)
    began = time.monotonic()
    publish_events(month.events, bootstrap, prefix, "bench-rebuild", flush_timeout_s=3600)
    return len(month.events), time.monotonic() - began


def run_rebuild(bootstrap: str, prefix: str, target: str) -> dict:
    env = {**os.environ, "KINERJA_KAFKA_BOOTSTRAP": bootstrap, "KINERJA_TOPIC_PREFIX": prefix}
    exe = Path(sys.executable).with_name("penilaian-rebuild")
    began = time.monotonic()
    out = subprocess.run([str(exe), "--into", target, "--no-compare", "--json", "--workers", str(WORKERS)], env=env,
                         capture_output=True, text=True, timeout=7200)
    wall = time.monotonic() - began
    if out.returncode != 0:
        raise SystemExit(f"the rebuild failed ({out.returncode}):\n{out.stderr[-3000:]}\n{out.stdout[-3000:]}")
    report = json.loads(out.stdout.strip().splitlines()[-1])
    report["wall_s"] = wall
    return report


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    ap.add_argument("--partitions", type=int, default=int(os.environ.get("KINERJA_PARTITIONS", "12")))
    ap.add_argument("--append", type=Path, default=None, help="append the result to this markdown file")
    args = ap.parse_args()
    with ExitStack() as stack:
        bootstrap = stack.enter_context(own_broker(args.partitions))
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-rebuild-")))
        if args.db == "sqlite":
            target = f"sqlite:///{tmp / 'rebuilt.db'}"
        else:
            from kinerja.testing import create_postgres_database

            target = create_postgres_database(stack.enter_context(own_postgres()))
        prefix = "r" + uuid.uuid4().hex[:10]
        load_before = load()
        total, publish_s = publish_month(bootstrap, prefix, args.events, args.partitions)
        r = run_rebuild(bootstrap, prefix, target)
    busy = r["seconds_read_apply"] + r["seconds_recompute"]
    facts = sum(r["folded"].values())
    above = (r["peak_rss_mb"] - r["start_rss_mb"]) + (
        WORKERS * (r["worker_peak_rss_mb"] - r["worker_start_rss_mb"]) if r["worker_peak_rss_mb"] else 0.0)
    result = {"when": now_utc(), "database": args.db, "events": total, "partitions": args.partitions,
              "publish_s": round(publish_s, 1), "read_apply_s": round(r["seconds_read_apply"], 1),
              "recompute_s": round(r["seconds_recompute"], 1), "seconds": round(busy, 1),
              "events_per_s": round(total / busy) if busy else None, "peak_rss_mb": round(r["peak_rss_mb"]),
              "worker_peak_rss_mb": round(r["worker_peak_rss_mb"]), "start_rss_mb": round(r["start_rss_mb"]),
              "worker_start_rss_mb": round(r["worker_start_rss_mb"]), "facts": facts,
              "kib_per_fact": round(above * 1024 / facts, 2) if facts else None,
              "applied": r["applied"], "duplicates": r["duplicates"], "invalid": r["invalid_count"],
              "folded": r["folded"], "asn_recomputed": r["asn_recomputed"], "wall_s": round(r["wall_s"], 1),
              "load_before": load_before, "load_after": load()}
    print(json.dumps(result, indent=2))
    if args.append:  # a smoke run records nothing
        write_result("rebuild", result)
        append_markdown(args.append, (
            f"\n## penilaian rebuild of {total:,} events ({result['when']})\n\n"
            f"- {machine_line()}; load before {load_before}, after {result['load_after']}\n"
            f"- command: `.venv/bin/python bench/rebuild.py --events {args.events} --db {args.db}`\n\n"
            "| database | events | read + store | recompute | events/s | peak RSS (rebuild, largest worker) "
            "| RSS at start | fact rows | KiB a fact above start |\n"
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|\n"
            f"| {args.db} | {total:,} | {result['read_apply_s']} s | {result['recompute_s']} s | "
            f"{result['events_per_s']:,} | {result['peak_rss_mb']} MB, {result['worker_peak_rss_mb']} MB | "
            f"{result['start_rss_mb']} MB, {result['worker_start_rss_mb']} MB | {facts:,} | {result['kib_per_fact']} |\n"))


if __name__ == "__main__":
    main()
