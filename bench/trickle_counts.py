"""What a punch costs at a trickle, counted (issue 13, CPU a punch at 100 punches/s): per process of
the system, the Kafka requests it sends by kind, the PostgreSQL transactions and statements of each
service's database, its voluntary context switches (wake-ups) and its CPU, over a fixed open-loop
run of single punches (as ``bench/e2e_hops.py`` sends them), divided by the punches. Counts, not
timings: they hold on a loaded machine. Not a figure for BENCHMARKS.md.

Kafka requests are counted inside each process by the services' own Kafka adapter, which the stack's
environment turns on (``KINERJA_KAFKA_COUNT_DIR``: ``kinerja.messaging.request_counts``); statements by
``pg_stat_statements`` (loaded into the throwaway cluster).

    .venv/bin/python bench/trickle_counts.py --rate 100 --seconds 10
"""
from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import shutil
import signal
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from benchlib import cpu, load, machine, machine_line, own_broker
from benchlib.db import load_statement_stats
from benchlib.servers import BROKER_PIDS
from benchlib.senders import Senders, send_open_loop
from benchlib.system import workdays_back
from e2e_latency import device_sn, start_system, stop_system
from e2e_run import AGENCY, Plan, nip_of

def part_of(stack, pid: int) -> str | None:
    """The stack process (name) ``pid`` is or descends from."""
    tops = cpu.stack_pids(stack)
    seen = 0
    while pid and seen < 64:
        if pid in tops:
            return tops[pid]
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            return None
        pid, seen = int(stat[stat.rindex(")") + 2:].split()[1]), seen + 1
    return None


def kafka_counts(stack, count_dir: Path) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for f in count_dir.glob("*.json"):
        try:
            data = json.loads(f.read_text())
        except (OSError, ValueError):
            continue
        part = part_of(stack, int(f.stem)) or "other: " + " ".join(data["argv"])[:40]
        into = out.setdefault(part, {})
        for k, n in data["counts"].items():
            into[k] = into.get(k, 0) + n
    return out


def wakes(stack) -> dict[str, int]:
    """Voluntary context switches so far per stack part (all threads of all its processes)."""
    out: dict[str, int] = {}
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        part = part_of(stack, int(d.name))
        if part is None:
            continue
        try:
            for t in (d / "task").iterdir():
                for line in (t / "status").read_text().splitlines():
                    if line.startswith("voluntary_ctxt_switches"):
                        out[part] = out.get(part, 0) + int(line.split()[1])
        except OSError:
            continue
    return out


def pg_counts(server: str) -> tuple[dict[str, int], dict[tuple[str, str], int]]:
    """(xact_commit + xact_rollback per database, statement calls per (database, query))."""
    import psycopg

    with psycopg.connect(server.replace("postgresql://", "postgresql://", 1), autocommit=True) as c:
        xacts = {r[0]: r[1] for r in c.execute(
            "SELECT datname, xact_commit + xact_rollback FROM pg_stat_database WHERE datname IS NOT NULL")}
        calls = {(r[0], r[1]): r[2] for r in c.execute(
            "SELECT d.datname, s.query, s.calls FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid")}
    return xacts, calls


def tree_cpu(root: int) -> float:
    """CPU seconds of ``root`` and its descendants (this run's own PostgreSQL or broker: other
    clusters and brokers on a shared machine are not counted, as ``benchlib.cpu`` would)."""
    procs = cpu._procs()
    total = 0.0
    for pid, (_, _, secs, reaped) in procs.items():
        p, seen = pid, 0
        while p in procs and seen < 64:
            if p == root:
                # reaped: the CPU of children that exited (PostgreSQL's backends), as benchlib.cpu
                total += secs + reaped
                break
            p, seen = procs[p][0], seen + 1
    return total


