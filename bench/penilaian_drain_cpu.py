"""CPU seconds penilaian's consumer (and its PostgreSQL backends) spends on a fixed stream, the one
it sees in the drain window of a 20,000-line upload: ``--n`` punch records (fetched only to be
passed over), ``--n`` day summaries of one workday (applied) and 3 × ``--n`` of its own score
updates (a month, quarter and year a summary; passed over), through the real broker. Not part of the test suite.

Each run: fresh topics and database; the roster (``--n`` ASN) and a policy published and applied
by a ``penilaian.entrypoints.consumer`` process (warm: imports, group join, roster rows); then the
CPU reading, the stream published (``--mode live``: while the consumer runs, at the bench
producer's pace, as a relay would; ``--mode backlog``: the consumer stopped first and started
again on the whole stream, CPU taken from its first new row), the wait for lag 0, and the reading
again. Checked every run: every day summary in ``day_facts``, each event recorded once, every
punch and score update passed over (the consumer's own counts).

A/B: ``--a`` (and ``--b``) are git revisions whose ``shared`` and ``penilaian`` sources (``git
archive``) the A (B) consumer imports first (``PYTHONPATH``); B without ``--b`` is this worktree
as it is when each consumer starts. Runs alternate A B B A A B ... ``--statements``: the top
statements of each run (``pg_stat_statements``: a server of ``KINERJA_TEST_POSTGRES_URL`` started
with it preloaded).

    .venv/bin/python bench/penilaian_drain_cpu.py --n 20000 --pairs 3 --a main --b HEAD
"""
from __future__ import annotations

import argparse
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import ExitStack
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import create_engine, text

from benchlib import cpu as cpumod
from benchlib import fresh_database, load, own_broker, own_postgres
from kinerja.config import load_settings
from kinerja.events.envelope import Event
from kinerja.events.pegawai import EMPLOYEE_UPSERTED
from kinerja.events.penilaian import POLICY_SET, SCORE_UPDATED
from kinerja.localbroker import free_port
from kinerja.messaging import topics
from kinerja.messaging.producer import make_producer
from kinerja.messaging.topics import ensure_topics, topic
from kinerja_testkit.synthetic import synthetic_nip
from kehadiran.adapters import outbox_events
from penilaian.entrypoints.consumer import TOPICS
from penilaian.entrypoints.migrate import main as migrate

AGENCY = "bench"
STATEMENTS = False  # --statements
WIB = timezone(timedelta(hours=7))


def workday() -> date:
    d = date.today() - timedelta(days=1)
    while d.weekday() >= 5:
        d -= timedelta(days=1)
    return d


def roster(n: int) -> list[tuple[str, str, bytes]]:
    out = []
    at = datetime.now(timezone.utc) - timedelta(days=30)
    nips = [synthetic_nip(i) for i in range(n)]
    for i, nip in enumerate(nips):
        boss = None if i == 0 else nips[0] if i % 10 == 0 else nips[i - i % 10]
        e = Event(id=str(uuid.uuid4()), type=EMPLOYEE_UPSERTED, source="bench", time=at, subject=nip, agency=AGENCY,
                  data={"nip": nip, "nama": f"ASN {i}", "agency": AGENCY, "unit": f"Bidang {i % 6 + 1}",
                        "atasan_nip": boss, "pin": str(1000 + i), "jabatan": "Staf"})
        out.append((topics.PEGAWAI, nip, e.to_bytes()))
    first = date.today().replace(day=1) - timedelta(days=62)
    e = Event(id=str(uuid.uuid4()), type=POLICY_SET, source="bench", time=at, subject=AGENCY, agency=AGENCY,
              data={"policy_id": str(uuid.uuid4()), "agency": AGENCY, "version": 1, "effective_from": first.isoformat(),
                    "weight_hasil_kerja": "0.7", "weight_perilaku": "0.3", "above_from": "88", "meets_from": "70",
                    "innovation_points": "4", "innovation_cap": "8", "timeliness_penalty_per_day": "10",
                    "distribution_curve": None, "set_by": nips[0], "set_at": at.isoformat()})
    out.append((topics.PENILAIAN, AGENCY, e.to_bytes()))
    return out


