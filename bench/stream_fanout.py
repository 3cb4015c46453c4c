"""Delivery latency from a score event to stream clients, at 1,000 and 5,000 open SSE connections
against ONE notifikasi web instance (real gunicorn, production settings, PostgreSQL).

The score event is applied by notifikasi's own handler (``handle_event``: the inbox row, as the
consumer process writes it); the clock starts when that transaction commits and stops when a
client has read the frame. Clients are asyncio raw-socket readers spread over several client
processes, one ASN (NIP) per connection. Two measurements per size:

- single: one score event at a time, for a random open stream (what an ASN sees after a punch);
- burst: one score event for EVERY open stream in one transaction (worst case: everyone at once).

    .venv/bin/python bench/stream_fanout.py                      # 1000 and 5000
    .venv/bin/python bench/stream_fanout.py --sizes 1000 --workers 2 --threads 1000
    .venv/bin/python bench/stream_fanout.py --append BENCHMARKS.md

PostgreSQL: ``KINERJA_TEST_POSTGRES_URL`` (a server URL; a fresh database is made in it), else a
throwaway cluster from Debian's binaries. Not part of the test suite.
"""
from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import os
import platform
import random
import signal
import statistics
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

import requests  # noqa: E402

from kinerja.config import load_settings  # noqa: E402
from kinerja.localbroker import free_port  # noqa: E402
from notifikasi.adapters.inbox import as_dict  # noqa: E402
from notifikasi.entrypoints import migrate  # noqa: E402
from notifikasi.entrypoints.runtime import make_runtime  # noqa: E402
from notifikasi.service_layer.notifications import handle_event  # noqa: E402
from kinerja_testkit.notifikasi import score_event, token  # noqa: E402
from kinerja_testkit.sse import AsyncStream, raise_fd_limit  # noqa: E402


def nip_of(i: int) -> str:
    return f"1990010120150{i:05d}"


# -- client processes ---------------------------------------------------------------------------
def client_main(port: int, nips: list[str], conn) -> None:
    """Hold one stream per NIP; report (nip, inbox id, wall-clock receipt time) for every event."""
    raise_fd_limit(len(nips) + 500)

    async def run():
        sem = asyncio.Semaphore(100)

        async def open_one(nip):
            async with sem:
                s = await AsyncStream("127.0.0.1", port, token(nip)).open(timeout_s=120)
                first = await s.next_message(120)
                assert first.comment == "terhubung", first
                return nip, s

        streams = await asyncio.gather(*(open_one(n) for n in nips))
        conn.send(("ready", len(streams)))
        out: asyncio.Queue = asyncio.Queue()

        async def pump(nip, s):
            while True:
                msg = await s.messages.get()
                if msg.data is not None:
                    out.put_nowait((nip, msg.id, time.time()))

        tasks = [asyncio.create_task(pump(n, s)) for n, s in streams]
        loop = asyncio.get_running_loop()
        stop = loop.run_in_executor(None, conn.recv)  # any message from the parent: stop
        while not stop.done():
            batch = []
            try:
                batch.append(await asyncio.wait_for(out.get(), 0.2))
                while not out.empty():
                    batch.append(out.get_nowait())
            except asyncio.TimeoutError:
                pass
            if batch:
                conn.send(("events", batch))
        for t in tasks:
            t.cancel()
        await asyncio.gather(*(s.close() for _, s in streams), return_exceptions=True)

    asyncio.run(run())


