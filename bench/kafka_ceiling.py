"""The ceiling: raw kafka-python produce-and-consume of the system's own payloads on a local broker,
and every other benchmark's latest figure as a ratio to it. Not part of the test suite.

Payloads are real event envelopes (``kehadiran.punch.recorded.v1`` and ``kehadiran.day.summarized.v1``
from ``kinerja_testkit.synthetic``), keyed by NIP, on a fresh 6-partition topic. Measured:

- produce msgs/s: one producer from ``kinerja.messaging.producer.make_producer`` (idempotent,
  ``acks=all``, 128 KiB batches, linger 5 ms, lz4, each key's partition hashed once: exactly the
  services' settings, printed at the start), send everything, flush; and the CPU it took per
  message, the producer process's (both its threads) and the broker's (``/proc``), which a loaded
  machine changes far less than the rate, and the producer's time in the garbage collector (more
  once the first consumer has loaded kafka-python's consumer classes: the warm-up pass has not);
- consume msgs/s: one KafkaConsumer with the consumer loop's settings
  (``kinerja.messaging.consumer.consumer_config``, no group) reading the topic from offset 0 to its end;

It refuses to run when kafka-python would checksum in pure Python (the ``crc32c`` package missing):
that would measure the missing package, not the client.
- produce → consume latency at a steady offered rate (100, 500, 1,000 msgs/s; open loop: each send
  is scheduled at its time whatever happened before), the consumer in its own process; latency =
  consumer's receipt − the send time carried in a header.

Before the measured runs, one unmeasured produce-and-consume of ``--warmup`` messages on a topic of
its own: a freshly started broker's JVM spends its first few hundred thousand records compiling
(its CPU per record: over 100 µs in the first thousands, ~30 µs after 100,000, under 10 µs after
a million on this machine), which the first run would measure instead of Kafka.

Then reads ``artifacts/bench/*.json`` (and the latest sections of BENCHMARKS.md for benchmarks that
write no JSON) and prints each figure as a ratio to the ceiling.

    .venv/bin/python bench/kafka_ceiling.py --runs 3 --append BENCHMARKS.md
"""
from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import sys
import time
import uuid
from pathlib import Path

from benchlib import (append_markdown, fmt_spread, load, machine, machine_line, now_utc, own_broker, pcts_ms,
                      spread, write_result)
from benchlib.ceiling import latency_ratios, latency_table, throughput_ratios
from benchlib.gctime import gc_time
from benchlib.servers import BROKER_PIDS

_TICK = os.sysconf("SC_CLK_TCK")


def payloads(n: int = 2000) -> list[tuple[bytes, bytes]]:
    from kinerja.events.kehadiran import DAY_SUMMARIZED, PUNCH_RECORDED
    from kinerja_testkit.synthetic import generate_month

    month = generate_month(60, agency="bench", seed=7)
    out = [(e.key.encode() if isinstance(e.key, str) else e.key, e.to_bytes())
           for _, e in month.events if e.type in (PUNCH_RECORDED, DAY_SUMMARIZED)]
    return out[:n]


def fresh_topic(bootstrap: str, partitions: int) -> str:
    from kafka import KafkaAdminClient
    from kafka.admin import NewTopic

    name = "ceiling-" + uuid.uuid4().hex[:10]
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="bench-ceiling")
    try:
        admin.create_topics([NewTopic(name, partitions, 1)], timeout_ms=30000)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            d = admin.describe_topics([name])
            if d and d[0].get("partitions") and all(p.get("leader_id", -1) >= 0 for p in d[0]["partitions"]):
                break
            time.sleep(0.2)
    finally:
        admin.close()
    return name


def process_cpu_s(pid: int | None) -> float | None:
    """CPU seconds (user + system) a process has used, from /proc; None when unknown."""
    if pid is None:
        return None
    try:
        f = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(f[11]) + int(f[12])) / _TICK


def produce_all(bootstrap: str, name: str, data: list, n: int) -> dict:
    """msgs/s of send all then flush, the CPU µs per message of this (the producer's) process and of
    the broker over the same window, and the garbage collector's share of the producer's."""
    from kinerja.messaging.producer import make_producer

    producer = make_producer(bootstrap, client_id="bench-ceiling")
    producer.send(name, key=b"warm", value=b"{}").get(30)
    broker_pid = BROKER_PIDS.get(bootstrap)
    with gc_time() as collector:
        broker_began, cpu_began = process_cpu_s(broker_pid), time.process_time()
        began = time.perf_counter()
        for i in range(n):
            k, v = data[i % len(data)]
            producer.send(name, key=k, value=v)
        producer.flush(timeout=600)
        elapsed = time.perf_counter() - began
        cpu_s, broker_ended = time.process_time() - cpu_began, process_cpu_s(broker_pid)
    producer.close(timeout=10)
    return {"per_s": n / elapsed, "producer_cpu_us": round(1e6 * cpu_s / n, 1),
            "broker_cpu_us": round(1e6 * (broker_ended - broker_began) / n, 1) if broker_pid else None,
            "gc_us": round(1e6 * collector["seconds"] / n, 1), "gc_tracked": collector["tracked"]}