def stream(n: int, day: date, scores: bool = True, chunk: int = 500) -> list[tuple[str, str, bytes]]:
    """Punches and day summaries as kehadiran's relay publishes them in the drain (a chunk of
    punches, then their days' summaries), and penilaian's score updates after each chunk."""
    out = []
    now = datetime.now(timezone.utc)
    at = now.isoformat()
    for start in range(0, n, chunk):
        ids = {}
        for i in range(start, min(n, start + chunk)):
            nip = synthetic_nip(i)
            t = datetime.combine(day, datetime.min.time(), WIB).replace(hour=7, minute=i % 60)
            punch_id, event_id = outbox_events.punch_ids("SN1", str(1000 + i), t)
            ids[i] = event_id
            e = outbox_events.punch_recorded(event_id, punch_id=punch_id, nip=nip, agency=AGENCY, device_sn="SN1",
                                             pin=str(1000 + i), time=t.astimezone(timezone.utc), status="0",
                                             channel="adms", at=at)
            out.append((topics.KEHADIRAN, nip, outbox_events.encode(e).encode()))
        for i in range(start, min(n, start + chunk)):
            nip = synthetic_nip(i)
            late = (i * 7) % 60 if i % 3 == 0 else 0
            data = {"nip": nip, "date": day.isoformat(), "version": 1, "final": False, "workday": True,
                    "excused": None, "arrival": f"{day.isoformat()}T07:{i % 60:02d}:00+07:00", "departure": None,
                    "minutes_late": late, "minutes_early": 0,
                    "deductions": [{"code": "TL1", "percent": "0.50", "minutes": late}] if late else [],
                    "punch_event_ids": [ids[i]], "unit": f"Bidang {i % 6 + 1}"}
            e = outbox_events.day_summarized(nip=nip, agency=AGENCY, data=data, at=now)
            out.append((topics.KEHADIRAN, nip, outbox_events.encode(e).encode()))
        if scores:  # a month, its quarter and its year each (``score_rows.as_one_change``)
            for i in range(start, min(n, start + chunk)):
                nip = synthetic_nip(i)
                month = {"period": day.strftime("%Y-%m"), "disiplin": 99.5, "produktivitas": None,
                         "perilaku": None, "hasil_kerja": None, "total": None, "total_partial": 99.5,
                         "predikat": "Baik", "changes": [{"component": "disiplin", "before": 100.0, "after": 99.5}]}
                others = [{**month, "period": p} for p in (f"{day.year}-Q{(day.month - 1) // 3 + 1}", f"{day.year}")]
                common = {"nip": nip, "caused_by": [str(uuid.uuid4())],
                          "atasan_nip": synthetic_nip(i - i % 10) if i % 10 else synthetic_nip(0)}
                lead = str(uuid.uuid4())
                for k, data in enumerate([{**month, "also": others}] + [{**o, "part_of": lead} for o in others]):
                    e = Event(id=lead if k == 0 else str(uuid.uuid4()), type=SCORE_UPDATED, source="kinerja/penilaian",
                              time=now, subject=nip, agency=AGENCY, data={**common, **data})
                    out.append((topics.PENILAIAN, nip, e.to_bytes()))
    return out


def publish(bootstrap: str, prefix: str, records) -> None:
    producer = make_producer(bootstrap, client_id="bench-drain", linger_ms=5, batch_size=64 * 1024)
    for base, key, value in records:
        producer.send(topic(base, prefix), key=key.encode(), value=value)
    producer.flush(timeout=300)
    producer.close(timeout=10)


class Lag:
    def __init__(self, bootstrap: str, prefix: str, group: str):
        from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition

        self.group = group
        self.admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="bench-lag")
        self.probe = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None, client_id="bench-lag-ends")
        self.tps = [TopicPartition(topic(t, prefix), p) for t in TOPICS
                    for p in sorted(self.probe.partitions_for_topic(topic(t, prefix)) or ())]

    def __call__(self) -> int | None:
        from kafka.errors import KafkaError

        try:
            ends = self.probe.end_offsets(self.tps)
            committed = self.admin.list_group_offsets({self.group: None}).get(self.group, {})
        except KafkaError:
            return None
        return sum(max(0, end - (committed[tp].offset if tp in committed and committed[tp].offset >= 0 else 0))
                   for tp, end in ends.items())

    def wait_zero(self, proc, timeout_s: float = 600) -> None:
        deadline = time.monotonic() + timeout_s
        while True:
            if proc.poll() is not None:
                raise SystemExit(f"consumer exited {proc.returncode}")
            if self() == 0:
                return
            if time.monotonic() > deadline:
                raise SystemExit("no drain")
            time.sleep(0.1)

    def close(self) -> None:
        self.admin.close()
        self.probe.close()


