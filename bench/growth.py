"""Growth: how penilaian's rebuild time grows with the events on the topics (10 k, 100 k, 1 M), and how
score read latency (``GET /api/v1/scores/<nip>?period=``) behaves with 1 k, 10 k and 100 k ASN in
its tables. Not part of the test suite.

Rebuild: ``penilaian.entrypoints.rebuild.rebuild`` (what ``kinerja scores rebuild`` runs) from
offset 0 of fresh topics on a local broker into a fresh database. The events are a synthetic
month (``kinerja_testkit.synthetic.generate_month``: roster, punches, day summaries in several versions,
task lifecycles, innovations, ratings, training, dialogs, a policy version), about 84 messages per
ASN, with as many ASN as the size needs. Timed: read + store + recompute (publishing and the
comparison with a live database are not part of it; no live database is given). A size whose
projected time (from the previous size's rate) exceeds ``--max-seconds`` is extrapolated, not run,
and the output says so.

Reads: penilaian's tables seeded with N ASN: one template ASN's month of facts is applied through
penilaian's own handlers (``apply_batch``), and its rows (employee, the month, quarter and year
score rows with their ledger; with ``--day-facts`` its day facts too) are copied in bulk for every
other NIP. A real gunicorn
(gthread, 1 worker x 16 threads, like the Stack) answers; one client reads random ASN's own scores
in a loop (closed loop: latency of one request at a time, pegawai tokens).

    .venv/bin/python bench/growth.py --append BENCHMARKS.md
"""
from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from benchlib import (append_markdown, fmt_spread, load, machine, machine_line, now_utc, own_broker,
                      own_postgres, pcts_ms, spread, write_result)
from kinerja.config import default_partitions

PER_ASN = 84  # messages per ASN in generate_month (measured: 838 for 10 ASN)


def database(kind: str, pg_server: str | None, tmp: Path) -> str:
    if kind == "sqlite":
        return f"sqlite:///{tmp / (uuid.uuid4().hex[:8] + '.db')}"
    from kinerja.testing import create_postgres_database

    return create_postgres_database(pg_server)


# -- rebuild --------------------------------------------------------------------------------------
def rebuild_once(bootstrap: str, kind: str, pg_server: str | None, tmp: Path, events: int) -> dict:
    from benchlib.publishing import publish_events
    from kinerja.messaging.topics import ensure_topics
    from penilaian.entrypoints.rebuild import rebuild
    from kinerja_testkit.synthetic import generate_month

    n_asn = max(1, round(events / PER_ASN))
    t = time.monotonic()
    month = generate_month(n_asn, agency="growth", seed=11)
    gen_s = time.monotonic() - t
    prefix = "g" + uuid.uuid4().hex[:10]
    ensure_topics(bootstrap, prefix=prefix)  # KINERJA_PARTITIONS each
    t = time.monotonic()
    publish_events(month.events, bootstrap, prefix, "bench-growth", flush_timeout_s=3600)
    publish_s = time.monotonic() - t
    total = len(month.events)
    del month
    target = database(kind, pg_server, tmp)
    report = rebuild(bootstrap=bootstrap, prefix=prefix, live_url=None, target_url=target, timeout_s=7200)
    assert not report.failed and not report.invalid, report.summary()
    busy = report.seconds_read_apply + report.seconds_recompute
    return {"events": total, "asn": n_asn, "measured": True, "seconds": round(busy, 1),
            "read_apply_s": round(report.seconds_read_apply, 1), "recompute_s": round(report.seconds_recompute, 1),
            "events_per_s": round(total / busy), "applied": report.applied, "asn_recomputed": report.asn_recomputed,
            "generate_s": round(gen_s, 1), "publish_s": round(publish_s, 1), "load_after": load()}


# -- reads ------------------------------------------------------------------------------------------
def seed_reads(url: str, n_asn: int, with_days: bool) -> tuple[list[str], str]:
    """N ASN in penilaian's tables; returns their NIPs and the month period."""
    from sqlalchemy import insert, select

    from kinerja.config import load_settings
    from penilaian.adapters.orm import DayFactRow, Employee, ScoreRow
    from kinerja.events.envelope import decode_event as decode
    from penilaian.entrypoints.migrate import main as migrate
    from penilaian.entrypoints.runtime import make_runtime
    from penilaian.service_layer.scoring import apply_batch
    from kinerja_testkit.synthetic import generate_month

    migrate(url)
    runtime = make_runtime(load_settings("penilaian", {"database_url": url}))
    month = generate_month(3, agency="growth", seed=5)
    with runtime.session() as s, s.begin():
        apply_batch(s, None, [decode(e.to_bytes()) for _, e in month.events], tz="Asia/Jakarta")
    template = month.nips[0]
    with runtime.session() as s:
        emp = s.get(Employee, template)
        days = s.execute(select(DayFactRow).where(DayFactRow.nip == template)).scalars().all()
        scores = s.execute(select(ScoreRow).where(ScoreRow.nip == template)).scalars().all()
        period = next(r.period for r in scores if len(r.period) == 7)

        def cols(row, table):
            return {c.key: getattr(row, c.key) for c in table.__table__.columns}

        emp_d, day_d, score_d = cols(emp, Employee), [cols(d, DayFactRow) for d in days], [cols(r, ScoreRow) for r in scores]
    nips = [f"19800101{i:010d}" for i in range(n_asn)]
    with runtime.session() as s, s.begin():
        for start in range(0, n_asn, 2000):
            chunk = nips[start:start + 2000]
            s.execute(insert(Employee), [{**emp_d, "nip": n, "nama": f"ASN {n[-6:]}", "atasan_nip": None} for n in chunk])
            if with_days:
                s.execute(insert(DayFactRow), [{**d, "nip": n, "event_id": f"{n}-{d['day']}"} for n in chunk for d in day_d])
            s.execute(insert(ScoreRow), [{**r, "nip": n} for n in chunk for r in score_d])
    runtime.dispose()
    return nips, period


