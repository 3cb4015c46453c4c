"""What the outbox relay costs an event, not a benchmark: a fixed outbox (``--rows``, half
kehadiran punch records, half day summaries, ~400-byte envelopes of distinct NIPs, in chunks of
500 as an upload leaves them) drained by kehadiran's relay (``hold_types``: punches) to a broker
of our own, counted as CPU seconds: the relay process (both of its threads), its PostgreSQL
server (every process of our own cluster: the relay's backends, and the WAL writer its marks
keep busy) and the broker. The clock starts once the relay's producer is connected and stops
when every row is marked sent.

Code variants run interleaved, A B A B ..., each round on a fresh database (``--code NAME=DIR``:
``DIR/shared/src`` goes first on the relay's ``PYTHONPATH``; the default is this checkout), so a
machine busy with other work slows each the same way; every pair is printed.

    .venv/bin/python bench/relay_drain.py --rows 40000 --rounds 3 --code base=/tmp/base --code new=.
    .venv/bin/python bench/relay_drain.py --database sqlite --rounds 3 --code base=/tmp/base --code new=.
    .venv/bin/python bench/relay_drain.py --rounds 1 --profile /tmp/relay.prof   # cProfile of the relay
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
from pathlib import Path

from benchlib import own_broker, own_postgres
from benchlib.group_cpu import reading
from benchlib.servers import BROKER_PIDS, fresh_database

ROOT = Path(__file__).resolve().parent.parent

# the relay process: warms its producer, says "ready", drains on "go", says "done" and waits for
# "exit" (its CPU is read from /proc while it is alive). Uses only what every version of
# OutboxRelay has
CHILD = r"""
import sys, threading, time
from sqlalchemy import MetaData
from kinerja.db import make_engine
from kinerja.events.kehadiran import PUNCH_RECORDED
from kinerja.messaging.outbox import add_plumbing_tables
from kinerja.messaging.producer import make_producer
from kinerja.messaging.relay import RELAY_PRODUCER, OutboxRelay
from kinerja.messaging.topics import topic
from kinerja.gc_tuning import tune_gc

url, bootstrap, prefix, rows, profile = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
import os, json

def threads_cpu():
    # CPU seconds of each thread of this process, by Python thread name
    names = {t.native_id: t.name for t in threading.enumerate()}
    tick = os.sysconf("SC_CLK_TCK")
    out = {}
    for d in os.listdir("/proc/self/task"):
        try:
            f = open(f"/proc/self/task/{d}/stat").read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        name = names.get(int(d), "other")
        name = "main" if name == "MainThread" else "sender" if name.endswith("network-thread") else name
        out[name] = out.get(name, 0.0) + (int(f[11]) + int(f[12])) / tick
    f = open("/proc/self/stat").read().rsplit(")", 1)[1].split()
    # threads that ended count with the producer's sender (closed when the relay stops)
    out["sender"] = out.get("sender", 0.0) + (int(f[11]) + int(f[12])) / tick - sum(out.values())
    return out

if profile:
    import cProfile
    from kafka.producer import sender as _sender
    _run = _sender.Sender.run

    def _profiled_run(self):
        prof = cProfile.Profile(time.thread_time)
        try:
            prof.runcall(_run, self)
        finally:
            prof.dump_stats(profile + ".sender")
    _sender.Sender.run = _profiled_run
table, _ = add_plumbing_tables(MetaData())
engine = make_engine(url)
relay = OutboxRelay(engine, table, lambda: make_producer(bootstrap, client_id="kehadiran-relay", **RELAY_PRODUCER),
                    prefix=prefix, service="kehadiran", hold_types=(PUNCH_RECORDED,))