def start_consumer(variant_path: str | None, url: str, bootstrap: str, prefix: str, log: Path, extra_env: dict):
    env = {**os.environ, "PENILAIAN_DATABASE_URL": url, "KINERJA_KAFKA_BOOTSTRAP": bootstrap,
           "KINERJA_TOPIC_PREFIX": prefix, "PENILAIAN_CONSUMER_METRICS_PORT": str(free_port()),
           "KINERJA_LOG_LEVEL": "INFO", **extra_env}
    if variant_path:
        env["PYTHONPATH"] = f"{variant_path}/services/penilaian/src:{variant_path}/shared/src"
    f = open(log, "ab")
    profile = extra_env.get("PROFILE_TO")
    cmd = ([sys.executable, "-m", "cProfile", "-o", profile, "-m", "penilaian.entrypoints.consumer"] if profile
           else [sys.executable, "-m", "penilaian.entrypoints.consumer"])
    return subprocess.Popen(cmd, env=env, stdout=f,
                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)


def stop(p) -> None:
    if p.poll() is None:
        os.killpg(p.pid, signal.SIGTERM)
    try:
        p.wait(60)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        p.wait(10)


def reading(pid: int, dbname: str, port: int) -> dict[str, float]:
    snap = cpumod.snapshot({pid: "consumer"}, pg_dbs={dbname: "pg"}, pg_port=port)
    return {"consumer": snap.get("consumer", 0.0), "pg": snap.get("postgresql pg", 0.0),
            "pg_other": snap.get("postgresql other", 0.0) + snap.get("postgresql postmaster+exited", 0.0)}


def stopped_stats(log: Path) -> dict:
    m = None
    for line in log.read_text(errors="replace").splitlines():
        if "consumer stopped" in line:
            m = line
    out = {}
    if m:
        for k in ("applied", "duplicates", "skipped", "batches", "fallbacks"):
            g = re.search(rf'"{k}":\s*(\d+)', m)
            if g:
                out[k] = int(g.group(1))
    return out


def pgss(pg: str, reset: bool) -> list:
    """pg_stat_statements (a server started with it preloaded): reset, or its top statements."""
    eng = create_engine(pg, isolation_level="AUTOCOMMIT")
    try:
        with eng.connect() as c:
            c.execute(text("CREATE EXTENSION IF NOT EXISTS pg_stat_statements"))
            if reset:
                c.execute(text("SELECT pg_stat_statements_reset()"))
                return []
            return c.execute(text(
                "SELECT calls, round(total_exec_time::numeric, 1), rows, left(regexp_replace(query, '\\s+', ' ', 'g'), 160) "
                "FROM pg_stat_statements ORDER BY total_exec_time DESC LIMIT 25")).all()
    finally:
        eng.dispose()


