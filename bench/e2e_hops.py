"""Where a punch's way to the ASN's stream spends its time, hop by hop (issue 13: punch → score
frame). Not part of the test suite, and not a figure for BENCHMARKS.md: it tells which wait to cut.

The system starts as ``bench/e2e_latency.py`` starts it (the whole stack as real processes, its own
broker, SQLite files or a throwaway PostgreSQL), punches go out open loop at a modest rate (every
one a new ASN-day), and for every streamed punch whose score frame arrived the tool reads the
timestamps the system already stores and prints the median / p90 / p99 of each hop:

    send → received        POST sent (client) → ``punches.received_at`` (HTTP, auth, ingest start)
    received → round       → ``created_at`` of its ``day.summarized`` outbox row: the day worker's
                           round clock (waiting for a wake-up or for the round before it)
    round → kafka          → that record's Kafka timestamp (the round's work and commit, the
                           kehadiran relay's wake-up and read; the producer stamps at ``send``)
    kafka → penilaian      → penilaian's ``processed_events.processed_at`` of that event (its
                           poll, the batch's decode; stamped as the batch's transaction begins)
    penilaian apply        → ``created_at`` of the ``score.updated`` outbox row the frame carried
    score → kafka          → that record's Kafka timestamp (the batch's commit, penilaian's relay)
    kafka → notifikasi     → notifikasi's ``processed_at`` of the score event (its poll)
    notifikasi apply       → ``notifications.created_at`` (inbox rows built)
    inbox → SSE            → the frame's arrival at the stream client (commit, tailer wake-up,
                           the web worker's push)

Then where each run's CPU went (``benchlib.cpu``, from ``/proc`` deltas): CPU seconds and ms per
punch of every process of the system (gunicorn's workers apart from their master), PostgreSQL's
backends by the service whose database they serve (only this run's cluster), the broker, and the
benchmark's own senders and stream clients apart, with the system's total without them. The
window runs from the first send until every streamed punch has arrived.

    .venv/bin/python bench/e2e_hops.py --database sqlite --rate 20 --seconds 15
    .venv/bin/python bench/e2e_hops.py --database postgresql --rate 100 --seconds 10
    # the account at a rate the stack sustains, with the issue's roster and streams; the senders'
    # client A/B interleaved (raw, aiohttp, raw, aiohttp)
    .venv/bin/python bench/e2e_hops.py --database postgresql --rate 250 --seconds 20 --asn 10000 \
        --streams 1000 --devices 50 --idle 5 --runs 4 --clients raw,aiohttp
"""
from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import shutil
import signal
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime, timezone
from pathlib import Path

from benchlib import cpu, load, machine, machine_line, own_broker, own_postgres, pct
from benchlib.senders import Senders, send_open_loop
from benchlib.streams import StreamReaders
from benchlib.system import workdays_back
from e2e_latency import device_sn, start_system, stop_system
from e2e_run import AGENCY, Plan, nip_of

HOPS = ("send → received", "received → round", "round → kafka", "kafka → penilaian", "penilaian apply",
        "score → kafka", "kafka → notifikasi", "notifikasi apply", "inbox → SSE")


def hop_frame(nip: str, msg) -> tuple | None:
    """(nip, month, disiplin, score event id, arrival) of a month ``score.updated`` frame for the
    stream's own ASN."""
    if msg.event == "score.updated" and msg.data:
        p = msg.data.get("payload") or {}
        if p.get("nip") == nip and p.get("disiplin") is not None and len(str(p.get("period", ""))) == 7:
            return nip, p["period"], float(p["disiplin"]), msg.data.get("event_id"), time.time()
    return None


class HopStreams(StreamReaders):
    def __init__(self, port: int, nips: list[str]):
        super().__init__(port, nips, 1, agency=AGENCY, pick=hop_frame)
        self.by_month: dict[tuple[str, str], list[tuple[float, str, float]]] = {}

    def drain(self) -> None:
        for nip, period, disiplin, event_id, at in self.frames():
            self.by_month.setdefault((nip, period), []).append((disiplin, event_id, at))

    def first(self, nip: str, period: str, threshold: float) -> tuple[str, float] | None:
        for disiplin, event_id, at in self.by_month.get((nip, period), ()):
            if disiplin <= threshold + 1e-6:
                return event_id, at
        return None


