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
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

from benchlib import append_markdown, machine_line, now_utc, own_postgres, pcts_ms
from benchlib.streams import StreamReaders
from kinerja.config import load_settings
from kinerja.localbroker import free_port
from kinerja.testing import create_postgres_database
from kinerja_testkit.notifikasi import AGENCY, score_event
from kinerja_testkit.sse import raise_fd_limit
from notifikasi.adapters.inbox import as_dict
from notifikasi.entrypoints import migrate
from notifikasi.entrypoints.runtime import make_runtime
from notifikasi.service_layer.notifications import handle_event


def nip_of(i: int) -> str:
    return f"1990010120150{i:05d}"


# -- client processes ---------------------------------------------------------------------------
def inbox_frame(nip: str, msg) -> tuple | None:
    """(nip, inbox id, wall-clock receipt time) of every event a stream reads."""
    return (nip, msg.id, time.time()) if msg.data is not None else None


class Clients(StreamReaders):
    """One stream per NIP, its greeting read before it counts as open."""

    def __init__(self, port: int, nips: list[str], processes: int):
        super().__init__(port, nips, processes, agency=AGENCY, pick=inbox_frame, opening=100, fd_headroom=500,
                         greeting="terhubung")
        self.received: dict[int, float] = {}

    def collect(self, ids: set[int], timeout_s: float) -> dict[int, float]:
        deadline = time.monotonic() + timeout_s
        while not ids.issubset(self.received) and time.monotonic() < deadline:
            for _nip, ident, at in self.frames(0.01):
                self.received.setdefault(ident, at)
        missing = ids - set(self.received)
        if missing:
            raise SystemExit(f"{len(missing)} events not delivered within {timeout_s}s")
        return {i: self.received[i] for i in ids}


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
        return {"size": size, "connect_s": round(connect_s, 1), "single": pcts_ms(single), "burst": pcts_ms(burst),
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

    tmp = Path(tempfile.mkdtemp(prefix="bench-fanout-"))
    results = []
    with own_postgres() as server_url:
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
    info = machine_line()
    print(f"machine: {info}")
    if args.append:
        write_markdown(args.append, results, info, " ".join(["bench/stream_fanout.py"] + sys.argv[1:]))


def write_markdown(path: Path, results: list[dict], info: str, command: str) -> None:
    when = now_utc()
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
    append_markdown(path, "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
