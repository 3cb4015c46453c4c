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
t0 + j·batch/rate whatever the earlier ones are doing (asyncio + aiohttp in ``--senders``
processes, up to ``--connections`` in flight each). Every punch is a new ASN-day: a past workday at
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
import asyncio
import multiprocessing as mp
import os
import shutil
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

from benchlib import (append_markdown, fmt_spread, load, machine, machine_line, now_utc, own_broker,  # noqa: E402
                      own_postgres, pct, pcts_ms, spread, write_result)

AGENCY = "bench-e2e"
WIB = timezone(timedelta(hours=7))
STEP = 2.5  # TL1 0.5 + PSW4 2: a 07:45 arrival on a day that is over, with no departure


def nip_of(i: int) -> str:
    return f"19900101{i:010d}"


def workdays_back(n: int) -> list[date]:
    """The n most recent Monday–Friday dates before today (WIB), newest first."""
    day, out = datetime.now(WIB).date() - timedelta(days=1), []
    while len(out) < n:
        if day.weekday() <= 4:
            out.append(day)
        day -= timedelta(days=1)
    return out


# -- stream clients (their own process) ------------------------------------------------------------
def streams_main(port: int, nips: list[str], conn) -> None:
    from kinerja.auth import issue_token
    from kinerja.config import DEV_JWT_SECRET
    from kinerja_testkit.sse import AsyncStream, raise_fd_limit

    raise_fd_limit(len(nips) + 200)

    async def run():
        sem = asyncio.Semaphore(50)

        async def open_one(nip):
            async with sem:
                tok = issue_token(DEV_JWT_SECRET, role="pegawai", agency=AGENCY, nip=nip)
                return nip, await AsyncStream("127.0.0.1", port, tok).open(timeout_s=120)

        streams = await asyncio.gather(*(open_one(n) for n in nips))
        out: asyncio.Queue = asyncio.Queue()

        async def pump(nip, s):
            while True:
                msg = await s.messages.get()
                if msg.event == "score.updated" and msg.data:
                    p = msg.data.get("payload") or {}
                    if p.get("nip") == nip and p.get("disiplin") is not None and len(str(p.get("period", ""))) == 7:
                        out.put_nowait((nip, p["period"], float(p["disiplin"]), time.time()))

        tasks = [asyncio.create_task(pump(n, s)) for n, s in streams]
        conn.send(("ready", len(streams)))
        loop = asyncio.get_running_loop()
        stop = loop.run_in_executor(None, conn.recv)
        while not stop.done():
            batch = []
            try:
                batch.append(await asyncio.wait_for(out.get(), 0.2))
                while not out.empty():
                    batch.append(out.get_nowait())
            except asyncio.TimeoutError:
                pass
            if batch:
                conn.send(("frames", batch))
            dead = sum(1 for _, s in streams if s.ended)
            if dead:
                conn.send(("ended", dead))
        for t in tasks:
            t.cancel()
        await asyncio.gather(*(s.close() for _, s in streams), return_exceptions=True)

    asyncio.run(run())


class Streams:
    def __init__(self, port: int, nips: list[str], processes: int = 1):
        ctx = mp.get_context("spawn")
        self.pipes, self.procs = [], []
        for k in range(processes):
            parent, child = ctx.Pipe()
            p = ctx.Process(target=streams_main, args=(port, nips[k::processes], child), daemon=True)
            p.start()
            self.pipes.append(parent)
            self.procs.append(p)
        # (nip, period) -> list of (disiplin, arrival time), in arrival order
        self.frames: dict[tuple[str, str], list[tuple[float, float]]] = {}
        self.ended = 0

    def wait_ready(self, timeout_s: float) -> None:
        for pipe in self.pipes:
            if not pipe.poll(timeout_s):
                raise SystemExit("stream clients did not connect in time")
            kind, _ = pipe.recv()
            assert kind == "ready", kind

    def drain(self) -> None:
        for pipe in self.pipes:
            while pipe.poll(0):
                kind, payload = pipe.recv()
                if kind == "frames":
                    for nip, period, disiplin, at in payload:
                        self.frames.setdefault((nip, period), []).append((disiplin, at))
                elif kind == "ended":
                    self.ended = max(self.ended, payload)

    def arrival(self, nip: str, period: str, threshold: float) -> float | None:
        for disiplin, at in self.frames.get((nip, period), ()):
            if disiplin <= threshold + 1e-6:
                return at
        return None

    def stop(self) -> None:
        for pipe in self.pipes:
            try:
                pipe.send("stop")
            except (BrokenPipeError, OSError):
                pass
        for p in self.procs:
            p.join(15)
            if p.is_alive():
                p.kill()


