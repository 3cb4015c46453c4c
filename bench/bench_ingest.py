"""How fast kehadiran accepts punches: ADMS ``ATTLOG`` lines/s and JSON punches/s, against a real
gunicorn process, on SQLite and on PostgreSQL. Not part of the test suite.

A punch counts once it is accepted: stored with its outbox event and the recomputed day summary
(in the same transaction), and acknowledged to the client. Kafka is deliberately unreachable, so
the outbox only fills (the relay is another process and another benchmark).

Each run is a Monday-morning rush on a fresh day: ``--people`` ASN with one punch each, sent by
``--clients`` devices in parallel in batches of ``--batch`` lines. Prints median and spread of
``--runs`` runs, and checks that every accepted punch was stored exactly once with its event.

    .venv/bin/python bench/bench_ingest.py --db both --runs 5 --append BENCHMARKS.md

PostgreSQL: ``KINERJA_TEST_POSTGRES_URL`` (a maintenance database URL), else a throwaway cluster
from Debian's binaries, as the test harness does.
"""
from __future__ import annotations

import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import requests
from sqlalchemy import func, select

from kehadiran.adapters.orm import Employee, PunchRow
from kehadiran.entrypoints.runtime import make_runtime
from kehadiran.service_layer.attendance import register_device
from kinerja.auth import issue_token
from kinerja.config import DEV_JWT_SECRET, load_settings
from kinerja.localbroker import free_port
from kinerja.migrations import upgrade
from kinerja.testing import ThrowawayPostgres, create_postgres_database

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchlib import append_markdown, fmt_spread, load, machine, machine_line, now_utc, spread, write_result  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
MIGRATIONS = ROOT / "services" / "kehadiran" / "migrations"
AGENCY = "bench"
WIB = timezone(timedelta(hours=7))


def seed(database_url: str, people: int, clients: int) -> None:
    upgrade(MIGRATIONS, database_url, "heads")
    runtime = make_runtime(load_settings("kehadiran", {"database_url": database_url}))
    with runtime.session() as s, s.begin():
        for i in range(1, people + 1):
            s.add(Employee(nip=f"19900101{i:010d}", nama=f"ASN {i}", agency=AGENCY, unit="Sekretariat",
                           pin=str(i), active=True))
        for c in range(clients):
            register_device(s, sn=f"BENCH{c:04d}", agency=AGENCY, tz_offset_minutes=420)
    runtime.dispose()


def counts(database_url: str) -> tuple[int, int]:
    runtime = make_runtime(load_settings("kehadiran", {"database_url": database_url}))
    with runtime.session() as s:
        punches = s.execute(select(func.count()).select_from(PunchRow)).scalar_one()
        events = s.execute(select(func.count()).select_from(runtime.outbox_table)
                           .where(runtime.outbox_table.c.value.like('%kehadiran.punch.recorded.v1%'))).scalar_one()
    runtime.dispose()
    return punches, events


