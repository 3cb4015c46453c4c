"""How many events one penilaian consumer process applies per second, live (through the broker,
the consumer group's way: poll, apply in one transaction per batch, commit offsets) and in a
rebuild (``kinerja scores rebuild``'s path: manual assignment from offset 0, facts stored in
batches, each ASN recomputed once). Not part of the test suite.

Each run publishes a synthetic month (``penilaian.synthetic.generate_month``: ``--asn`` ASN, two
punches and one to three versions of a day summary per workday, tasks with lifecycles,
innovations, ratings, training, dialogs, a policy version) to fresh topics, then times the live
consumer from its first message to its last, then the rebuild of the same topics into another
fresh database, and checks that the rebuild equals the live tables. Prints median and spread.

    .venv/bin/python bench/penilaian_apply.py --asn 100 --runs 3 --db sqlite --append BENCHMARKS.md

Kafka: ``KINERJA_KAFKA_BOOTSTRAP`` (e.g. the dev broker), else a broker from ``deploy/kafka`` on a
free port. PostgreSQL: ``KINERJA_TEST_POSTGRES_URL``, else a throwaway cluster (as the tests do).
"""
from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import sys
import tempfile
import threading
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

from kinerja.config import load_settings
from kinerja.messaging.producer import make_producer
from kinerja.messaging.topics import ensure_topics, topic
from penilaian.entrypoints.consumer import make_consumer
from penilaian.entrypoints.migrate import main as migrate
from penilaian.entrypoints.rebuild import rebuild
from penilaian.entrypoints.runtime import make_runtime
from penilaian.synthetic import generate_month


def machine() -> str:
    cpu = platform.processor() or "cpu"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem = int(Path("/proc/meminfo").read_text().split()[1]) / 1024 / 1024
    except OSError:
        mem = 0
    return (f"{cpu}, {os.cpu_count()} CPUs, {mem:.0f} GiB RAM, {platform.system()} {platform.release()}, "
            f"Python {platform.python_version()}")


def database(kind: str, tmp: Path, pg: list) -> str:
    if kind == "sqlite":
        return f"sqlite:///{tmp / (uuid.uuid4().hex[:8] + '.db')}"
    from kinerja.testing import ThrowawayPostgres, create_postgres_database

    if not pg:
        server = os.environ.get("KINERJA_TEST_POSTGRES_URL")
        if not server:
            cluster = ThrowawayPostgres()
            server = cluster.start()
            pg.append(cluster)
        pg.insert(0, server)
    return create_postgres_database(pg[0])


def one_run(bootstrap: str, kind: str, asn: int, batch: int, tmp: Path, pg: list, month) -> dict:
    prefix = "b" + uuid.uuid4().hex[:10]
    ensure_topics(bootstrap, prefix=prefix, partitions=6)
    producer = make_producer(bootstrap, client_id="bench-penilaian", linger_ms=20, batch_size=256 * 1024)
    for name, event in month.events:
        producer.send(topic(name, prefix), key=event.key, value=event.to_bytes())
    producer.flush(timeout=300)
    producer.close(timeout=10)
    total = len(month.events)

    url = database(kind, tmp, pg)
    migrate(url)
    runtime = make_runtime(load_settings("penilaian", {"database_url": url, "kafka_bootstrap": bootstrap,
                                                       "topic_prefix": prefix}))
    consumer = make_consumer(runtime, batch_size=batch, max_poll_records=max(batch, 500))
    stop = threading.Event()
    thread = threading.Thread(target=consumer.run, args=(stop,), daemon=True)
    thread.start()

    def handled() -> int:
        s = consumer.stats
        return s.applied + s.duplicates + s.dead_lettered + consumer.skipped

    deadline = time.monotonic() + 1800
    while handled() == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    first = time.monotonic()
    while handled() < total and time.monotonic() < deadline:
        time.sleep(0.05)
    live_s = time.monotonic() - first
    stop.set()
    thread.join(timeout=60)
    applied = consumer.stats.applied
    runtime.dispose()

    target = database(kind, tmp, pg)
    began = time.monotonic()
    report = rebuild(bootstrap=bootstrap, prefix=prefix, live_url=url, target_url=target)
    rebuild_s = report.seconds_read_apply + report.seconds_recompute
    assert not report.differences and not report.failed, report.summary()
    return {"messages": total, "applied": applied, "live_s": live_s, "live_msg_s": total / live_s,
            "live_applied_s": applied / live_s, "rebuild_s": rebuild_s, "rebuild_msg_s": report.messages / rebuild_s,
            "rebuild_applied_s": report.applied / rebuild_s, "rebuild_wall_s": time.monotonic() - began,
            "rebuild_messages": report.messages}