relay._get_producer().partitions_for(topic("kehadiran.v1", prefix))
# PostgreSQL: the CPU of the relay's statement backend during its reads and during its marks
# (its schedstat, in ns), to tell them apart
split = {"read": 0.0, "mark": 0.0, "read_py": 0.0, "mark_py": 0.0, "skipped": 0}
statements = relay._statements()
if engine.dialect.name == "postgresql":
    statements._connection()
    backend = statements._conn.info.backend_pid

    def oncpu():
        return int(open(f"/proc/{backend}/schedstat").read().split()[0]) / 1e9

    def timed(kind, fn):
        def call(*a, **kw):
            c0, t0 = oncpu(), time.thread_time()
            try:
                return fn(*a, **kw)
            finally:
                split[kind] += oncpu() - c0
                split[kind + "_py"] += time.thread_time() - t0
        return call
    unsent = timed("read", statements.unsent)

    def counted(limit, skip, *a):
        split["skipped"] += len(skip)  # ids in flight or unmarked the read leaves out
        return unsent(limit, skip, *a)
    statements.unsent = counted
    statements.mark_sent = timed("mark", statements.mark_sent)
tune_gc()
stop = threading.Event()

def watch():
    while relay.published < rows:
        time.sleep(0.01)
    stop.set()

print("ready", flush=True)
sys.stdin.readline()
threading.Thread(target=watch, daemon=True).start()
t0 = time.monotonic()
c0 = threads_cpu()
if profile:
    import cProfile
    prof = cProfile.Profile(time.thread_time)
    prof.runcall(relay.run, stop)
    prof.dump_stats(profile)
else:
    relay.run(stop)
wall = time.monotonic() - t0
c1 = threads_cpu()
threads = {k: round(c1[k] - c0.get(k, 0.0), 2) for k in c1 if c1[k] - c0.get(k, 0.0) >= 0.01}
threads.update({"pg_" + k: round(v, 3) for k, v in split.items() if v})
print("done %.3f %d %d %s" % (wall, relay.reads, relay.marks,
      json.dumps(threads, separators=(",", ":"))), flush=True)