def diff(after: dict, before: dict) -> dict:
    return {k: v - before.get(k, 0) for k, v in after.items() if v - before.get(k, 0)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rate", type=int, default=100)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--asn", type=int, default=400)
    ap.add_argument("--devices", type=int, default=10)
    ap.add_argument("--top", type=int, default=12, help="statements listed per database")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    from kinerja.auth import issue_token
    from kinerja.config import DEV_JWT_SECRET
    from kinerja.testing.postgres_fixtures import ThrowawayPostgres

    tmp = Path(tempfile.mkdtemp(prefix="bench-trickle-"))
    count_dir = tmp / "kafka-counts"
    count_dir.mkdir()
    # the stack's processes inherit it: each producer and consumer they make counts its requests
    os.environ["KINERJA_KAFKA_COUNT_DIR"] = str(count_dir)
    days = workdays_back(int((args.rate * args.seconds + 40) / args.asn) + 5)
    tokens = [issue_token(DEV_JWT_SECRET, role="device", agency=AGENCY, device_sn=device_sn(d))
              for d in range(args.devices)]
    print(f"machine: {machine_line(machine())}; load {load()}", flush=True)
    pg = ThrowawayPostgres()
    server = pg.start()
    stack = None
    try:
        load_statement_stats(pg, server)
        with own_broker() as bootstrap, ProcessPoolExecutor(1, mp_context=mp.get_context("spawn")) as pool:
            try:
                prefix = f"tr{int(time.time()) % 100000}"
                stack, urls = start_system(bootstrap, "postgresql", server, tmp, args.asn, None, 1, args.devices,
                                           prefix)
                roots = {"postgresql": int((pg.data / "postmaster.pid").read_text().split()[0]),
                         "kafka broker": BROKER_PIDS[bootstrap]}
                dbs = {u.rsplit("/", 1)[1].split("?")[0]: svc for svc, u in urls.items()}
                plan = Plan(args.asn, 1, days)
                senders = Senders(pool, 1)
                result = {}
                for phase, rate, seconds in (("warm-up", 10, 2.0), ("idle", 0, 5.0), ("run", args.rate, args.seconds)):
                    k0, w0, (x0, s0) = kafka_counts(stack, count_dir), wakes(stack), pg_counts(server)
                    c0, t0 = cpu.snapshot(cpu.stack_pids(stack)), time.monotonic()
                    c0.update({k: tree_cpu(r) for k, r in roots.items()})
                    punches = plan.take(int(rate * seconds))
                    if punches:
                        send_open_loop(senders, stack.url("kehadiran"), tokens, punches, rate, 100, 1, 60)
                        time.sleep(2.0)  # the last punches through every hop (a trickle: ~0.2 s)
                    else:
                        time.sleep(seconds)
                    time.sleep(0.6)  # the counters' files are written every 0.5 s
                    k1, w1, (x1, s1) = kafka_counts(stack, count_dir), wakes(stack), pg_counts(server)
                    c1, wall = cpu.snapshot(cpu.stack_pids(stack)), time.monotonic() - t0
                    c1.update({k: tree_cpu(r) for k, r in roots.items()})
                    if phase == "warm-up":
                        continue
                    n = len(punches) or wall  # idle: per second
                    unit = "a punch" if punches else "a second"
                    print(f"\n== {phase}: {len(punches)} punches at {rate}/s, {wall:.1f} s (load {load()}); "
                          f"counts {unit}", flush=True)
                    res = {"punches": len(punches), "wall": wall, "kafka": {}, "wakes": {}, "xacts": {}, "cpu": {},
                           "statements": {}}
                    for part in sorted(set(k1) | set(w1)):
                        kd = diff(k1.get(part, {}), k0.get(part, {}))
                        res["kafka"][part] = kd
                        res["wakes"][part] = w1.get(part, 0) - w0.get(part, 0)
                        res["cpu"][part] = c1.get(part, 0) - c0.get(part, 0)
                        print(f"{part:<22} cpu {1000 * res['cpu'][part] / n:7.2f} ms  wakes "
                              f"{res['wakes'][part] / n:7.2f}  kafka "
                              + ", ".join(f"{k} {v / n:.2f}" for k, v in sorted(kd.items(), key=lambda kv: -kv[1])))
                    for part in ("postgresql", "kafka broker"):
                        res["cpu"][part] = c1.get(part, 0) - c0.get(part, 0)
                        print(f"{part:<22} cpu {1000 * res['cpu'][part] / n:7.2f} ms")
                    xd, sd = diff(x1, x0), diff(s1, s0)
                    for db, svc in dbs.items():
                        res["xacts"][svc] = xd.get(db, 0)
                        mine = sorted(((v, q) for (d, q), v in sd.items() if d == db), reverse=True)
                        res["statements"][svc] = {q: v for v, q in mine}
                        print(f"-- {svc}: transactions {xd.get(db, 0) / n:.2f}, statements "
                              f"{sum(v for v, _ in mine) / n:.2f} {unit}")
                        for v, q in mine[:args.top]:
                            print(f"   {v / n:7.2f}  {' '.join(q.split())[:150]}")
                    result[phase] = res
                if args.json:
                    args.json.write_text(json.dumps(result, indent=1))
            finally:
                stop_system(stack, None, None)
    finally:
        pg.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