# -- the system ---------------------------------------------------------------------------------
def db_count(url: str, table: str) -> int:
    from sqlalchemy import create_engine, text

    from kinerja.db import normalise_url

    engine = create_engine(normalise_url(url))
    try:
        with engine.connect() as c:
            return c.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
    except Exception:  # noqa: BLE001 - table not there yet
        return -1
    finally:
        engine.dispose()


def device_sn(d: int) -> str:
    return f"BENCHE2E{d:04d}"


def start_system(bootstrap: str, database: str, pg_server: str | None, tmp: Path, n_asn: int,
                 web_workers: int | None, relays: int, devices: int, prefix: str):
    """The system as ``kinerja up`` starts it (``Stack`` with its defaults: gunicorn workers and
    threads, ``relays`` relays per service), on ``database`` (sqlite: each service's default file
    under the var dir, as ``make run``; postgresql: a database per service on ``pg_server``)."""
    import requests

    from kinerja.auth import issue_token
    from kinerja.cli.roster import parse_roster, publish
    from kinerja.config import DEV_JWT_SECRET
    from kinerja.localbroker import free_port
    from kinerja.messaging.topics import ensure_topics
    from kinerja.stack import SERVICES, Stack
    from kinerja.testing import create_postgres_database

    ensure_topics(bootstrap, prefix=prefix)  # KINERJA_PARTITIONS each, as the local broker makes them
    var_dir = (tmp / prefix).resolve()
    if database == "postgresql":
        urls = {svc: create_postgres_database(pg_server) for svc in SERVICES}
        given = urls
    else:
        urls = {svc: f"sqlite:///{var_dir / (svc + '.db')}" for svc in SERVICES}
        given = {}  # the services' own default (KINERJA_VAR_DIR/<service>.db), as make run
    sizing = {} if web_workers is None else {"web_workers": web_workers}
    stack = Stack(var_dir=var_dir, kafka_bootstrap=bootstrap, topic_prefix=prefix,
                  ports={svc: free_port() for svc in SERVICES}, database_urls=given, relays=relays,
                  extra_env={"KINERJA_JWT_SECRET": DEV_JWT_SECRET}, **sizing)
    stack.start()
    stack.wait_ready(120)
    op = issue_token(DEV_JWT_SECRET, role="operator", agency=AGENCY)
    for d in range(devices):
        r = requests.post(f"{stack.url('kehadiran')}/api/v1/devices", json={"sn": device_sn(d), "agency": AGENCY, "tz": 7},
                          headers={"Authorization": f"Bearer {op}"}, timeout=30)
        assert r.status_code == 201, r.text
    rows = ["nip,nama,agency,unit,jabatan,atasan_nip,pin"]
    for i in range(n_asn):
        boss = nip_of(i - i % 20) if i % 20 else ""
        rows.append(f"{nip_of(i)},ASN {i},{AGENCY},Unit {i // 200},{'Kepala' if not boss else 'Analis'},{boss},{i + 1}")
    parsed = parse_roster("\n".join(rows) + "\n")
    assert not parsed.errors, parsed.errors[:3]
    publish(parsed.events, bootstrap, prefix)
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        counts = {svc: db_count(urls[svc], "employees") for svc in ("kehadiran", "penilaian", "notifikasi")}
        if all(c >= n_asn for c in counts.values()):
            break
        time.sleep(1)
    else:
        for p in stack.procs:
            print(f"--- {p.name}\n{stack.tail(p, 40)}")
        stack.stop()
        raise SystemExit(f"the roster did not reach every service: {counts}")
    return stack, urls