def fmt(values: list[float]) -> str:
    med = statistics.median(values)
    return f"{med:,.0f} ({min(values):,.0f}–{max(values):,.0f})"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--asn", type=int, default=100)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="sqlite")
    ap.add_argument("--batch", type=int, default=500, help="live consumer: messages applied per transaction")
    ap.add_argument("--append", type=Path, default=None, help="append the figures to this Markdown file")
    args = ap.parse_args()

    broker = None
    data_dir = None
    bootstrap = os.environ.get("KINERJA_KAFKA_BOOTSTRAP")
    if not bootstrap:
        from kinerja.localbroker import LocalBroker, find_kafka_home, free_port

        data_dir = Path(tempfile.mkdtemp(prefix="bench-kafka-"))
        broker = LocalBroker(home=find_kafka_home(), data_dir=data_dir, port=free_port(),
                             controller_port=free_port(), partitions=6)
        broker.start(create_topics=False)
        bootstrap = broker.bootstrap
    tmp = Path(tempfile.mkdtemp(prefix="bench-penilaian-"))
    pg: list = []
    kinds = ("sqlite", "postgresql") if args.db == "both" else (args.db,)
    load_before = os.getloadavg()[0]
    month = generate_month(args.asn, agency="bench")
    rows = []
    try:
        for kind in kinds:
            runs = []
            for i in range(args.runs):
                r = one_run(bootstrap, kind, args.asn, args.batch, tmp, pg, month)
                runs.append(r)
                print(f"{kind} run {i + 1}: {r['messages']} messages, live {r['live_s']:.1f} s "
                      f"({r['live_msg_s']:.0f} msg/s, {r['live_applied_s']:.0f} applied/s), rebuild "
                      f"{r['rebuild_s']:.1f} s ({r['rebuild_msg_s']:.0f} msg/s, {r['rebuild_applied_s']:.0f} applied/s)",
                      flush=True)
            rows.append((kind, runs))
    finally:
        for x in pg:
            if not isinstance(x, str):
                x.stop()
        if broker is not None:
            broker.stop()
            shutil.rmtree(data_dir, ignore_errors=True)
        shutil.rmtree(tmp, ignore_errors=True)

    by_topic = month.by_topic()
    desc = (f"{len(month.events):,} messages per run ({', '.join(f'{t} {n:,}' for t, n in by_topic.items())}); "
            f"{args.asn} ASN; 6 partitions; live batch {args.batch}")
    head = f"machine: {machine()}; load average before {load_before:.1f}, after {os.getloadavg()[0]:.1f}"
    table = ["| database | live messages/s | live events applied/s | rebuild messages/s | rebuild events applied/s |",
             "|---|---:|---:|---:|---:|"]
    for kind, runs in rows:
        table.append(f"| {kind} | {fmt([r['live_msg_s'] for r in runs])} | {fmt([r['live_applied_s'] for r in runs])} | "
                     f"{fmt([r['rebuild_msg_s'] for r in runs])} | {fmt([r['rebuild_applied_s'] for r in runs])} |")
    print("\n" + head + "\n" + desc + f"\nmedian (min–max) of {args.runs} runs\n" + "\n".join(table))
    if args.append:
        cmd = " ".join(["bench/penilaian_apply.py", *sys.argv[1:]])
        stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        text = (f"\n## penilaian: events applied per second by one consumer process, live and rebuild ({stamp})\n\n"
                f"- {head}\n- command: `{('KINERJA_KAFKA_BOOTSTRAP=' + bootstrap + ' ') if broker is None else ''}"
                f".venv/bin/python {cmd}`\n"
                f"- {desc}; a message is any record on the four topics (punches and penilaian's own score updates "
                f"are skipped without a transaction); an applied event is one whose fact was stored. Live: from the "
                f"consumer's first message to its last (group join excluded). Rebuild: read + store + recompute "
                f"(compare excluded); every run's rebuild matched the live tables. Median (min–max) of {args.runs} runs.\n\n"
                + "\n".join(table) + "\n")
        with args.append.open("a") as f:
            f.write(text)
        print(f"appended to {args.append}")


if __name__ == "__main__":
    main()
