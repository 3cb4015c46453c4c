"""CPU seconds kehadiran's gunicorn workers spend on a fixed number of single-punch requests, as
``kinerja.stack`` serves them (gthread, the redacting access log on stdout, Prometheus' multiprocess
folder with several workers), driven by the ingest benchmark's keep-alive client: one one-line ADMS
upload (or one one-punch JSON batch) a request, ``--conns`` devices at once (``--lines``: that many
punches a request instead, bench_ingest's batches; the figures stay a request's).

It counts the workers' user + system CPU (``/proc/<pid>/stat``) over the requests, not requests/s:
the figure for a change to the web path that holds on a loaded machine, when variants run side by
side and take turns round by round (A/B interleaved). A variant is a gunicorn shape or another
copy of the code:

    .venv/bin/python bench/web_cpu.py --db sqlite --requests 3000 --rounds 3 \\
        --variant now --variant main --set main.pythonpath=/tmp/main/shared/src:/tmp/main/services/kehadiran/src
    .venv/bin/python bench/web_cpu.py --db postgresql://postgres@127.0.0.1:5432/postgres \\
        --variant t16 --variant t4 --set t4.threads=4 --variant quiet --set quiet.accesslog=off

``--db``: ``sqlite`` (a file each variant) or a PostgreSQL server URL (a new database each
variant). ``--set NAME.KEY=VALUE``, KEY one of ``workers``, ``threads``, ``worker`` (gunicorn's
``--worker-class``, gthread by default), ``accesslog`` (on/off),
``pythonpath`` (``git archive`` a commit into a folder: its ``shared/src`` and
``services/kehadiran/src`` ahead of the installed ones), ``env.NAME`` or ``sql`` (statements run on
the variant's database once it is prepared, before the server starts: a schema variant, such as an
index dropped, measured against the schema as migrated). ``--profile NAME``
writes that variant's workers' cProfile (every thread, ``time.thread_time``) as pstats files to
``--out`` when they stop. Not part of the test suite.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path

from benchlib.keepalive import KeepAlive

PROFILE_CONF = Path(__file__).with_name("benchlib") / "gunicorn_profile.py"


def cpu_seconds(pid: int) -> tuple[float, float]:
    """(user, system) CPU seconds of process ``pid``."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / tick, int(fields[12]) / tick