# -- where the backlog sits: each consumer group's lag, sampled once a second ---------------------
class LagMonitor:
    """Polls every consumer group's lag (end offset − committed) on the service topics; after a run
    says when each group had caught up (lag 0) and its greatest lag."""

    def __init__(self, bootstrap: str, prefix: str):
        import threading

        from kafka import KafkaAdminClient, KafkaConsumer

        self.admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="bench-lag")
        self.offsets = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None, client_id="bench-lag-ends")
        self.samples: list[tuple[float, dict[str, int]]] = []
        self.prefix = prefix + "."
        self.stop_flag = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def lags(self) -> dict[str, int]:
        out = {}
        groups = [g.get("group_id") or g.get("groupId") for g in self.admin.list_groups()]
        groups = [g[len(self.prefix):] for g in groups if g and g.startswith(self.prefix)]
        if not groups:
            return out
        for group, committed in self.admin.list_group_offsets([self.prefix + g for g in groups]).items():
            group = group[len(self.prefix):]
            tps = [tp for tp in committed if not tp.topic.endswith(".dlq")]
            if not tps:
                continue
            ends = self.offsets.end_offsets(tps)
            out[group] = sum(max(0, ends[tp] - committed[tp].offset) for tp in tps)
        return out

    def _run(self) -> None:
        while not self.stop_flag.is_set():
            try:
                self.samples.append((time.time(), self.lags()))
            except Exception:  # noqa: BLE001 - a sample missed is fine
                pass
            self.stop_flag.wait(1.0)

    def summary(self, since: float, last_send: float) -> dict[str, dict]:
        out: dict[str, dict] = {}
        for at, lags in self.samples:
            if at < since:
                continue
            for g, lag in lags.items():
                d = out.setdefault(g, {"max_lag": 0, "caught_up_after_last_send_s": None})
                d["max_lag"] = max(d["max_lag"], lag)
                if at >= last_send and "lag_at_last_send" not in d:
                    d["lag_at_last_send"], d["_t0"] = lag, at
                d["lag_at_end"], d["_t1"] = lag, at
                if lag > 0:
                    d["caught_up_after_last_send_s"] = None
                elif d["caught_up_after_last_send_s"] is None and at >= last_send:
                    d["caught_up_after_last_send_s"] = round(at - last_send, 1)
        for d in out.values():
            t0, t1 = d.pop("_t0", None), d.pop("_t1", None)
            if d.get("lag_at_end") and t0 is not None and t1 > t0 and d["lag_at_last_send"] > d["lag_at_end"]:
                rate = (d["lag_at_last_send"] - d["lag_at_end"]) / (t1 - t0)
                d["drain_msgs_per_s"] = round(rate, 1)
                d["projected_caught_up_after_last_send_s"] = round(t1 - last_send + d["lag_at_end"] / rate)
        return out

    def close(self) -> None:
        self.stop_flag.set()
        self.thread.join(5)
        self.admin.close()
        self.offsets.close()


# -- sending ------------------------------------------------------------------------------------
class Plan:
    """Which ASN-day each punch hits: ASN round-robin, each ASN's next unused past workday."""

    def __init__(self, n_asn: int, sampled_every: int, days: list[date]):
        self.n_asn, self.every, self.days = n_asn, sampled_every, days
        self.next_day = [0] * n_asn
        self.cursor = 0
        self.count: dict[tuple[str, str], int] = {}  # (nip, month) -> punches so far

    def take(self, n: int) -> list[tuple[int, str, date, float | None]]:
        """n punches: (pin, nip, day, disiplin threshold for a streamed ASN else None)."""
        out = []
        for _ in range(n):
            i = self.cursor % self.n_asn
            self.cursor += 1
            k = self.next_day[i]
            if k >= len(self.days):
                raise SystemExit("out of distinct workdays: raise --asn")
            self.next_day[i] += 1
            day = self.days[k]
            nip = nip_of(i)
            threshold = None
            if i % self.every == 3:  # streamed (not an atasan: i % 20 != 0)
                key = (nip, day.strftime("%Y-%m"))
                self.count[key] = self.count.get(key, 0) + 1
                threshold = 100 - STEP * self.count[key]
            out.append((i + 1, nip, day, threshold))
        return out


async def send_share(url: str, tokens: list[str], posts: list, rate: float, connections: int,
                     http_timeout: float, t0: float) -> dict:
    """One sender process's POSTs: ``posts`` = [(j, first punch index, [punches])], POST j sent at
    wall-clock t0 + first/rate. Per punch index: (sent, answered, ok, status)."""
    import aiohttp

    results: dict[int, tuple] = {}
    connector = aiohttp.TCPConnector(limit=connections)
    timeout = aiohttp.ClientTimeout(total=http_timeout)
    max_lag = 0.0
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:
        async def one(j: int, first: int, items: list):
            body = {"punches": [{"pin": str(p[0]), "time": f"{p[2].isoformat()}T07:45:00+07:00"} for p in items]}
            sent = time.time()
            try:
                async with http.post(f"{url}/api/v1/punches", json=body,
                                     headers={"Authorization": f"Bearer {tokens[j % len(tokens)]}"}) as r:
                    ok = r.status == 200 and ((await r.json()).get("accepted", 0) == len(items))
                    status = r.status
            except Exception as exc:  # noqa: BLE001 - count it as failed
                ok, status = False, repr(exc)[:80]
            done = time.time()
            for k in range(len(items)):
                results[first + k] = (sent, done, ok, status)

        tasks = []
        for j, first, items in posts:
            delay = t0 + first / rate - time.time()
            if delay > 0:
                await asyncio.sleep(delay)
            else:
                max_lag = max(max_lag, -delay)
            tasks.append(asyncio.create_task(one(j, first, items)))
        await asyncio.gather(*tasks)
    return {"results": results, "max_sender_lag_s": max_lag}


