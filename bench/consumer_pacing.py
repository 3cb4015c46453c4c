"""What the consumer loop's pace between polls (``KINERJA_CONSUMER_POLL_GAP_MS``) does to a live
consumer at a modest, steady rate (issue 13: the CPU per punch at 50-100 punches/s). Not part of
the test suite, and not a figure for BENCHMARKS.md.

One broker of its own, topics of 12 partitions; a producer sends records open loop at ``--rate``
(one produce request each, no linger: as a relay at that rate) with the send time in the record
(its ``nama``);
a consumer process (the shared ``IdempotentConsumer``, polls of up to 200 applied in one SQLite
transaction, as notifikasi's) applies them. For each gap in ``--gaps`` (interleaved, ``--rounds``
times): polls that returned records per second (each one fetch round), the consumer process's and
the broker's CPU per record, and the send → applied latency.

    .venv/bin/python bench/consumer_pacing.py --rate 50 --seconds 15 --gaps 0,5
"""
from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import resource
import statistics
import tempfile
import threading
import time
from pathlib import Path

from benchlib import load, machine, machine_line, own_broker, pct
from benchlib.servers import BROKER_PIDS


def _proc_cpu_s(pid: int) -> float:
    parts = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(parts[11]) + int(parts[12])) / os.sysconf("SC_CLK_TCK")


def consume(bootstrap: str, prefix: str, gap_ms: float, db: str, expect: int, warm: int, out) -> None:
    """The consumer process: apply ``warm`` + ``expect`` records; report CPU, polls and latencies
    of the ``expect`` after the warm-up."""
    from sqlalchemy import MetaData

    from kinerja.db import make_engine, make_session_factory
    from kinerja.messaging.consumer import IdempotentConsumer
    from kinerja.messaging.outbox import add_plumbing_tables
    from kinerja.messaging.producer import make_producer
    from kinerja.messaging.topics import PEGAWAI, topic

    metadata = MetaData()
    _, processed = add_plumbing_tables(metadata)
    engine = make_engine(f"sqlite:///{db}")
    metadata.create_all(engine)
    lat: list[float] = []
    mark: dict = {}
    stop = threading.Event()
    state = {"n": 0}

    def handle_batch(session, events) -> None:
        now = time.time()
        for e in events:
            state["n"] += 1
            if state["n"] == warm:
                mark.update(cpu=time.process_time(), polls=c.stats.polls, paced=c.stats.paced, wall=time.monotonic())
                out.put(("warm", None))
            elif state["n"] > warm:
                lat.append(now - float(e.data["nama"]))  # the send time
        if state["n"] >= warm + expect:
            stop.set()

    c = IdempotentConsumer(bootstrap=bootstrap, topics=[topic(PEGAWAI, prefix)], group_id=f"pace-{gap_ms}",
                           session_factory=make_session_factory(engine), processed_table=processed,
                           handle=lambda s, e: handle_batch(s, [e]), apply_batch=handle_batch,
                           producer_factory=lambda: make_producer(bootstrap), batch_size=200,
                           max_poll_records=500, poll_gap_s=gap_ms / 1000)
    c.run(stop)
    out.put(("done", dict(cpu=time.process_time() - mark["cpu"], polls=c.stats.polls - mark["polls"],
                          paced=c.stats.paced - mark["paced"], wall=time.monotonic() - mark["wall"], lat=lat,
                          maxrss=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)))


def one_round(bootstrap: str, prefix: str, gap_ms: float, rate: int, seconds: float, tmp: Path) -> dict:
    from kinerja.events import make_event
    from kinerja.events.pegawai import EMPLOYEE_UPSERTED
    from kinerja.messaging.producer import make_producer
    from kinerja.messaging.topics import PEGAWAI, topic

    ctx = mp.get_context("spawn")
    out = ctx.Queue()
    warm, expect = 40, int(rate * seconds)
    db = tmp / f"sink-{gap_ms}-{time.monotonic_ns()}.db"
    proc = ctx.Process(target=consume, args=(bootstrap, prefix, gap_ms, str(db), expect, warm, out))
    proc.start()
    producer = make_producer(bootstrap, linger_ms=0)
    name = topic(PEGAWAI, prefix)

    def send(i: int) -> None:
        nip = f"1985031220100{i % 4000:05d}"
        e = make_event(EMPLOYEE_UPSERTED, subject=nip, agency="disdik", source="bench",
                       data={"nip": nip, "nama": repr(time.time()), "agency": "disdik", "unit": "U", "pin": str(i)})
        producer.send(name, key=e.key, value=e.to_bytes())

    # warm-up until the consumer is assigned and has applied ``warm`` records
    i = 0
    while True:
        send(i)
        i += 1
        time.sleep(0.05)
        if not out.empty():
            break
    out.get()
    broker = BROKER_PIDS[bootstrap]
    b0 = _proc_cpu_s(broker)
    t0 = time.monotonic()
    for k in range(expect):
        target = t0 + k / rate
        delay = target - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        send(i)
        i += 1
    producer.flush()
    kind, res = out.get(timeout=120)
    res["broker_cpu"] = _proc_cpu_s(broker) - b0
    proc.join(30)
    producer.close()
    res["n"] = expect
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rate", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=15.0)
    ap.add_argument("--gaps", default="0,5", help="poll gaps in ms, comma-separated, interleaved")
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    gaps = [float(g) for g in args.gaps.split(",")]
    print(f"machine: {machine_line(machine())}; load {load()}", flush=True)
    from kinerja.messaging.topics import ensure_topics

    results: dict[float, list[dict]] = {g: [] for g in gaps}
    with own_broker() as bootstrap, tempfile.TemporaryDirectory(prefix="bench-pace-") as tmp:
        for r in range(args.rounds):
            for gap in gaps:
                prefix = f"pace{r}g{int(gap)}x{time.monotonic_ns() % 100000}"
                ensure_topics(bootstrap, prefix=prefix, partitions=12)
                res = one_round(bootstrap, prefix, gap, args.rate, args.seconds, Path(tmp))
                results[gap].append(res)
                lat = [1000 * x for x in res["lat"]]
                print(f"round {r} gap {gap:g} ms: polls/s {res['polls'] / res['wall']:.1f}, records a poll "
                      f"{res['n'] / max(1, res['polls']):.2f}, pauses {res['paced']}; CPU ms a record: consumer "
                      f"{1000 * res['cpu'] / res['n']:.3f}, broker {1000 * res['broker_cpu'] / res['n']:.3f}; "
                      f"latency p50 {pct(lat, .5):.1f} p90 {pct(lat, .9):.1f} p99 {pct(lat, .99):.1f} ms "
                      f"(load {load()})", flush=True)
    print("\nmedians over rounds:")
    for gap, rs in results.items():
        def med(f):
            return statistics.median(f(x) for x in rs)
        print(f"gap {gap:g} ms: polls/s {med(lambda x: x['polls'] / x['wall']):.1f}; CPU ms a record consumer "
              f"{med(lambda x: 1000 * x['cpu'] / x['n']):.3f} broker {med(lambda x: 1000 * x['broker_cpu'] / x['n']):.3f}"
              f"; latency p50 {med(lambda x: pct([1000 * v for v in x['lat']], .5)):.1f} ms")


if __name__ == "__main__":
    main()