class Gunicorn:
    def __init__(self, database_url: str, workers: int, threads: int, log: Path):
        self.port = free_port()
        env = {**os.environ, "KEHADIRAN_DATABASE_URL": database_url, "KINERJA_KAFKA_BOOTSTRAP": "127.0.0.1:1",
               "KINERJA_LOG_LEVEL": "WARNING", "PYTHONUNBUFFERED": "1"}
        self.log = open(log, "ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{self.port}", "--workers", str(workers),
             "--worker-class", "gthread", "--threads", str(threads), "--timeout", "120",
             "kehadiran.entrypoints.app:create_app()"],
            env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        self.url = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(self.url + "/healthz", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn did not start; see {log}")
            time.sleep(0.1)

    def stop(self) -> None:
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        self.log.close()


def chunks(seq: list, size: int):
    for i in range(0, len(seq), size):
        yield seq[i:i + size]


def adms_run(url: str, day: date, people: int, clients: int, batch: int) -> tuple[int, float]:
    def client(c: int) -> int:
        pins = range(c + 1, people + 1, clients)
        lines = [f"{pin}\t{day.isoformat()} 07:{pin % 30 + 10:02d}:{pin % 60:02d}\t0\t1\t0\t0\t0" for pin in pins]
        accepted = 0
        with requests.Session() as http:
            http.headers["User-Agent"] = "iClock Proxy/1.09"
            for part in chunks(lines, batch):
                r = http.post(f"{url}/iclock/cdata?SN=BENCH{c:04d}&table=ATTLOG&Stamp=1",
                              data=("\n".join(part) + "\n").encode(), timeout=120)
                assert r.status_code == 200 and r.text.startswith("OK:"), r.text
                assert len(r.raw.headers.getlist("Date")) == 1, r.raw.headers  # one Date, gunicorn's
                accepted += int(r.text[3:])
        return accepted

    start = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        accepted = sum(pool.map(client, range(clients)))
    return accepted, time.perf_counter() - start


def json_run(url: str, day: date, people: int, clients: int, batch: int) -> tuple[int, float]:
    def client(c: int) -> int:
        token = issue_token(DEV_JWT_SECRET, role="device", agency=AGENCY, device_sn=f"BENCH{c:04d}")
        pins = range(c + 1, people + 1, clients)
        items = [{"pin": str(pin), "time": f"{day.isoformat()}T07:{pin % 30 + 10:02d}:{pin % 60:02d}+07:00"}
                 for pin in pins]
        accepted = 0
        with requests.Session() as http:
            http.headers["Authorization"] = f"Bearer {token}"
            for part in chunks(items, batch):
                r = http.post(f"{url}/api/v1/punches", json={"punches": part}, timeout=120)
                assert r.status_code == 200, r.text
                body = r.json()
                accepted += body["accepted"] + body["duplicates"] + body["quarantined"]
        return accepted

    start = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        accepted = sum(pool.map(client, range(clients)))
    return accepted, time.perf_counter() - start


def summary(rates: list[float]) -> str:
    return (f"median {statistics.median(rates):7.0f}/s   min {min(rates):7.0f}/s   max {max(rates):7.0f}/s   "
            f"runs {', '.join(f'{r:.0f}' for r in rates)}")


def bench(kind: str, database_url: str, args, workdir: Path) -> list[dict]:
    """Every batch size of ``--batches``, ``--runs`` times each; a row per (batch size, kind)."""
    seed(database_url, args.people, args.clients)
    server = Gunicorn(database_url, args.workers, args.threads, workdir / f"gunicorn-{kind}.log")
    today = datetime.now(WIB).date()
    rows = []
    try:
        for b, batch in enumerate(args.batches):
            results: dict[str, list[float]] = {"ADMS lines": [], "JSON punches": []}
            for run in range(args.runs):
                back = 1 + 2 * (run + b * args.runs)  # a fresh day for every run
                for name, fn, day in (("ADMS lines", adms_run, today - timedelta(days=back)),
                                      ("JSON punches", json_run, today - timedelta(days=back + 1))):
                    before = counts(database_url)
                    accepted, elapsed = fn(server.url, day, args.people, args.clients, batch)
                    after = counts(database_url)
                    stored = (after[0] - before[0], after[1] - before[1])
                    assert accepted == args.people and stored == (args.people, args.people), (accepted, stored)
                    results[name].append(accepted / elapsed)
            print(f"\n{kind}: {args.people} punches a run, {args.clients} devices in parallel, batches of {batch}, "
                  f"gunicorn {args.workers} workers x {args.threads} threads, load average after {os.getloadavg()[0]:.1f}")
            for name, rates in results.items():
                print(f"  {name:13s} accepted  {summary(rates)}", flush=True)
                rows.append({"database": kind, "kind": name, "batch": batch, **spread(rates), "load_after": load()})
    finally:
        server.stop()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--people", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--batches", default="200,1",
                        help="punches per request, comma-separated (200: a device's backlog; 1: a phone or a live push)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--append", type=Path, default=None, help="append the figures to this Markdown file")
    args = parser.parse_args()
    args.batches = [int(b) for b in args.batches.split(",")]
    m, load_before = machine(), load()
    rows: list[dict] = []
    workdir = Path(tempfile.mkdtemp(prefix="kinerja-bench-"))
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average before {os.getloadavg()[0]:.1f}, "
          f"logs in {workdir}")
    pg: ThrowawayPostgres | None = None
    try:
        if args.db in ("sqlite", "both"):
            rows += bench("SQLite", f"sqlite:///{workdir / 'kehadiran.db'}", args, workdir)
        if args.db in ("postgresql", "both"):
            server_url = os.environ.get("KINERJA_TEST_POSTGRES_URL")
            if not server_url:
                pg = ThrowawayPostgres()
                server_url = pg.start()
            rows += bench("PostgreSQL", create_postgres_database(server_url), args, workdir)
    finally:
        if pg is not None:
            pg.stop()
    if not os.environ.get("KEEP_BENCH"):
        shutil.rmtree(workdir, ignore_errors=True)
    result = {"when": now_utc(), "machine": m, "load_before": load_before, "load_after": load(),
              "people": args.people, "clients": args.clients, "workers": args.workers, "threads": args.threads,
              "runs": args.runs, "rows": rows}
    write_result("bench_ingest", result)
    table = ["| database | punches per request | ADMS lines/s | JSON punches/s |", "|---|---:|---|---|"]
    for db in dict.fromkeys(r["database"] for r in rows):
        for batch in args.batches:
            cell = {r["kind"]: fmt_spread(r) for r in rows if r["database"] == db and r["batch"] == batch}
            table.append(f"| {db} | {batch} | {cell.get('ADMS lines', '–')} | {cell.get('JSON punches', '–')} |")
    print("\n" + "\n".join(table))
    if args.append:
        cmd = " ".join(["bench/bench_ingest.py", *sys.argv[1:]])
        append_markdown(args.append, "\n".join([
            f"\n## kehadiran ingest: punches accepted per second ({result['when']})\n",
            f"- machine: {machine_line(m)}; load average (1/5/15 min) before {load_before}, after {result['load_after']} "
            "(other engineers' test suites share this 2-core machine)",
            f"- command: `.venv/bin/python {cmd}`",
            f"- one gunicorn ({args.workers} workers x {args.threads} threads), {args.clients} devices posting in parallel, "
            f"{args.people:,} ASN with one punch each per run on a fresh day; accepted = stored with its outbox event and "
            "the recomputed day summary in one transaction, checked by counting rows after each run; Kafka unreachable "
            f"(the outbox only fills). Median (min–max) of {args.runs} runs.\n",
            *table, ""]))


if __name__ == "__main__":
    main()