@dataclass
class Senders:
    pool: "ProcessPoolExecutor"
    count: int


def sender_main(url: str, tokens: list[str], posts: list, rate: float, connections: int, http_timeout: float,
                t0: float) -> dict:
    return asyncio.run(send_share(url, tokens, posts, rate, connections, http_timeout, t0))


def send_open_loop(senders, url: str, tokens: list[str], punches: list, rate: float, connections: int, batch: int,
                   http_timeout: float, while_waiting=None) -> dict:
    """POST ``batch`` punches at a time, POST j at t0 + j·batch/rate, the POSTs dealt round-robin
    to the sender processes; per punch (sent, answered, ok, status). ``while_waiting`` is called
    every 0.2 s meanwhile (the stream clients' frames are read as they come, so their pipe never
    fills and holds the clients up)."""
    from concurrent.futures import FIRST_EXCEPTION, wait

    posts = [(j, first, punches[first:first + batch]) for j, first in enumerate(range(0, len(punches), batch))]
    k = senders.count
    t0 = time.time() + 0.5
    futures = [senders.pool.submit(sender_main, url, tokens, posts[m::k], rate, connections, http_timeout, t0)
               for m in range(k)]
    while True:
        done, running = wait(futures, timeout=0.2, return_when=FIRST_EXCEPTION)
        if while_waiting is not None:
            while_waiting()
        if not running or any(f.exception() for f in done):
            break
    results: list = [None] * len(punches)
    max_lag = 0.0
    for f in futures:
        out = f.result()
        max_lag = max(max_lag, out["max_sender_lag_s"])
        for i, r in out["results"].items():
            results[i] = r
    return {"results": results, "send_seconds": (len(punches) - 1) / rate, "max_sender_lag_s": max_lag}


def one_run(stack, streams: Streams, senders, plan: Plan, token: list[str], rate: int, seconds: float,
            connections: int, drain_s: float, batch: int, lagmon: LagMonitor | None = None,
            http_timeout: float = 900) -> dict:
    n = int(rate * seconds)
    run_began = time.time()
    punches = plan.take(n)
    load_before = load()
    out = send_open_loop(senders, stack.url("kehadiran"), token, punches, rate, connections, batch, http_timeout,
                         while_waiting=streams.drain)
    results = out["results"]
    sends = [r[0] for r in results]
    first, last_sent = min(sends), max(sends)
    last_response = max(r[1] for r in results)
    ok = sum(1 for r in results if r[2])
    failures = {}
    for r in results:
        if not r[2]:
            failures[str(r[3])] = failures.get(str(r[3]), 0) + 1
    sampled = [(i, p) for i, p in enumerate(punches) if p[3] is not None and results[i][2]]
    deadline = time.monotonic() + drain_s
    latencies: dict[int, float] = {}
    while time.monotonic() < deadline:
        streams.drain()
        for i, (_pin, nip, day, thr) in sampled:
            if i not in latencies:
                at = streams.arrival(nip, day.strftime("%Y-%m"), thr)
                if at is not None:
                    latencies[i] = at - results[i][0]
        if len(latencies) == len(sampled):
            break
        time.sleep(0.2)
    # let the little that is left (unstreamed ASN behind the last streamed one) settle: no frame for 3 s
    quiet_until = time.monotonic() + 3
    seen = sum(len(v) for v in streams.frames.values())
    while time.monotonic() < min(quiet_until, deadline + 30):
        time.sleep(0.5)
        streams.drain()
        now_seen = sum(len(v) for v in streams.frames.values())
        if now_seen != seen:
            seen, quiet_until = now_seen, time.monotonic() + 3
    lat = list(latencies.values())
    # percentiles over every streamed punch that was accepted: one not delivered within the drain
    # counts as slower than all that were, so a saturated run cannot report the fast few as its p50
    lat_all = lat + [float("inf")] * (len(sampled) - len(lat))
    latency_ms = {k: (None if v is None or v == float("inf") else round(1000 * v, 1))
                  for k, v in ((k, pct(lat_all, q)) for k, q in (("p50", .5), ("p95", .95), ("p99", .99), ("max", 1.)))}
    last_arrival = max((results[i][0] + v for i, v in latencies.items()), default=None)
    response_s = [r[1] - r[0] for r in results if r[2]]
    return {
        "offered_per_s": rate, "batch": batch, "punches": n, "accepted": ok, "failures": failures,
        "sent_per_s": round(n / max(last_sent - first, 1e-9), 1),
        "accepted_per_s": round(ok / max(last_response - first, 1e-9), 1),
        "max_sender_lag_s": round(out["max_sender_lag_s"], 3),
        "last_response_after_last_send_s": round(last_response - last_sent, 2),
        "http_response_ms": pcts_ms(response_s),
        "streamed": len(sampled), "delivered": len(lat),
        "latency_ms": latency_ms, "latency_delivered_ms": pcts_ms(lat), "drain_s": drain_s,
        "kept_up": len(lat) == len(sampled) and ok == n,
        "last_delivery_after_last_send_s": round(last_arrival - last_sent, 2) if last_arrival else None,
        "load_before": load_before, "load_after": load(),
        "consumer_lag": lagmon.summary(run_began, last_sent) if lagmon else {},
    }