def epoch(value) -> float | None:
    """A stored timestamp (datetime, or SQLite's text; naive means UTC) as epoch seconds."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace(" ", "T"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.timestamp()


def rows(url: str, sql: str) -> list:
    from sqlalchemy import create_engine, text

    from kinerja.db import normalise_url

    engine = create_engine(normalise_url(url))
    try:
        with engine.connect() as c:
            return list(c.execute(text(sql)))
    finally:
        engine.dispose()


def kafka_times(bootstrap: str, topic_name: str, wanted: set[str]) -> dict[str, float]:
    """Event id → record timestamp (epoch s) of the records of ``topic_name`` with an id in ``wanted``."""
    from kafka import KafkaConsumer, TopicPartition

    c = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False)
    try:
        tps = [TopicPartition(topic_name, p) for p in c.partitions_for_topic(topic_name) or ()]
        c.assign(tps)
        c.seek_to_beginning(*tps)
        ends = c.end_offsets(tps)
        out: dict[str, float] = {}
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and any(c.position(tp) < ends[tp] for tp in tps):
            for recs in c.poll(timeout_ms=500, max_records=5000).values():
                for r in recs:
                    try:
                        eid = json.loads(r.value)["id"]
                    except (ValueError, KeyError, TypeError):
                        continue
                    if eid in wanted:
                        out[eid] = r.timestamp / 1000.0
        return out
    finally:
        c.close()


def hops_of(urls: dict[str, str], bootstrap: str, prefix: str, sampled: list[dict]) -> list[dict]:
    """Each delivered sampled punch's stamps along the way (None where one is missing)."""
    received = {(r[0], str(r[1])[:10]): epoch(r[2]) for r in rows(
        urls["kehadiran"], "SELECT nip, time, received_at FROM punches WHERE nip IS NOT NULL")}
    # time is the instant (UTC): 07:45 WIB is 00:45 UTC, the same date
    summaries: dict[tuple[str, str], list[tuple[float, str]]] = {}
    for event_id, value, created in rows(urls["kehadiran"], "SELECT event_id, value, created_at FROM outbox "
                                                            "WHERE value LIKE '%day.summarized%'"):
        ev = json.loads(value)
        d = ev.get("data") or {}
        summaries.setdefault((d.get("nip"), d.get("date")), []).append((epoch(created), event_id))
    pen_done = {r[0]: epoch(r[1]) for r in rows(urls["penilaian"],
                                                 "SELECT event_id, processed_at FROM processed_events")}
    score_made = {r[0]: epoch(r[1]) for r in rows(urls["penilaian"], "SELECT event_id, created_at FROM outbox")}
    not_done = {r[0]: epoch(r[1]) for r in rows(urls["notifikasi"],
                                                "SELECT event_id, processed_at FROM processed_events")}
    inbox = {(r[0], r[1]): epoch(r[2]) for r in rows(urls["notifikasi"],
                                                     "SELECT event_id, recipient_nip, created_at FROM notifications")}
    out = []
    for s in sampled:
        t_recv = received.get((s["nip"], s["day"]))
        ds = [(c, e) for c, e in sorted(summaries.get((s["nip"], s["day"]), ())) if t_recv is None or c >= t_recv - 1]
        s["ds_id"], s["t_round"] = (ds[0][1], ds[0][0]) if ds else (None, None)
        s["t_received"] = t_recv
        out.append(s)
    kt = kafka_times(bootstrap, f"{prefix}.kehadiran.v1", {s["ds_id"] for s in out if s["ds_id"]})
    kt.update(kafka_times(bootstrap, f"{prefix}.penilaian.v1", {s["score_id"] for s in out}))
    for s in out:
        s["t_ds_kafka"] = kt.get(s["ds_id"])
        s["t_pen"] = pen_done.get(s["ds_id"])
        s["t_score"] = score_made.get(s["score_id"])
        s["t_score_kafka"] = kt.get(s["score_id"])
        s["t_not"] = not_done.get(s["score_id"])
        s["t_inbox"] = inbox.get((s["score_id"], s["nip"]))
    return out