class Clients:
    def __init__(self, port: int, nips: list[str], processes: int):
        ctx = mp.get_context("spawn")
        self.pipes, self.procs = [], []
        for k in range(processes):
            parent, child = ctx.Pipe()
            p = ctx.Process(target=client_main, args=(port, nips[k::processes], child), daemon=True)
            p.start()
            self.pipes.append(parent)
            self.procs.append(p)
        self.received: dict[int, float] = {}

    def wait_ready(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        for pipe in self.pipes:
            if not pipe.poll(max(0.1, deadline - time.monotonic())):
                raise SystemExit("clients did not connect in time")
            kind, n = pipe.recv()
            assert kind == "ready", kind

    def collect(self, ids: set[int], timeout_s: float) -> dict[int, float]:
        deadline = time.monotonic() + timeout_s
        while not ids.issubset(self.received) and time.monotonic() < deadline:
            for pipe in self.pipes:
                while pipe.poll(0.01):
                    kind, batch = pipe.recv()
                    for _nip, ident, at in batch:
                        self.received.setdefault(ident, at)
        missing = ids - set(self.received)
        if missing:
            raise SystemExit(f"{len(missing)} events not delivered within {timeout_s}s")
        return {i: self.received[i] for i in ids}

    def stop(self) -> None:
        for pipe in self.pipes:
            try:
                pipe.send("stop")
            except (BrokenPipeError, OSError):
                pass
        for p in self.procs:
            p.join(20)
            if p.is_alive():
                p.kill()


# -- the server ---------------------------------------------------------------------------------
def start_web(database_url: str, workers: int, threads: int, log_path: Path, worker_class: str | None = None):
    port = free_port()
    env = {**os.environ, "NOTIFIKASI_DATABASE_URL": database_url, "NOTIFIKASI_BIND": f"127.0.0.1:{port}",
           "NOTIFIKASI_WORKERS": str(workers), "NOTIFIKASI_THREADS": str(threads),
           "NOTIFIKASI_ACCESS_LOG": "/dev/null"}
    log = open(log_path, "wb")
    # --worker-class (for comparison only) overrides gunicorn_conf's gthread on the command line
    extra = ["-k", worker_class, "--worker-connections", str(threads + 64)] if worker_class else []
    proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "python:notifikasi.entrypoints.gunicorn_conf", *extra,
                             "notifikasi.entrypoints.app:create_app()"], env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return proc, port, log
        except requests.RequestException:
            time.sleep(0.1)
    raise SystemExit(f"gunicorn did not start: {log_path.read_text()[-2000:]}")


def rss_mib(pid: int) -> float:
    total = 0
    children = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    for p in [str(pid)] + children:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except FileNotFoundError:
            pass
    return total / 1024


def publish(runtime, nips: list[str]) -> tuple[dict[str, int], float]:
    with runtime.session() as session, session.begin():
        ids = {nip: as_dict(handle_event(session, score_event(nip, total=97.5))[0])["id"] for nip in nips}
    return ids, time.time()  # committed


def pcts(values: list[float]) -> dict[str, float]:
    v = sorted(values)

    def q(p):
        return round(1000 * v[min(len(v) - 1, int(round(p * (len(v) - 1))))], 1)

    return {"p50": q(0.50), "p95": q(0.95), "p99": q(0.99), "max": round(1000 * v[-1], 1)}


