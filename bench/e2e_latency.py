"""End-to-end latency: punch → kehadiran → Kafka → penilaian score updated → notifikasi stream client,
at a steady offered rate (100, 500, 1,000 punches/s). Not part of the test suite.

The whole system runs as real processes (``kinerja.stack.Stack``: per service gunicorn, consumer,
relay; notifikasi's webhooks and mailer) on its own Kafka broker (LocalBroker, free ports, temp
data dir) and its own PostgreSQL cluster (``ThrowawayPostgres``; one database per service). A
roster of ``--asn`` ASN (blocks of 20 under one atasan) is imported through ``pegawai.v1``;
``--streams`` of them hold a live SSE stream (asyncio raw sockets in a separate process).

Each run sends ``rate × seconds`` punches, one per ``POST /api/v1/punches`` from a registered
device, open loop: punch i is sent at t0 + i/rate whatever the earlier ones are doing (asyncio,
aiohttp, up to ``--connections`` in flight). Every punch is a new ASN-day: a past workday at 07:45
WIB, an arrival with no departure, so each adds TL1 0.5 % + PSW4 2 % = 2.5 % to that ASN's month.
For a streamed ASN's j-th punch in a month, its latency = arrival of the first ``score.updated``
frame for that ASN and month with disiplin ≤ 100 − 2.5·j, minus the time its POST was sent (a
frame that carries two punches at once counts for both). Also printed: the rate actually sent and
accepted, how far the sender fell behind its schedule, and how long after the last send the last
streamed punch arrived (the backlog).

    .venv/bin/python bench/e2e_latency.py --runs 3 --append BENCHMARKS.md
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
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "services" / "notifikasi" / "tests"))

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
    from sse_async import AsyncStream, raise_fd_limit

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


def start_system(bootstrap: str, pg_server: str, tmp: Path, n_asn: int, web_workers: int, devices: int, prefix: str):
    import requests

    from kinerja.auth import issue_token
    from kinerja.cli.roster import parse_roster, publish
    from kinerja.config import DEV_JWT_SECRET
    from kinerja.localbroker import free_port
    from kinerja.messaging.topics import ensure_topics
    from kinerja.stack import SERVICES, Stack
    from kinerja.testing import create_postgres_database

    ensure_topics(bootstrap, prefix=prefix, partitions=6)
    urls = {svc: create_postgres_database(pg_server) for svc in SERVICES}
    stack = Stack(var_dir=tmp / prefix, kafka_bootstrap=bootstrap, topic_prefix=prefix,
                  ports={svc: free_port() for svc in SERVICES}, database_urls=urls, web_workers=web_workers,
                  extra_env={"NOTIFIKASI_SSE_HEARTBEAT_S": "5", "KINERJA_LOG_LEVEL": "WARNING"})
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
    deadline = time.monotonic() + 300
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


async def send_open_loop(url: str, tokens: list[str], punches: list, rate: float, connections: int, batch: int,
                         http_timeout: float = 900) -> dict:
    """POST ``batch`` punches at a time, POST j at t0 + j·batch/rate; per punch (sent, answered, ok, status)."""
    import aiohttp

    results: list = [None] * len(punches)
    connector = aiohttp.TCPConnector(limit=connections)
    timeout = aiohttp.ClientTimeout(total=http_timeout)
    max_lag = 0.0
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:
        async def one(idx: list[int], token: str):
            body = {"punches": [{"pin": str(punches[i][0]), "time": f"{punches[i][2].isoformat()}T07:45:00+07:00"}
                                for i in idx]}
            sent = time.time()
            try:
                async with http.post(f"{url}/api/v1/punches", json=body,
                                     headers={"Authorization": f"Bearer {token}"}) as r:
                    ok = r.status == 200 and ((await r.json()).get("accepted", 0) == len(idx))
                    status = r.status
            except Exception as exc:  # noqa: BLE001 - count it as failed
                ok, status = False, repr(exc)[:80]
            done = time.time()
            for i in idx:
                results[i] = (sent, done, ok, status)

        loop = asyncio.get_running_loop()
        t0 = loop.time() + 0.05
        tasks = []
        for j, start in enumerate(range(0, len(punches), batch)):
            due = t0 + start / rate
            delay = due - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            else:
                max_lag = max(max_lag, -delay)
            tasks.append(asyncio.create_task(one(list(range(start, min(start + batch, len(punches)))), tokens[j % len(tokens)])))
        sent_done = loop.time()
        await asyncio.gather(*tasks)
    return {"results": results, "send_seconds": sent_done - t0, "max_sender_lag_s": max_lag}


def one_run(stack, streams: Streams, plan: Plan, token: list[str], rate: int, seconds: float, connections: int,
            drain_s: float, batch: int, lagmon: LagMonitor | None = None, http_timeout: float = 900) -> dict:
    n = int(rate * seconds)
    run_began = time.time()
    punches = plan.take(n)
    load_before = load()
    out = asyncio.run(send_open_loop(stack.url("kehadiran"), token, punches, rate, connections, batch, http_timeout))
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rates", default="100,500,1000")
    ap.add_argument("--seconds", type=float, default=20.0, help="sending time per run")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--asn", type=int, default=4000)
    ap.add_argument("--streams", type=int, default=200)
    ap.add_argument("--web-workers", type=int, default=2, help="gunicorn workers per service")
    ap.add_argument("--devices", type=int, default=50, help="registered devices the POSTs come from, in turn")
    ap.add_argument("--batch", type=int, default=10, help="punches per POST (1: a phone; more: a device's batch)")
    ap.add_argument("--connections", type=int, default=500, help="client connections in flight at most")
    ap.add_argument("--drain", type=float, default=120.0, help="seconds to wait for the streamed punches after a run")
    ap.add_argument("--http-timeout", type=float, default=120.0,
                    help="a POST not answered in this many seconds counts as not accepted")
    ap.add_argument("--append", type=Path, default=None)
    args = ap.parse_args()
    from kinerja.auth import issue_token
    from kinerja.config import DEV_JWT_SECRET

    every = max(1, args.asn // args.streams)
    rates = [int(r) for r in args.rates.split(",")]
    need = sum(rates) * args.runs * args.seconds / args.asn + 5  # one system may serve every run
    days = workdays_back(int(need) + 5)
    m = machine()
    load_before = load()
    print(f"machine: {machine_line(m)}; load average before {load_before}", flush=True)
    tmp = Path(tempfile.mkdtemp(prefix="bench-e2e-"))
    results = []
    stack = streams = lagmon = None
    try:
        with own_broker(6) as bootstrap, own_postgres() as pg:
            token = [issue_token(DEV_JWT_SECRET, role="device", agency=AGENCY, device_sn=device_sn(d))
                     for d in range(args.devices)]
            nips = [nip_of(i) for i in range(args.asn) if i % every == 3]
            plan = None
            systems = 0
            for rate in rates:
                runs = []
                for k in range(args.runs):
                    if stack is None:
                        systems += 1
                        prefix = f"r{rate}n{k}"
                        began = time.monotonic()
                        stack, _urls = start_system(bootstrap, pg, tmp, args.asn, args.web_workers, args.devices, prefix)
                        streams = Streams(stack.ports["notifikasi"], nips)
                        streams.wait_ready(300)
                        lagmon = LagMonitor(bootstrap, prefix)
                        plan = Plan(args.asn, every, days)
                        warm = one_run(stack, streams, plan, token, 20, 2.0, args.connections, 60, 1)
                        if warm["delivered"] == 0:
                            raise SystemExit("no streamed punch reached its stream in the warm-up; logs in " + str(tmp))
                        print(f"[{prefix}] system up, roster of {args.asn} in every service, {len(nips)} streams, warm-up "
                              f"{warm['delivered']}/{warm['streamed']} delivered: {time.monotonic() - began:.0f} s", flush=True)
                        caught_up(lagmon, 60)
                    r = one_run(stack, streams, plan, token, rate, args.seconds, args.connections, args.drain,
                                args.batch, lagmon, args.http_timeout)
                    r["system"] = systems
                    runs.append(r)
                    print(f"{rate}/s run {k + 1} (system {systems}): sent {r['sent_per_s']}/s (sender max lag {r['max_sender_lag_s']} s), "
                          f"accepted {r['accepted']}/{r['punches']} = {r['accepted_per_s']}/s {r['failures'] or ''}; "
                          f"HTTP p50/p99 {r['http_response_ms']['p50']}/{r['http_response_ms']['p99']} ms; "
                          f"e2e {r['delivered']}/{r['streamed']} streamed p50/p95/p99 {r['latency_ms']['p50']}/"
                          f"{r['latency_ms']['p95']}/{r['latency_ms']['p99']} ms (None: not delivered within "
                          f"{args.drain:.0f} s); kept up: {r['kept_up']}; last delivered "
                          f"{r['last_delivery_after_last_send_s']} s after the last send (load {r['load_after']}); "
                          f"consumer groups: {r['consumer_lag']}", flush=True)
                    # a system that kept up is reused once its consumer groups are back at lag 0; one that
                    # fell behind is replaced (new databases, new topics), so a backlog never slows the next run
                    if not (r["kept_up"] and caught_up(lagmon, 60)):
                        print("this run's backlog has not drained: a fresh system for the next run", flush=True)
                        stop_system(stack, streams, lagmon)
                        stack = streams = lagmon = None
                results.append({"offered_per_s": rate, "runs": runs,
                                "achieved_accepted_per_s": spread([r["accepted_per_s"] for r in runs], 1),
                                **{k: lat_spread([r["latency_ms"][k] for r in runs]) for k in ("p50", "p95", "p99")}})
    finally:
        stop_system(stack, streams, lagmon)
        if not os.environ.get("KEEP_BENCH"):
            shutil.rmtree(tmp, ignore_errors=True)
    load_after = load()
    result = {"when": now_utc(), "machine": m, "load_before": load_before, "load_after": load_after,
              "database": "postgresql", "batch": args.batch, "devices": args.devices, "asn": args.asn, "streams": len(nips), "seconds": args.seconds,
              "web_workers": args.web_workers, "rates": results}
    write_result("e2e_latency", result)
    table = ["| offered punches/s | sent /s | accepted /s | e2e p50 ms | e2e p95 ms | e2e p99 ms | streamed delivered | kept up | last delivery after last send | HTTP p50 / p99 ms |",
             "|---:|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        runs = r["runs"]
        table.append(
            f"| {r['offered_per_s']:,} | {', '.join(str(x['sent_per_s']) for x in runs)} | "
            f"{fmt_spread(r['achieved_accepted_per_s'])} | {fmt_lat(r['p50'], args.drain)} | {fmt_lat(r['p95'], args.drain)} | "
            f"{fmt_lat(r['p99'], args.drain)} | {', '.join(str(x['delivered']) + '/' + str(x['streamed']) for x in runs)} | "
            f"{', '.join('yes' if x['kept_up'] else 'no' for x in runs)} | "
            f"{', '.join(str(x['last_delivery_after_last_send_s']) + ' s' for x in runs)} | "
            f"{', '.join(str(x['http_response_ms']['p50']) + ' / ' + str(x['http_response_ms']['p99']) for x in runs)} |")
    print("\n" + "\n".join(table))
    if args.append:
        cmd = " ".join(["bench/e2e_latency.py", *sys.argv[1:]])
        loads = "; ".join(f"{r['offered_per_s']}/s: " + ", ".join(f"{x['load_before']} → {x['load_after']}" for x in r["runs"])
                          for r in results)
        text = "\n".join([
            f"\n## End to end: punch → kehadiran → Kafka → penilaian → notifikasi stream ({result['when']})\n",
            f"- machine: {machine_line(m)}; load average (1/5/15 min) before {load_before}, after {load_after}; per run "
            f"(before → after) {loads}. Other engineers' test suites share this 2-core machine, and the senders, "
            "the stream clients, the broker and PostgreSQL run on it too.",
            f"- command: `.venv/bin/python {cmd}`",
            f"- the whole system as real processes (`kinerja.stack.Stack`: gunicorn {args.web_workers} workers per "
            "service, each service's consumer and relay, notifikasi's webhooks and mailer) on PostgreSQL "
            "(ThrowawayPostgres, fsync off, one database per service) and its own Kafka 4.3 broker (6 partitions); "
            f"roster of {args.asn:,} ASN (blocks of 20 under one atasan) through `pegawai.v1`; {len(nips)} of them hold a "
            f"live SSE stream. Open loop: {args.batch} punch(es) per `POST /api/v1/punches`, from {args.devices} registered devices in turn "
            f"(JSON batch API), POST j sent at t0 + j·{args.batch}/rate by asyncio/aiohttp (≤ {args.connections} in flight), {args.seconds:.0f} s per run, every punch a "
            "new ASN-day (past workday 07:45, no departure: −2.5 %); latency = first `score.updated` frame on that "
            "ASN's stream whose month disiplin includes the punch − the time its POST was sent. Each punch also "
            "moves the quarter and year scores (three score events, each a notification for the ASN and the atasan). "
            f"Median (min–max) of {args.runs} runs per rate; 'sent' shows whether the sender kept the offered rate. "
            "Percentiles are over every accepted streamed punch: one not delivered within the drain "
            f"({args.drain:.0f} s after the run's last send) ranks above all delivered ones, so 'not delivered' means that "
            "share had not arrived by then. 'kept up': every punch accepted and every streamed one delivered within the "
            "drain (a backlog that drained counts; its latencies show it); a system that "
            "kept up serves the next run once its consumer groups are back at lag 0, one that did not is replaced "
            f"by a fresh one ({systems} system(s) started in all).\n",
            *table, ""])
        append_markdown(args.append, text)


if __name__ == "__main__":
    main()