def one_run(label: str, variant_path: str | None, bootstrap: str, pg: str, n: int, day: date, warm, records,
            tmp: Path, mode: str, extra_env: dict) -> dict:
    prefix = "d" + uuid.uuid4().hex[:10]
    ensure_topics(bootstrap, prefix=prefix)
    publish(bootstrap, prefix, warm)
    url = fresh_database("postgresql", tmp, pg)
    migrate(url)
    dbname = url.rsplit("/", 1)[1].split("?")[0]
    port = cpumod.pg_port(pg)
    log = tmp / f"{prefix}-{label}.log"
    group = topic(load_settings("penilaian").consumer_group, prefix)
    p = start_consumer(variant_path, url, bootstrap, prefix, log, extra_env)
    lag = Lag(bootstrap, prefix, group)
    engine = create_engine(url)
    try:
        lag.wait_zero(p)
        # the policy's recompute of the roster (between polls) done too: not part of the stream
        deadline = time.monotonic() + 600
        while True:
            with engine.connect() as c:
                if not c.execute(text("SELECT count(*) FROM policy_recomputes WHERE done_at IS NULL")).scalar():
                    break
            if time.monotonic() > deadline:
                raise SystemExit("the policy recompute did not end")
            time.sleep(0.2)
        with engine.connect() as c:
            warm_rows = c.execute(text("SELECT count(*) FROM processed_events")).scalar()
        if mode == "backlog":
            stop(p)
            publish(bootstrap, prefix, records)
            p = start_consumer(variant_path, url, bootstrap, prefix, log, extra_env)
            # from its first new row: start-up (imports, join) left out
            while True:
                before = reading(p.pid, dbname, port)
                with engine.connect() as c:
                    if c.execute(text("SELECT count(*) FROM processed_events")).scalar() > warm_rows:
                        break
                time.sleep(0.01)
            began = time.monotonic()
        else:
            if STATEMENTS:
                pgss(pg, True)
            before = reading(p.pid, dbname, port)
            began = time.monotonic()
            publish(bootstrap, prefix, records)
        lag.wait_zero(p)
        after = reading(p.pid, dbname, port)
        wall = time.monotonic() - began
        if STATEMENTS:
            for row in pgss(pg, False):
                print("   ", *row, flush=True)
    finally:
        stop(p)
        lag.close()
    with engine.connect() as c:
        facts = c.execute(text("SELECT count(*) FROM day_facts WHERE day = :d"), {"d": day}).scalar()
        recorded = c.execute(text("SELECT count(*) FROM processed_events")).scalar()
    engine.dispose()
    stats = stopped_stats(log)
    r = {k: after[k] - before[k] for k in after}
    r.update(wall=wall, facts=facts, recorded=recorded - warm_rows, stats=stats)
    return r


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=20000)
    ap.add_argument("--pairs", type=int, default=3)
    ap.add_argument("--a", default=None, help="git revision of the A consumer (default: only B runs)")
    ap.add_argument("--b", default=None, help="git revision of the B consumer (default: this worktree)")
    ap.add_argument("--statements", action="store_true", help="print pg_stat_statements' top statements a run")
    ap.add_argument("--mode", choices=("live", "backlog"), default="live")
    ap.add_argument("--no-scores", action="store_true")
    ap.add_argument("--env-a", default="", help="extra env for A, K=V,K=V")
    ap.add_argument("--env-b", default="", help="extra env for B, K=V,K=V")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-drain-"))
    global STATEMENTS
    STATEMENTS = args.statements
    paths = {}
    for label, rev in (("A", args.a), ("B", args.b)):
        if rev:
            paths[label] = str(tmp / label)
            os.makedirs(paths[label])
            subprocess.run(f"git archive {rev} shared/src services/penilaian/src | tar -x -C {paths[label]}",
                           shell=True, check=True)
    env = {"A": dict(kv.split("=", 1) for kv in args.env_a.split(",") if kv),
           "B": dict(kv.split("=", 1) for kv in args.env_b.split(",") if kv)}
    day = workday()
    warm = roster(args.n)
    records = stream(args.n, day, scores=not args.no_scores)
    print(f"stream: {len(records):,} records; day {day}; mode {args.mode}; load {load()}", flush=True)
    order = []
    for k in range(args.pairs):
        order += (["A", "B"] if k % 2 == 0 else ["B", "A"]) if args.a or args.env_a else ["B"]
    results: dict[str, list] = {"A": [], "B": []}
    with ExitStack() as servers:
        bootstrap = servers.enter_context(own_broker())
        pg = servers.enter_context(own_postgres())
        for label in order:
            r = one_run(label, paths.get(label), bootstrap, pg, args.n, day, warm, records, tmp,
                        args.mode, env[label])
            results[label].append(r)
            ok = r["facts"] == args.n and r["recorded"] == args.n
            print(f"{label}: consumer {r['consumer']:.2f} s, pg {r['pg']:.2f} s, pg other {r['pg_other']:.2f} s, "
                  f"wall {r['wall']:.1f} s; facts {r['facts']}, recorded {r['recorded']} ({'ok' if ok else 'WRONG'}); "
                  f"{r['stats']}; load {load()}", flush=True)
    for label in ("A", "B"):
        rs = results[label]
        if rs:
            print(f"{label} median: consumer {statistics.median(r['consumer'] for r in rs):.2f} s, "
                  f"pg {statistics.median(r['pg'] for r in rs):.2f} s "
                  f"(each: {[round(r['consumer'], 2) for r in rs]} / {[round(r['pg'], 2) for r in rs]})")


if __name__ == "__main__":
    main()