def run_size(database_url: str, size: int, workers: int, threads: int, processes: int, singles: int,
             tmp: Path, worker_class: str | None = None) -> dict:
    proc, port, log = start_web(database_url, workers, threads, tmp / f"web-{size}.log", worker_class)
    runtime = make_runtime(load_settings("notifikasi", {"database_url": database_url}))
    nips = [nip_of(i) for i in range(size)]
    clients = Clients(port, nips, processes)
    try:
        began = time.monotonic()
        clients.wait_ready(300)
        connect_s = time.monotonic() - began
        time.sleep(1.0)
        single = []
        rng = random.Random(size)
        for _ in range(singles):
            nip = rng.choice(nips)
            ids, committed = publish(runtime, [nip])
            got = clients.collect({ids[nip]}, 30)
            single.append(got[ids[nip]] - committed)
            time.sleep(0.05)
        ids, committed = publish(runtime, nips)
        got = clients.collect(set(ids.values()), 120)
        burst = [at - committed for at in got.values()]
        rss = rss_mib(proc.pid)
        return {"size": size, "connect_s": round(connect_s, 1), "single": pcts(single), "burst": pcts(burst),
                "burst_all_delivered_s": round(max(burst), 2), "rss_mib": round(rss)}
    finally:
        clients.stop()
        runtime.dispose()
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def machine() -> str:
    cpu = "?"
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                   if line.startswith("model name"))
    except (StopIteration, FileNotFoundError):
        pass
    mem = "?"
    try:
        kib = int(next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal")))
        mem = f"{kib / 1024 / 1024:.0f} GiB"
    except (StopIteration, FileNotFoundError):
        pass
    return f"{cpu}, {os.cpu_count()} CPUs, {mem} RAM, {platform.system()} {platform.release()}, Python {platform.python_version()}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="1000,5000")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--threads", type=int, default=0, help="per worker; default: max(1000, size) (see gunicorn_conf)")
    ap.add_argument("--client-processes", type=int, default=4)
    ap.add_argument("--singles", type=int, default=50, help="single events per size")
    ap.add_argument("--worker-class", default=None,
                    help="compare another gunicorn worker class (e.g. gevent, if importable); default: gunicorn_conf's gthread")
    ap.add_argument("--append", type=Path, default=None, help="append the figures to this Markdown file")
    args = ap.parse_args()
    raise_fd_limit(20000)

    import tempfile

    from kinerja.testing import ThrowawayPostgres, create_postgres_database

    tmp = Path(tempfile.mkdtemp(prefix="bench-fanout-"))
    server_url, pg = os.environ.get("KINERJA_TEST_POSTGRES_URL"), None
    if not server_url:
        pg = ThrowawayPostgres()
        server_url = pg.start()
    results = []
    try:
        for size in [int(s) for s in args.sizes.split(",")]:
            database_url = create_postgres_database(server_url)
            migrate.main(database_url)
            threads = args.threads or max(1000, size)
            r = run_size(database_url, size, args.workers, threads, args.client_processes, args.singles, tmp,
                         args.worker_class)
            r.update(workers=args.workers, threads=threads, worker_class=args.worker_class or "gthread")
            results.append(r)
            print(f"{size:>5} streams  connect {r['connect_s']} s  single p50/p95/p99 {r['single']['p50']}/"
                  f"{r['single']['p95']}/{r['single']['p99']} ms  burst p50/p95/p99 {r['burst']['p50']}/"
                  f"{r['burst']['p95']}/{r['burst']['p99']} ms (all in {r['burst_all_delivered_s']} s)  "
                  f"RSS {r['rss_mib']} MiB  [{r['worker_class']}: {args.workers} workers x {threads} threads/connections]", flush=True)
    finally:
        if pg is not None:
            pg.stop()
    info = machine()
    print(f"machine: {info}")
    if args.append:
        write_markdown(args.append, results, info, " ".join(["bench/stream_fanout.py"] + sys.argv[1:]))


def write_markdown(path: Path, results: list[dict], info: str, command: str) -> None:
    if not path.exists():
        path.write_text("# Benchmarks\n\nFigures measured on the machine named with each entry; the command reproduces them.\n")
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [f"\n## SSE fan-out: score event → stream client ({when})\n",
             f"- machine: {info}",
             f"- command: `.venv/bin/python {command}`",
             f"- one notifikasi web instance (gunicorn {results[0]['worker_class'] if results else 'gthread'}, PostgreSQL, "
             "tailer poll 0.1 s); the event is the inbox row written by notifikasi's handler; latency = commit → frame "
             "read by the client; clients: asyncio raw sockets in 4 processes on the same machine; 'connect all' "
             "includes starting those processes; single = 50 events one at a time to random streams\n",
             "| open streams | worker class: workers x threads (connections) | connect all | single event p50 / p95 / p99 | burst (one event per stream) p50 / p95 / p99 | burst all delivered | web RSS |",
             "|---:|---|---:|---|---|---:|---:|"]
    for r in results:
        lines.append(f"| {r['size']:,} | {r['worker_class']}: {r['workers']} x {r['threads']} | {r['connect_s']} s | "
                     f"{r['single']['p50']} / {r['single']['p95']} / {r['single']['p99']} ms | "
                     f"{r['burst']['p50']} / {r['burst']['p95']} / {r['burst']['p99']} ms | "
                     f"{r['burst_all_delivered_s']} s | {r['rss_mib']} MiB |")
    with open(path, "a") as f:
        f.write("\n".join(lines) + "\n")
    print(f"appended to {path}")


if __name__ == "__main__":
    main()