def consume_all(bootstrap: str, name: str, n: int, partitions: int) -> float:
    from kafka import KafkaConsumer, TopicPartition

    from kinerja.messaging.consumer import consumer_config

    consumer = KafkaConsumer(**consumer_config(bootstrap, group_id=None, client_id="bench-ceiling-consumer"))
    tps = [TopicPartition(name, p) for p in range(partitions)]
    consumer.assign(tps)
    consumer.seek_to_beginning(*tps)
    ends = consumer.end_offsets(tps)
    total_end = sum(ends.values())
    got = 0
    began = None
    while got < min(n, total_end):
        records = consumer.poll(timeout_ms=1000)
        if began is None and records:
            began = time.perf_counter()
        got += sum(len(v) for v in records.values())
    elapsed = time.perf_counter() - began
    consumer.close()
    return got / elapsed


def latency_consumer(bootstrap: str, name: str, partitions: int, expected: int, conn) -> None:
    from kafka import KafkaConsumer, TopicPartition

    from kinerja.messaging.consumer import consumer_config

    consumer = KafkaConsumer(**consumer_config(bootstrap, group_id=None, client_id="bench-ceiling-latency"))
    tps = [TopicPartition(name, p) for p in range(partitions)]
    consumer.assign(tps)
    consumer.seek_to_end(*tps)
    for tp in tps:
        consumer.position(tp)
    conn.send("ready")
    lat = []
    deadline = None
    while len(lat) < expected:
        for msgs in consumer.poll(timeout_ms=200).values():
            now = time.time()
            for m in msgs:
                sent = dict(m.headers or []).get("t")
                if sent:
                    lat.append(now - float(sent))
        if conn.poll():
            conn.recv()  # the producer is done: give the rest 30 s
            deadline = time.monotonic() + 30
        if deadline and time.monotonic() > deadline:
            break
    consumer.close()
    conn.send(lat)