def backend_cpu(url: str) -> dict[int, float] | None:
    """{backend pid: user + system CPU seconds} of the PostgreSQL sessions on ``url``'s database,
    when the server runs on this machine (its backends' /proc readable); else None (SQLite, a
    remote server). A backend opened during a round counts from zero."""
    if not url.startswith("postgresql"):
        return None
    import psycopg

    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
        pids = [row[0] for row in conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")]
    out = {}
    for pid in pids:
        try:
            out[pid] = sum(cpu_seconds(pid))
        except OSError:
            continue  # ended meanwhile, or not a process of this machine (a remote server: None)
    return out or None


def run_sql(url: str, statements: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.begin() as conn:
        for statement in filter(str.strip, statements.split(";")):
            conn.execute(text(statement))
    engine.dispose()


def workers_of(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    return [int(x) for x in out]


def prepare(db: str, devices: int, people: int) -> str:
    """A migrated database with ``people`` ASN and ``devices`` registered terminals (in a process
    of its own: this one imports nothing of kehadiran, a variant's copy may differ)."""
    if db == "sqlite":
        url = f"sqlite:///{tempfile.mkdtemp(prefix='kinerja-webcpu-')}/kehadiran.db"
    else:
        from kinerja.testing import create_postgres_database

        url = create_postgres_database(db)
    subprocess.run([sys.executable, "-c", "import request_cost, sys; request_cost.PEOPLE = int(sys.argv[2]); "
                    "request_cost.setup(sys.argv[1], int(sys.argv[3])).extensions['kinerja_runtime'].dispose()",
                    url, str(people), str(devices)], check=True, cwd=Path(__file__).parent)
    return url


class Variant:
    def __init__(self, name: str, settings: dict[str, str]):
        self.name, self.settings = name, settings
        self.cpu: list[tuple[float, float]] = []
        self.db_cpu: list[float] = []  # PostgreSQL backends' CPU a request (a local server)
        self.url = ""
        self.proc: subprocess.Popen | None = None
        self.port = 0

    def start(self, url: str, profile_dir: Path | None) -> None:
        s = self.settings
        workers, threads = int(s.get("workers", 2)), int(s.get("threads", 16))
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        sock.close()
        env = dict(os.environ, KEHADIRAN_DATABASE_URL=url, KINERJA_KAFKA_BOOTSTRAP="127.0.0.1:1",
                   KINERJA_LOG_LEVEL="WARNING", PYTHONUNBUFFERED="1")
        if s.get("pythonpath"):
            env["PYTHONPATH"] = s["pythonpath"]
        if workers > 1:  # as kinerja.stack.Stack.web_env
            env["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="kinerja-webcpu-metrics-")
        env.update({k[4:]: v for k, v in s.items() if k.startswith("env.")})
        cmd = [sys.executable, "-m", "gunicorn"]
        if profile_dir is not None:
            env["KINERJA_PROFILE_DIR"] = str(profile_dir)
            cmd += ["-c", str(PROFILE_CONF)]
        else:  # as kinerja.stack: the workers' collector tuned once the app is loaded (kinerja.gc_tuning)
            cmd += ["-c", "python:kinerja.gunicorn_hooks"]
        cmd += ["--bind", f"127.0.0.1:{self.port}", "--workers", str(workers), "--worker-class", s.get("worker", "gthread"),
                "--threads", str(threads), "--graceful-timeout", "5", "--timeout", "60"]
        if s.get("accesslog", "on") == "on":
            cmd += ["--access-logfile", "-", "--logger-class", "kinerja.accesslog.RedactingLogger"]
        log = open(Path(tempfile.gettempdir()) / f"kinerja-webcpu-{self.name}-{self.port}.log", "w")
        self.proc = subprocess.Popen(cmd + ["kehadiran.entrypoints.app:create_app()"], env=env, stdout=log,
                                     stderr=subprocess.STDOUT, cwd=tempfile.gettempdir())
        deadline = time.monotonic() + 120
        while len(workers_of(self.proc.pid)) < workers or not _listening(self.port):
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn of {self.name} did not start: see {log.name}")
            time.sleep(0.2)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(60)


def _listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), 0.5).close()
        return True
    except OSError:
        return False


def drive(port: int, kind: str, n: int, conns: int, people: int, day: int, lines: int = 1) -> None:
    """``n`` requests of ``lines`` new punches each, ``conns`` devices taking turns."""
    from kinerja.auth import issue_token
    from kinerja.config import DEV_JWT_SECRET

    base = datetime(2026, 11, 30, 7, 0) - timedelta(days=day)

    def device(c: int) -> None:
        sn = f"BENCH{c:04d}"
        headers = ({"Authorization": "Bearer " + issue_token(DEV_JWT_SECRET, role="device", agency="bench",
                                                             device_sn=sn)}
                   if kind == "json" else {"User-Agent": "iClock Proxy/1.09"})
        with KeepAlive(f"http://127.0.0.1:{port}", headers) as http:
            for i in range(c, n, conns):
                # each punch of the round its own second: every one is new
                punches = [(1 + k % people, base + timedelta(seconds=k)) for k in range(i * lines, (i + 1) * lines)]
                if kind == "adms":
                    status, body = http.post(f"/iclock/cdata?SN={sn}&table=ATTLOG&Stamp=1", "".join(
                        f"{pin}\t{when:%Y-%m-%d %H:%M:%S}\t0\t1\t0\t0\t0\n" for pin, when in punches).encode(),
                                             "text/plain")
                else:
                    status, body = http.post("/api/v1/punches", json.dumps(
                        {"punches": [{"pin": str(pin), "time": when.isoformat() + "+07:00"} for pin, when in punches]}
                    ).encode(), "application/json")
                assert status == 200, body

    with ThreadPoolExecutor(conns) as pool:
        list(pool.map(device, range(conns)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="sqlite")
    parser.add_argument("--kind", choices=["adms", "json"], default="adms")
    parser.add_argument("--requests", type=int, default=3000, help="requests a round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--conns", type=int, default=50, help="devices sending at once (keep-alive each)")
    parser.add_argument("--people", type=int, default=500)
    parser.add_argument("--lines", type=int, default=1,
                        help="punches a request (ADMS lines or JSON items; bench_ingest's batches: 100 / 200)")
    parser.add_argument("--variant", action="append", default=[])
    parser.add_argument("--set", action="append", default=[], help="NAME.KEY=VALUE")
    parser.add_argument("--profile", help="the variant whose workers are profiled")
    parser.add_argument("--out", default=tempfile.gettempdir(), help="folder of --profile's pstats files")
    args = parser.parse_args()
    variants = [Variant(name, {}) for name in (args.variant or ["now"])]
    by_name = {v.name: v for v in variants}
    for item in args.set:
        target, _, value = item.partition("=")
        name, _, key = target.partition(".")
        by_name[name].settings[key] = value
    try:
        for v in variants:
            v.url = prepare(args.db, args.conns, args.people)
            if v.settings.get("sql"):
                run_sql(v.url, v.settings["sql"])
            v.start(v.url, Path(args.out) if v.name == args.profile else None)
            drive(v.port, args.kind, max(50, 500 // args.lines), args.conns, args.people, day=0, lines=args.lines)  # warm: caches, prepared statements
        for r in range(args.rounds):
            for v in variants:
                pids = workers_of(v.proc.pid)
                before = [cpu_seconds(p) for p in pids]
                db_before = backend_cpu(v.url)
                t0 = time.perf_counter()
                drive(v.port, args.kind, args.requests, args.conns, args.people, day=r + 1, lines=args.lines)
                wall = time.perf_counter() - t0
                after = [cpu_seconds(p) for p in pids]
                user = sum(a[0] - b[0] for a, b in zip(after, before)) / args.requests * 1e6
                system = sum(a[1] - b[1] for a, b in zip(after, before)) / args.requests * 1e6
                v.cpu.append((user, system))
                db = backend_cpu(v.url)
                db_us = (sum(db.get(pid, 0.0) - db_before.get(pid, 0.0) for pid in db) / args.requests * 1e6
                         if db is not None and db_before is not None else None)
                if db_us is not None:
                    v.db_cpu.append(db_us)
                print(f"round {r + 1} {v.name}: {user + system:.0f} us worker CPU a request (system {system:.0f}), "
                      + (f"{db_us:.0f} us PostgreSQL backends' CPU, " if db_us is not None else "")
                      + f"{args.requests / wall:.0f} requests/s", flush=True)
    finally:
        for v in variants:
            v.stop()
    load = os.getloadavg()
    print(f"{args.kind} on {'sqlite' if args.db == 'sqlite' else 'postgresql'}, {args.requests} requests a round, "
          f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} at the end")
    for v in variants:
        totals = [u + s for u, s in v.cpu]
        print(f"{v.name}: median {statistics.median(totals):.0f} us worker CPU a request "
              f"({', '.join(f'{t:.0f}' for t in totals)}) {v.settings or ''}")
        if v.db_cpu:
            print(f"{v.name}: median {statistics.median(v.db_cpu):.0f} us PostgreSQL backends' CPU a request "
                  f"({', '.join(f'{t:.0f}' for t in v.db_cpu)})")


if __name__ == "__main__":
    main()