def report(stamps: list[dict], label: str) -> None:
    keys = ("t_sent", "t_received", "t_round", "t_ds_kafka", "t_pen", "t_score", "t_score_kafka", "t_not", "t_inbox",
            "t_arrival")
    print(f"\n{label}: {len(stamps)} streamed punches delivered (ms; loaded machine: compare relatively)")
    print(f"{'hop':<22}{'p50':>9}{'p90':>9}{'p99':>9}{'max':>9}{'n':>6}")
    for name, a, b in zip(HOPS + ("total",), keys[:-1] + ("t_sent",), keys[1:] + ("t_arrival",)):
        d = [1000 * (s[b] - s[a]) for s in stamps if s.get(a) is not None and s.get(b) is not None]
        if not d:
            print(f"{name:<22}{'-':>9}")
            continue
        print(f"{name:<22}" + "".join(f"{pct(d, q):9.1f}" for q in (.5, .9, .99, 1.)) + f"{len(d):6d}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--database", default="sqlite", choices=("sqlite", "postgresql"))
    ap.add_argument("--durable", action="store_true",
                    help="the throwaway PostgreSQL flushes its commits to disk (its defaults), not fsync off")
    ap.add_argument("--rate", type=int, default=20, help="punches per second, one per POST")
    ap.add_argument("--seconds", type=float, default=15.0)
    ap.add_argument("--asn", type=int, default=400)
    ap.add_argument("--streams", type=int, default=40)
    ap.add_argument("--devices", type=int, default=10)
    ap.add_argument("--drain", type=float, default=60.0)
    ap.add_argument("--idle", type=float, default=10.0, help="seconds with no punches first, to read the CPU floor")
    ap.add_argument("--runs", type=int, default=1, help="measured runs one after another (hops: the last one's)")
    ap.add_argument("--clients", default="raw",
                    help="the senders' HTTP client per run in turn: raw, aiohttp, or e.g. raw,aiohttp for an A/B")
    ap.add_argument("--json", type=Path, default=None, help="write every punch's stamps here")
    args = ap.parse_args()
    # a SIGTERM unwinds like Ctrl-C, so the stack, the broker and PostgreSQL are stopped too
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    from kinerja.auth import issue_token
    from kinerja.config import DEV_JWT_SECRET

    every = max(1, args.asn // args.streams)
    nips = [nip_of(i) for i in range(args.asn) if i % every == 3]
    days = workdays_back(int((args.rate * args.seconds * args.runs + 40) / args.asn) + 5)
    tokens = [issue_token(DEV_JWT_SECRET, role="device", agency=AGENCY, device_sn=device_sn(d))
              for d in range(args.devices)]
    print(f"machine: {machine_line(machine())}; load {load()}", flush=True)
    tmp = Path(tempfile.mkdtemp(prefix="bench-hops-"))
    stack = streams = None
    with own_broker() as bootstrap, own_postgres(durable=args.durable) if args.database == "postgresql" else _nothing() as pg, \
            ProcessPoolExecutor(1, mp_context=mp.get_context("spawn")) as pool:
        try:
            prefix = f"hops{int(time.time()) % 100000}"
            stack, urls = start_system(bootstrap, args.database, pg, tmp, args.asn, None, 1, args.devices, prefix)
            streams = HopStreams(stack.ports["notifikasi"], nips)
            streams.wait_ready(300)
            pgdbs, pgport = cpu.pg_databases(urls), cpu.pg_port(pg)

            def cpu_now():
                return cpu.snapshot(cpu.stack_pids(stack), cpu.client_pids(senders, streams), pgdbs, pgport)

            senders = Senders(pool, 1)
            if args.idle:
                # the floor: what the system burns with nothing to do (polls, heartbeats, wake-ups)
                idle_before, t_idle = cpu_now(), time.monotonic()
                time.sleep(args.idle)
                print("idle, " + cpu.report(idle_before, cpu_now(), 0,
                                            time.monotonic() - t_idle), flush=True)
            plan = Plan(args.asn, every, days)
            clients = args.clients.split(",")
            runs = [(f"run {k + 1} ({clients[k % len(clients)]} senders)", args.rate, args.seconds, clients[k % len(clients)])
                    for k in range(args.runs)]
            for phase, rate, seconds, client in (("warm-up", 10, 2.0, clients[0]), *runs):
                senders.client = client
                punches = plan.take(int(rate * seconds))
                print(f"{phase}: {len(punches)} punches at {rate}/s (load {load()})", flush=True)
                cpu_before, wall_before = cpu_now(), time.monotonic()
                out = send_open_loop(senders, stack.url("kehadiran"), tokens, punches, rate, 100, 1, 60,
                                     while_waiting=streams.drain)
                sampled = [{"nip": p[1], "day": p[2].isoformat(), "thr": p[3], "t_sent": out["results"][i][0]}
                           for i, p in enumerate(punches) if p[3] is not None and out["results"][i][2]]
                deadline = time.monotonic() + args.drain
                while time.monotonic() < deadline:
                    streams.drain()
                    for s in sampled:
                        if "t_arrival" not in s:
                            hit = streams.first(s["nip"], s["day"][:7], s["thr"])
                            if hit is not None:
                                s["score_id"], s["t_arrival"] = hit
                    if all("t_arrival" in s for s in sampled):
                        break
                    time.sleep(0.1)
                cpu_after, wall = cpu_now(), time.monotonic() - wall_before
                if phase != "warm-up":
                    print(cpu.report(cpu_before, cpu_after, len(punches), wall), flush=True)
            delivered = [s for s in sampled if "t_arrival" in s]
            print(f"delivered {len(delivered)}/{len(sampled)} streamed punches; load {load()}", flush=True)
            time.sleep(1.0)  # the relays mark what they sent; stamps are all written by now
            stamps = hops_of(urls, bootstrap, prefix, delivered)
            report(stamps, f"{args.database} at {args.rate}/s")
            if args.json:
                args.json.write_text(json.dumps(stamps, indent=1))
        finally:
            stop_system(stack, streams, None)
            shutil.rmtree(tmp, ignore_errors=True)


class _nothing:
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False


if __name__ == "__main__":
    main()