sys.stdin.readline()
"""


def envelopes(rows: int) -> list[tuple[str, str, str]]:
    """(type, key, value) of ``rows`` outbox rows: punch, then day summary, 500 of each in turn."""
    from kinerja_testkit.synthetic import generate_month
    from kinerja.events.kehadiran import DAY_SUMMARIZED, PUNCH_RECORDED

    month = generate_month(2, agency="bench", seed=7)
    templates = {}
    for _, e in month.events:
        if e.type in (PUNCH_RECORDED, DAY_SUMMARIZED) and e.type not in templates:
            templates[e.type] = (e.key.decode() if isinstance(e.key, bytes) else e.key, e.to_bytes().decode())
    out = []
    half = rows // 2
    for start in range(0, half, 500):
        for kind in (PUNCH_RECORDED, DAY_SUMMARIZED):
            key, value = templates[kind]
            for i in range(start, min(start + 500, half)):
                nip = f"1980{i:014d}"
                v = value.replace(key, nip)
                doc = json.loads(v)
                doc["id"] = str(uuid.uuid4())
                out.append((kind, nip, json.dumps(doc, separators=(",", ":"))))
    return out


def fill(url: str, data: list) -> None:
    from sqlalchemy import MetaData, text

    from kinerja.db import make_engine
    from kinerja.messaging.outbox import Outbox, add_plumbing_tables, outbox_row

    metadata = MetaData()
    table, _ = add_plumbing_tables(metadata)
    engine = make_engine(url)
    metadata.create_all(engine)
    box = Outbox(metadata)
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            # no autovacuum in the window: both variants' rounds see the same table
            conn.execute(text("ALTER TABLE outbox SET (autovacuum_enabled = off)"))
        for start in range(0, len(data), 1000):
            box.add_rows(conn, [outbox_row(str(uuid.uuid4()), kind, key, value)
                                for kind, key, value in data[start:start + 1000]])
    engine.dispose()


def broker_cpu(bootstrap: str) -> float:
    pid = BROKER_PIDS.get(bootstrap)
    if pid is None:
        return 0.0
    f = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")


def one(name: str, tree: Path, url: str, pg_url: str | None, bootstrap: str, data: list, profile: str,
        count_dir: Path | None) -> dict:
    from kinerja.messaging.topics import ensure_topics

    prefix = "d" + uuid.uuid4().hex[:8]
    ensure_topics(bootstrap, prefix=prefix, partitions=12)
    fill(url, data)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tree / "shared" / "src"), str(ROOT / "bench")]))
    if count_dir is not None:  # the relay's Kafka requests by kind (kinerja.messaging.request_counts)
        env["KINERJA_KAFKA_COUNT_DIR"] = str(count_dir)
    child = subprocess.Popen([sys.executable, "-c", CHILD, url, bootstrap, prefix, str(len(data)), profile],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert child.stdout.readline().strip() == "ready"
        port = pg_url.rsplit(":", 1)[1].split("/")[0] if pg_url else None
        before = reading({child.pid}, port)
        b0 = broker_cpu(bootstrap)
        child.stdin.write("go\n")
        child.stdin.flush()
        done = child.stdout.readline().split()
        # the relay closed its connections on stopping: their backends' CPU counts once the
        # postmaster has reaped them (read until two readings 0.1 s apart agree, 3 s at most)
        after = reading({child.pid}, port)
        for _ in range(30):
            time.sleep(0.1)
            again = reading({child.pid}, port)
            if again["postgresql"] == after["postgresql"]:
                break
            after = again
        b1 = broker_cpu(bootstrap)
        produce = None
        if count_dir is not None:
            time.sleep(0.7)  # the counts are written every 0.5 s
            produce = json.loads((count_dir / f"{child.pid}.json").read_text())["counts"].get("ProduceRequest")
        child.stdin.write("exit\n")
        child.stdin.flush()
        child.wait(60)
    finally:
        if child.poll() is None:
            child.kill()
    relay_s = after["consumers"] - before["consumers"]
    pg_s = after["postgresql"] - before["postgresql"]
    return {"name": name, "relay": relay_s, "pg": pg_s, "broker": b1 - b0, "wall": float(done[1]),
            "reads": int(done[2]), "marks": int(done[3]), "threads": done[4], "produce": produce}


def show(r: dict, rows: int) -> str:
    per = lambda s: 1e6 * s / rows  # noqa: E731
    return (f"{r['name']:>6}: relay {r['relay']:6.2f} s ({per(r['relay']):5.1f} µs/ev)  postgresql {r['pg']:5.2f} s "
            f"({per(r['pg']):5.1f})  relay+pg {per(r['relay'] + r['pg']):5.1f} µs/ev  broker {r['broker']:5.2f} s  "
            f"wall {r['wall']:5.2f} s  reads {r['reads']} marks {r['marks']}"
            + (f" produce requests {r['produce']}" if r["produce"] is not None else "") + f"  threads {r['threads']}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=40000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--database", choices=["postgresql", "sqlite"], default="postgresql")
    ap.add_argument("--code", action="append", default=[], help="NAME=DIR, a checkout whose shared/src the relay runs")
    ap.add_argument("--count-requests", action="store_true", help="count the relay's Kafka requests by kind")
    ap.add_argument("--profile", default="", help="cProfile of the relay's run to this file (one variant)")
    args = ap.parse_args()
    variants = [(c.split("=", 1)[0], Path(c.split("=", 1)[1]).resolve()) for c in args.code] or [("this", ROOT)]
    data = envelopes(args.rows)
    results: dict[str, list[dict]] = {n: [] for n, _ in variants}
    tmp = Path(tempfile.mkdtemp(prefix="relay-drain-"))
    with own_postgres() as server, own_broker(12) as bootstrap:
        pg = server if args.database == "postgresql" else None
        for k in range(args.rounds):
            for name, tree in (variants if k % 2 == 0 else variants[::-1]):
                url = fresh_database(args.database, tmp, pg)
                count_dir = None
                if args.count_requests:
                    count_dir = tmp / f"counts-{name}-{k}"
                    count_dir.mkdir()
                r = one(name, tree, url, pg, bootstrap, data, args.profile, count_dir)
                results[name].append(r)
                print(f"round {k + 1} " + show(r, args.rows), flush=True)
    print("\nmedians (µs an event):")
    for name, rs in results.items():
        med = lambda key: sorted(x[key] for x in rs)[len(rs) // 2]  # noqa: E731
        print(f"{name:>6}: relay {1e6 * med('relay') / args.rows:5.1f}  postgresql {1e6 * med('pg') / args.rows:5.1f}  "
              f"broker {1e6 * med('broker') / args.rows:5.1f}")


if __name__ == "__main__":
    main()