def latency_at(bootstrap: str, data: list, rate: int, seconds: float, partitions: int) -> dict:
    from kinerja.messaging.producer import make_producer

    name = fresh_topic(bootstrap, partitions)
    n = int(rate * seconds)
    parent, child = mp.get_context("spawn").Pipe()
    proc = mp.get_context("spawn").Process(target=latency_consumer, args=(bootstrap, name, partitions, n, child))
    proc.start()
    assert parent.poll(60), "latency consumer did not start"
    parent.recv()
    producer = make_producer(bootstrap, client_id="bench-ceiling-rate")
    producer.send(name, key=b"warm", value=b"{}").get(30)
    began = time.perf_counter()
    max_lag = 0.0
    for i in range(n):
        due = began + i / rate
        delay = due - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        else:
            max_lag = max(max_lag, -delay)
        k, v = data[i % len(data)]
        producer.send(name, key=k, value=v, headers=[("t", repr(time.time()).encode())])
    sent_s = time.perf_counter() - began
    producer.flush(60)
    producer.close(timeout=10)
    parent.send("done")
    lat = parent.recv() if parent.poll(120) else []
    proc.join(30)
    return {"offered_per_s": rate, "sent": n, "achieved_per_s": round(n / sent_s, 1), "max_sender_lag_s": round(max_lag, 3),
            "received": len(lat), "latency_ms": pcts_ms(lat)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--messages", type=int, default=100_000, help="per throughput run")
    ap.add_argument("--rates", default="100,500,1000")
    ap.add_argument("--seconds", type=float, default=20.0, help="per latency run")
    ap.add_argument("--partitions", type=int, default=6)
    ap.add_argument("--warmup", type=int, default=300_000,
                    help="messages produced and consumed once, unmeasured, before the runs (the broker's JIT)")
    ap.add_argument("--append", type=Path, default=None)
    args = ap.parse_args()
    from kinerja.messaging.producer import check_native_codecs, producer_config

    problems = check_native_codecs()
    if problems:
        sys.exit("not measuring: " + "; ".join(problems))
    settings = {k: (type(v).__name__ if k == "partitioner" else v) for k, v in producer_config("-").items()
                if k in ("acks", "enable_idempotence", "batch_size", "linger_ms", "compression_type",
                         "max_in_flight_requests_per_connection", "partitioner")}
    print(f"producer settings (make_producer): {settings}; crc32c in C", flush=True)
    m = machine()
    load_before = load()
    print(f"machine: {machine_line(m)}; load average before {load_before}", flush=True)
    data = payloads()
    size = sum(len(v) for _, v in data) / len(data)
    print(f"{len(data)} payloads, mean {size:.0f} bytes", flush=True)
    produce, consume, rates, producer_cpu, producer_gc, broker_cpu = [], [], [], [], [], []
    with own_broker(args.partitions) as bootstrap:
        if args.warmup:
            name = fresh_topic(bootstrap, args.partitions)
            w = produce_all(bootstrap, name, data, args.warmup)
            consume_all(bootstrap, name, args.warmup, args.partitions)
            print(f"warm-up (not counted): {args.warmup:,} messages produced and consumed; producer "
                  f"{w['producer_cpu_us']} µs CPU a message (in garbage collection {w['gc_us']} µs wall, "
                  f"{w['gc_tracked']:,} objects tracked), broker {w['broker_cpu_us']} µs", flush=True)
        for run in range(args.runs):
            name = fresh_topic(bootstrap, args.partitions)
            p = produce_all(bootstrap, name, data, args.messages)
            c = consume_all(bootstrap, name, args.messages, args.partitions)
            produce.append(p["per_s"])
            consume.append(c)
            producer_cpu.append(p["producer_cpu_us"])
            producer_gc.append(p["gc_us"])
            if p["broker_cpu_us"] is not None:
                broker_cpu.append(p["broker_cpu_us"])
            print(f"run {run + 1}: produce {p['per_s']:,.0f} msgs/s (CPU a message: producer {p['producer_cpu_us']} µs, "
                  f"of it in garbage collection {p['gc_us']} µs wall, {p['gc_tracked']:,} objects tracked; broker "
                  f"{p['broker_cpu_us']} µs), consume {c:,.0f} msgs/s (load {load()})", flush=True)
        for rate in [int(r) for r in args.rates.split(",")]:
            runs = []
            for run in range(args.runs):
                r = latency_at(bootstrap, data, rate, args.seconds, args.partitions)
                runs.append(r)
                print(f"{rate}/s run {run + 1}: achieved {r['achieved_per_s']}/s, received {r['received']}/{r['sent']}, "
                      f"p50/p95/p99 {r['latency_ms']['p50']}/{r['latency_ms']['p95']}/{r['latency_ms']['p99']} ms "
                      f"(max sender lag {r['max_sender_lag_s']} s; load {load()})", flush=True)
            rates.append({"offered_per_s": rate, "runs": runs,
                          **{k: spread([r["latency_ms"][k] for r in runs], 1) for k in ("p50", "p95", "p99")}})
    load_after = load()
    ceiling = min(spread(produce)["median"], spread(consume)["median"])
    result = {"when": now_utc(), "machine": m, "load_before": load_before, "load_after": load_after,
              "producer_settings": settings,
              "payload_bytes_mean": round(size), "messages_per_run": args.messages, "partitions": args.partitions,
              "warmup_messages": args.warmup,
              "produce_msgs_per_s": spread(produce), "consume_msgs_per_s": spread(consume),
              "produce_cpu_us_per_msg": {"producer": spread(producer_cpu, 1), "producer_gc_wall": spread(producer_gc, 1),
                                         "broker": spread(broker_cpu, 1) if broker_cpu else None},
              "ceiling_msgs_per_s": ceiling, "latency": rates}
    write_result("kafka_ceiling", result)

    lines, ratios, lat_ratio = latency_table(rates), throughput_ratios(ceiling), latency_ratios(rates)
    print("\n".join(["", *lines, "", f"ceiling (min of produce, consume medians): {ceiling:,} msgs/s", *ratios, *lat_ratio]))
    if args.append:
        cmd = " ".join(["bench/kafka_ceiling.py", *sys.argv[1:]])
        text = "\n".join([
            f"\n## The ceiling: raw kafka-python produce and consume on one local broker ({result['when']})\n",
            f"- machine: {machine_line(m)}; load average (1/5/15 min) before {load_before}, after {load_after} "
            "(what else ran shows in the load; the benchmark's own processes add to it)",
            f"- command: `.venv/bin/python {cmd}`",
            f"- one Kafka 4.3 broker (LocalBroker, KRaft, 512 MiB heap) on free ports, fresh topic of {args.partitions} "
            f"partitions per run; payloads: real `kehadiran.punch.recorded.v1` / `day.summarized.v1` envelopes keyed by "
            f"NIP, mean {size:.0f} bytes; producer = `make_producer` ({settings}; crc32c in C); consumer = one "
            f"KafkaConsumer with `consumer_config`, manual assignment. Before the runs {args.warmup:,} messages "
            f"produced and consumed unmeasured (the broker's JIT warms up). Median (min–max) of {args.runs} runs.\n",
            f"- produce: {fmt_spread(result['produce_msgs_per_s'])} msgs/s ({args.messages:,} per run, send all then flush); "
            f"CPU per message: producer process {fmt_spread(result['produce_cpu_us_per_msg']['producer'])} µs, broker "
            f"{fmt_spread(result['produce_cpu_us_per_msg']['broker']) if broker_cpu else '(not read)'} µs",
            f"- consume: {fmt_spread(result['consume_msgs_per_s'])} msgs/s (offset 0 to the end, first poll to last)",
            f"- the ceiling below = the smaller median: **{ceiling:,} msgs/s**\n",
            f"Produce → consume latency at a steady offered rate (open loop, {args.seconds:.0f} s per run, consumer in "
            "its own process):\n", *lines, "",
            "Other benchmarks' latest figures as a ratio to the ceiling (a ratio near 1 would mean Kafka is the limit; "
            "far below 1, our own code is):\n", *ratios, "", *lat_ratio, ""])
        append_markdown(args.append, text)


if __name__ == "__main__":
    main()