def caught_up(lagmon: "LagMonitor", timeout_s: float) -> bool:
    """True once every consumer group of the system is at lag 0 (polled, up to ``timeout_s``)."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            lags = lagmon.lags()
            if lags and not any(lags.values()):
                return True
        except Exception:  # noqa: BLE001 - the broker is busy; ask again
            pass
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.5)


def stop_system(stack, streams: "Streams | None", lagmon: "LagMonitor | None") -> None:
    """Stop what of one system is running (the lag monitor, the stream clients, the stack)."""
    if lagmon is not None:
        lagmon.close()
    if streams is not None:
        streams.stop()
    if stack is not None:
        stack.stop()


def lat_spread(values: list[float | None]) -> dict:
    """median and spread of one percentile over the runs; None (not delivered within the drain) ranks
    above every figure, and the median of runs where most did not arrive is None."""
    ranked = sorted(values, key=lambda v: (v is None, v or 0))
    median = ranked[(len(ranked) - 1) // 2] if len(ranked) % 2 else None
    if len(ranked) % 2 == 0:
        a, b = ranked[len(ranked) // 2 - 1], ranked[len(ranked) // 2]
        median = None if a is None or b is None else round((a + b) / 2, 1)
    return {"median": median, "min": ranked[0], "max": ranked[-1], "runs": values}


def fmt_lat(s: dict, drain: float) -> str:
    f = lambda v: "not delivered" if v is None else f"{v:,}"  # noqa: E731
    return f"{f(s['median'])} ({f(s['min'])}–{f(s['max'])})"


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
    ap.add_argument("--connections", type=int, default=500, help="client connections in flight at most, per sender")
    ap.add_argument("--drain", type=float, default=120.0, help="seconds to wait for the streamed punches after a run")
    ap.add_argument("--http-timeout", type=float, default=120.0,
                    help="a POST not answered in this many seconds counts as not accepted")
    ap.add_argument("--append", type=Path, default=None)
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
            senders = Senders(pool, args.senders)
            for database in databases:
                if database == "postgresql":
                    with own_postgres() as pg:
                        out, n = run_database(database, args, bootstrap, pg, tmp, senders, days, nips, every, rates, token)
                else:
                    out, n = run_database(database, args, bootstrap, None, tmp, senders, days, nips, every, rates, token)
                results += out
                systems += n
    finally:
        if not os.environ.get("KEEP_BENCH"):
            shutil.rmtree(tmp, ignore_errors=True)
    load_after = load()
    from kinerja.stack import Stack

    web_workers = args.web_workers or Stack.__dataclass_fields__["web_workers"].default
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
            f"{fmt_spread(r['achieved_accepted_per_s'])} | {fmt_lat(r['p50'], args.drain)} | {fmt_lat(r['p95'], args.drain)} | "
            f"{fmt_lat(r['p99'], args.drain)} | {', '.join(str(x['delivered']) + '/' + str(x['streamed']) for x in runs)} | "
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
            "var dir (make run's default); PostgreSQL: ThrowawayPostgres, fsync off, one database per service. Roster of "
            f"{args.asn:,} ASN (blocks of 20 under one atasan) through `pegawai.v1`; {len(nips):,} of them hold a live SSE "
            f"stream. Open loop: {args.batch} punch(es) per `POST /api/v1/punches`, from {args.devices} registered devices "
            f"in turn, POST j sent at t0 + j·{args.batch}/rate by {args.senders} asyncio/aiohttp sender processes "
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