def start_web(url: str, log: Path):
    import requests

    from kinerja.localbroker import free_port

    port = free_port()
    env = {**os.environ, "PENILAIAN_DATABASE_URL": url, "KINERJA_KAFKA_BOOTSTRAP": "127.0.0.1:1",
           "KINERJA_LOG_LEVEL": "WARNING"}
    out = open(log, "ab")
    proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "1",
                             "--worker-class", "gthread", "--threads", "16", "--timeout", "60",
                             "penilaian.entrypoints.app:create_app()"], env=env, stdout=out, stderr=subprocess.STDOUT,
                            start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return proc, port
        except requests.RequestException:
            time.sleep(0.2)
    raise SystemExit(f"penilaian web did not start: {log}")


def read_latency(port: int, nips: list[str], period: str, requests_n: int, seed: int) -> list[float]:
    import requests

    from kinerja.auth import issue_token
    from kinerja.config import DEV_JWT_SECRET

    rng = random.Random(seed)
    sample = [rng.choice(nips) for _ in range(requests_n)]
    tokens = {n: issue_token(DEV_JWT_SECRET, role="pegawai", agency="growth", nip=n) for n in set(sample)}
    out = []
    with requests.Session() as http:
        for nip in sample[:20]:  # warm the connection and the worker
            http.get(f"http://127.0.0.1:{port}/api/v1/scores/{nip}", params={"period": period},
                     headers={"Authorization": f"Bearer {tokens[nip]}"}, timeout=30)
        for nip in sample:
            t = time.perf_counter()
            r = http.get(f"http://127.0.0.1:{port}/api/v1/scores/{nip}", params={"period": period},
                         headers={"Authorization": f"Bearer {tokens[nip]}"}, timeout=30)
            out.append(time.perf_counter() - t)
            assert r.status_code == 200 and r.json()["disiplin"]["score"] is not None, r.text[:300]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--events", default="10000,100000,1000000")
    ap.add_argument("--asn", default="1000,10000,100000")
    ap.add_argument("--db", choices=("postgresql", "sqlite"), default="postgresql")
    ap.add_argument("--runs", type=int, default=3, help="rebuild runs of the smallest size, read runs per size")
    ap.add_argument("--reads", type=int, default=1000, help="requests per read run")
    ap.add_argument("--max-seconds", type=float, default=600.0, help="extrapolate a rebuild projected to take longer")
    ap.add_argument("--day-facts", action="store_true",
                    help="copy the template's day facts too (the read path does not touch them; slow to seed)")
    ap.add_argument("--skip-rebuild", action="store_true")
    ap.add_argument("--skip-reads", action="store_true")
    ap.add_argument("--append", type=Path, default=None)
    args = ap.parse_args()
    m = machine()
    load_before = load()
    print(f"machine: {machine_line(m)}; load average before {load_before}", flush=True)
    tmp = Path(tempfile.mkdtemp(prefix="bench-growth-"))
    rebuilds, reads = [], []
    try:
        with own_postgres() as pg:
            if not args.skip_rebuild:
                with own_broker(6) as bootstrap:
                    rate = None
                    for size in [int(x) for x in args.events.split(",")]:
                        projected = size / rate if rate else 0
                        if rate and projected > args.max_seconds:
                            rebuilds.append({"events": size, "measured": False, "seconds": round(projected),
                                             "events_per_s": round(rate),
                                             "note": f"extrapolated from the {prev:,}-event rate ({rate:,.0f} events/s), "
                                                     f"not run: projected {projected:,.0f} s > {args.max_seconds:.0f} s"})
                            print(f"{size:,} events: NOT RUN, extrapolated {projected:,.0f} s at {rate:,.0f} events/s", flush=True)
                            continue
                        runs = [rebuild_once(bootstrap, args.db, pg, tmp, size)
                                for _ in range(args.runs if size <= 10_000 else 1)]
                        for r in runs:
                            print(f"{r['events']:,} events ({r['asn']:,} ASN): rebuild {r['seconds']} s "
                                  f"(read+store {r['read_apply_s']} s, recompute {r['recompute_s']} s) = "
                                  f"{r['events_per_s']:,} events/s; published in {r['publish_s']} s (load {r['load_after']})",
                                  flush=True)
                        row = dict(runs[-1])
                        row["seconds_spread"] = spread([r["seconds"] for r in runs], 1)
                        row["events_per_s"] = spread([r["events_per_s"] for r in runs])["median"]
                        rebuilds.append(row)
                        rate, prev = row["events_per_s"], size
            if not args.skip_reads:
                for n in [int(x) for x in args.asn.split(",")]:
                    url = database(args.db, pg, tmp)
                    t = time.monotonic()
                    nips, period = seed_reads(url, n, args.day_facts)
                    seed_s = time.monotonic() - t
                    proc, port = start_web(url, tmp / f"web-{n}.log")
                    try:
                        runs = [read_latency(port, nips, period, args.reads, seed=k) for k in range(args.runs)]
                    finally:
                        os.killpg(proc.pid, signal.SIGTERM)
                        proc.wait(30)
                    per = [pcts_ms(r) for r in runs]
                    row = {"asn": n, "period": period, "seed_s": round(seed_s, 1), "requests_per_run": args.reads,
                           "runs": per, **{k: spread([p[k] for p in per], 1) for k in ("p50", "p95", "p99")},
                           "load_after": load()}
                    reads.append(row)
                    print(f"{n:,} ASN (seeded in {seed_s:.0f} s): read p50/p95/p99 {row['p50']['median']}/"
                          f"{row['p95']['median']}/{row['p99']['median']} ms (runs {per}) (load {row['load_after']})",
                          flush=True)
    finally:
        if not os.environ.get("KEEP_BENCH"):
            shutil.rmtree(tmp, ignore_errors=True)
    load_after = load()
    result = {"when": now_utc(), "machine": m, "load_before": load_before, "load_after": load_after,
              "database": args.db, "rebuild": rebuilds, "reads": reads}
    write_result("growth", result)
    t1 = ["| events on the topics | ASN | rebuild time | read + store | recompute | events/s | how |", "|---:|---:|---:|---:|---:|---:|---|"]
    for r in rebuilds:
        if r["measured"]:
            how = (f"measured, {len(r['seconds_spread']['runs'])} run(s): {', '.join(str(x) + ' s' for x in r['seconds_spread']['runs'])}")
            t1.append(f"| {r['events']:,} | {r['asn']:,} | {r['seconds']} s | {r['read_apply_s']} s | {r['recompute_s']} s | "
                      f"{r['events_per_s']:,} | {how} |")
        else:
            t1.append(f"| {r['events']:,} | – | **~{r['seconds']:,} s (extrapolated)** | – | – | {r['events_per_s']:,} (assumed) | {r['note']} |")
    t2 = ["| ASN in the tables | score rows | p50 ms | p95 ms | p99 ms | seeded in |", "|---:|---:|---|---|---|---:|"]
    for r in reads:
        t2.append(f"| {r['asn']:,} | {3 * r['asn']:,} | {fmt_spread(r['p50'])} | {fmt_spread(r['p95'])} | {fmt_spread(r['p99'])} | {r['seed_s']} s |")
    print("\n" + "\n".join(t1) + "\n\n" + "\n".join(t2))
    if args.append:
        cmd = " ".join(["bench/growth.py", *sys.argv[1:]])
        text = "\n".join([
            f"\n## Growth: rebuild time by events, score reads by ASN ({result['when']})\n",
            f"- machine: {machine_line(m)}; load average (1/5/15 min) before {load_before}, after {load_after} "
            "(what else ran shows in the load; the benchmark's own processes add to it)",
            f"- command: `.venv/bin/python {cmd}`",
            f"- database: {args.db} ({'ThrowawayPostgres, fsync off' if args.db == 'postgresql' else 'a SQLite file'}); "
            "rebuild = `penilaian.entrypoints.rebuild.rebuild` (what `kinerja scores rebuild` runs) from offset 0 of "
            f"fresh topics ({default_partitions()} partitions, own LocalBroker) into a fresh database, synthetic month "
            f"(`kinerja_testkit.synthetic`, ~{PER_ASN} messages per ASN); time = read + store + recompute, no comparison.\n",
            *t1, "",
            f"Score reads: `GET /api/v1/scores/<nip>?period=` on one gunicorn (gthread 1 x 16), one client, one request "
            f"at a time, {args.reads} random ASN per run, median (min–max) of {args.runs} runs. Tables seeded with one "
            "template ASN's month applied by penilaian's `apply_batch`, copied in bulk (employee, month/quarter/year score "
            f"rows with their ledger{', ~20 day facts' if args.day_facts else ''}) for every NIP"
            f"{'' if args.day_facts else ' (day facts not copied: the read path reads the score row and the employee only)'}.\n",
            *t2, ""])
        append_markdown(args.append, text)


if __name__ == "__main__":
    main()
