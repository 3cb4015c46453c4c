"""How fast one notifikasi consumer process drains a backlog, through the broker the consumer
group's way (poll, apply, commit offsets). Not part of the test suite.

Each run publishes, to fresh topics, a roster of ``--asn`` ASN (one atasan per ten) on
``pegawai.v1`` and then, per synthetic punch, what the pipeline makes of it: the punch and a day
summary on ``kehadiran.v1`` (notifikasi decodes and skips them) and three
``penilaian.score.updated.v1`` on ``penilaian.v1`` (an inbox row for the ASN and one for the
atasan each). The agency has one webhook (every type) and a quarter of the ASN want e-mail at
once, so the deliveries and e-mails written with the rows are part of the work. The consumer is
built as ``notifikasi-consumer`` builds it (``make_consumer`` when the code has one, else
``runtime.consumer``) and timed from its first database session (its first message in hand) to
its last message handled (group join excluded). The roster is applied before the clock starts
and published too (the same values again), so the rows do not depend on the order the
partitions are read in.

Every run prints a digest of what it wrote (inbox rows, e-mails, webhook deliveries; ids and
timestamps left out): runs of the same workload must print the same digest whatever the batch
size or code version. ``--profile FILE`` runs the consumer thread under cProfile (slower) and
prints the top functions; SQL statements are always counted.

    .venv/bin/python bench/notifikasi_apply.py --punches 1000 --batch 1,200 --runs 3 --db sqlite

Kafka: ``KINERJA_BENCH_KAFKA_BOOTSTRAP``, else a broker from ``deploy/kafka`` on free ports.
PostgreSQL: ``KINERJA_TEST_POSTGRES_URL``, else a throwaway cluster (as the tests do).
"""
from __future__ import annotations

import argparse
import cProfile
import hashlib
import io
import json
import pstats
import statistics
import sys
import tempfile
import threading
import time
import uuid
from contextlib import nullcontext
from datetime import date, datetime, time as dtime, timedelta, timezone
from pathlib import Path

from sqlalchemy import event as sa_event, select

from benchlib import (append_markdown, fmt_median, fresh_database, load, machine, machine_line, now_utc, own_broker,
                      own_postgres, spread, write_result)
from benchlib.publishing import publish_events
from kinerja.config import default_partitions, load_settings
from kinerja.events import make_event
from kinerja.events.kehadiran import DAY_SUMMARIZED, PUNCH_RECORDED
from kinerja.events.pegawai import EMPLOYEE_UPSERTED
from kinerja.events.penilaian import SCORE_UPDATED
from kinerja.messaging.topics import KEHADIRAN, PEGAWAI, PENILAIAN, ensure_topics
from notifikasi.adapters.orm import EmailMessage, Notification, Webhook, WebhookDelivery
from notifikasi.entrypoints import consumer as consumer_mod
from notifikasi.entrypoints.migrate import main as migrate
from notifikasi.entrypoints.runtime import make_runtime
from notifikasi.service_layer.email_preferences import set_preference
from notifikasi.service_layer.notifications import handle_event
from notifikasi.service_layer.webhooks import register_webhook

AGENCY = "bench"
WIB = timezone(timedelta(hours=7))
T0 = datetime(2026, 11, 2, 0, 0, tzinfo=timezone.utc)


def nip_of(i: int) -> str:
    return f"1990010120150{i:05d}"


def workload(asn: int, punches: int) -> list[tuple[str, object]]:
    """(topic base, event), deterministic ids and times, in publishing order."""
    out: list[tuple[str, object]] = []
    nips = [nip_of(i) for i in range(asn)]
    for i, nip in enumerate(nips):
        atasan = None if i % 10 == 0 else nips[i - i % 10]
        out.append((PEGAWAI, make_event(EMPLOYEE_UPSERTED, subject=nip, agency=AGENCY, source="bench", time=T0,
                                        event_id=f"roster-{i}",
                                        data={"nip": nip, "nama": f"ASN {i}", "agency": AGENCY, "unit": f"Unit {i // 10}",
                                              "jabatan": "Analis", "atasan_nip": atasan, "pin": str(i)})))
    for p in range(punches):
        nip = nips[p % asn]
        day = date(2026, 11, 2) + timedelta(days=(p // asn) % 20)
        at = datetime.combine(day, dtime(7, 30), WIB) + timedelta(minutes=p % 50)
        out.append((KEHADIRAN, make_event(PUNCH_RECORDED, subject=nip, agency=AGENCY, source="bench", time=T0,
                                          event_id=f"punch-{p}",
                                          data={"punch_id": f"p{p}", "nip": nip, "device_sn": "SN1", "time": at})))
        out.append((KEHADIRAN, make_event(DAY_SUMMARIZED, subject=nip, agency=AGENCY, source="bench", time=T0,
                                          event_id=f"day-{p}",
                                          data={"nip": nip, "date": day, "version": 1, "final": False, "workday": True,
                                                "arrival": at, "minutes_late": p % 50,
                                                "deductions": [{"code": "TL1", "percent": "0.50"}] if p % 3 else [],
                                                "punch_event_ids": [f"punch-{p}"]})))
        for k, total in enumerate((99.5, 97.25, 96.0)):
            out.append((PENILAIAN, make_event(SCORE_UPDATED, subject=nip, agency=AGENCY, source="bench", time=T0,
                                              event_id=f"score-{p}-{k}",
                                              data={"nip": nip, "period": day.strftime("%Y-%m"), "disiplin": total,
                                                    "produktivitas": 96.0, "perilaku": None, "hasil_kerja": None,
                                                    "total": total, "predikat": "Baik",
                                                    "changes": [{"component": "disiplin", "before": 100.0, "after": total}],
                                                    "caused_by": [f"day-{p}"]})))
    return out


def seed(runtime, asn: int, events) -> None:
    """The roster applied beforehand (so no score update finds its ASN unknown, whatever the order in
    which the partitions are read; the published copies re-apply the same values), a webhook and
    e-mail preferences."""
    with runtime.session() as s, s.begin():
        for base, ev in events:
            if base == PEGAWAI:
                handle_event(s, ev)
        register_webhook(s, agency=AGENCY, url="http://127.0.0.1:9/hook", secret="bench-secret", created_by_nip=nip_of(0),
                         box=runtime.secret_box, now=T0)
        for i in range(0, asn, 4):
            set_preference(s, nip=nip_of(i), agency=AGENCY, email=f"asn{i}@bench.local", mode="immediate", now=T0)


def digest(runtime) -> tuple[str, dict]:
    """What the run wrote, without ids and timestamps: a hash, and the counts."""
    h = hashlib.sha256()
    with runtime.session() as s:
        rows = s.execute(select(Notification)).scalars().all()
        by_id = {r.id: r for r in rows}
        inbox = sorted((r.event_id, r.recipient_nip, r.agency, r.audience, r.kind, r.title, r.body, r.subject_nip,
                        r.event_type, json.dumps(r.payload, sort_keys=True)) for r in rows)
        mails = sorted((m.recipient_nip, m.to_address, m.subject, m.body, m.kind, m.status,
                        by_id[m.notification_id].event_id if m.notification_id else None)
                       for m in s.execute(select(EmailMessage)).scalars())
        hooks = {w.id: w.url for w in s.execute(select(Webhook)).scalars()}
        deliveries = sorted((hooks[d.webhook_id], d.event_id, d.event_type, d.body, d.status)
                            for d in s.execute(select(WebhookDelivery)).scalars())
    for part in (inbox, mails, deliveries):
        h.update(json.dumps(part, default=str).encode())
    return h.hexdigest()[:16], {"inbox": len(inbox), "emails": len(mails), "deliveries": len(deliveries)}


def make(runtime, batch: int):
    maker = getattr(consumer_mod, "make_consumer", None)
    if maker is not None:
        return maker(runtime, batch_size=batch)
    if batch > 1:
        raise SystemExit("this code has no batched notifikasi consumer; use --batch 1")
    return runtime.consumer(consumer_mod.TOPICS, consumer_mod.handle)


def one_run(bootstrap: str, url: str, events, asn: int, batch: int, profile: cProfile.Profile | None) -> dict:
    prefix = "bn" + uuid.uuid4().hex[:10]
    ensure_topics(bootstrap, prefix=prefix)  # KINERJA_PARTITIONS each
    publish_events(events, bootstrap, prefix, "bench-notifikasi")

    migrate(url)
    runtime = make_runtime(load_settings("notifikasi", {"database_url": url, "kafka_bootstrap": bootstrap,
                                                        "topic_prefix": prefix}))
    seed(runtime, asn, events)
    statements = [0]  # from here on, the consumer is the engine's only user

    def count(*_a, **_k):
        statements[0] += 1

    sa_event.listen(runtime.engine, "before_cursor_execute", count)
    consumer = make(runtime, batch)
    stop = threading.Event()
    began: list[float] = []  # the consumer's first session: its first message in hand
    sessions = consumer.session_factory

    def session_factory(*a, **k):
        if not began:
            began.append(time.monotonic())
        return sessions(*a, **k)

    consumer.session_factory = session_factory

    def target():
        if profile is not None:
            profile.runcall(consumer.run, stop)
        else:
            consumer.run(stop)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()

    # done = every roster event and score update applied once. Not "every message handled": a batch
    # delivered twice (an offset commit lost to a rebalance under load) counts as duplicates, and
    # a count of messages would stop the run before its last batch
    expected = sum(1 for base, _ in events if base != KEHADIRAN)

    def handled() -> int:
        return consumer.stats.applied + consumer.stats.dead_lettered

    deadline = time.monotonic() + 1800
    while handled() < expected and time.monotonic() < deadline:
        time.sleep(0.02)
    seconds = time.monotonic() - began[0]
    stmts = statements[0]
    stop.set()
    thread.join(timeout=60)
    assert handled() == expected, (handled(), expected, consumer.stats)
    assert consumer.stats.dead_lettered == 0
    key, counts = digest(runtime)
    runtime.dispose()
    scores = sum(1 for b, _ in events if b == PENILAIAN)
    return {"messages": len(events), "scores": scores, "seconds": seconds, "msg_s": len(events) / seconds,
            "scores_s": scores / seconds, "statements": stmts, "digest": key, **counts,
            "applied": consumer.stats.applied, "duplicates": consumer.stats.duplicates,
            "batches": getattr(consumer.stats, "batches", 0), "fallbacks": getattr(consumer.stats, "fallbacks", 0)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--asn", type=int, default=200)
    ap.add_argument("--punches", type=int, default=1000, help="each: 2 kehadiran.v1 messages + 3 score updates")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="sqlite")
    ap.add_argument("--batch", default="1", help="comma-separated batch sizes (1 = message by message)")
    ap.add_argument("--profile", type=Path, default=None, help="cProfile the consumer; stats to this file")
    ap.add_argument("--append", type=Path, default=None, help="append the figures to this Markdown file")
    args = ap.parse_args()
    load_before = load()

    events = workload(args.asn, args.punches)
    batches = [int(b) for b in args.batch.split(",")]
    kinds = ("sqlite", "postgresql") if args.db == "both" else (args.db,)
    tmp = Path(tempfile.mkdtemp(prefix="bench-notifikasi-"))
    print(f"machine: {machine_line()}")
    print(f"{len(events):,} messages per run: {args.asn} roster, {2 * args.punches:,} kehadiran.v1 (skipped), "
          f"{3 * args.punches:,} score updates; {default_partitions()} partitions", flush=True)
    table = []
    with own_broker() as bootstrap:
        with own_postgres() if "postgresql" in kinds else nullcontext() as pg:
            for kind in kinds:
                for batch in batches:
                    runs = []
                    for i in range(args.runs):
                        prof = cProfile.Profile() if args.profile else None
                        before = load()
                        r = one_run(bootstrap, fresh_database(kind, tmp, pg), events, args.asn, batch, prof)
                        r["load_before"], r["load_after"] = before, load()
                        runs.append(r)
                        print(f"{kind} batch {batch} run {i + 1}: {r['seconds']:.2f} s, {r['msg_s']:,.0f} msg/s, "
                              f"{r['scores_s']:,.0f} score updates/s, {r['statements'] / r['scores']:.2f} SQL statements "
                              f"per score update; wrote {r['inbox']} rows, {r['emails']} e-mails, {r['deliveries']} "
                              f"deliveries, digest {r['digest']}; {r['batches']} batches, {r['fallbacks']} fallbacks, {r['duplicates']} duplicates absorbed; load {r['load_before']} → {r['load_after']}", flush=True)
                        if prof is not None:
                            prof.dump_stats(str(args.profile))
                            out = io.StringIO()
                            pstats.Stats(prof, stream=out).sort_stats("cumulative").print_stats(35)
                            print(out.getvalue())
                    table.append((kind, batch, runs))
    lines = ["| database | batch | score updates/s | messages/s | SQL statements / score update | digest |",
             "|---|---:|---:|---:|---:|---|"]
    rows = []
    for kind, batch, runs in table:
        s = [r["scores_s"] for r in runs]
        m = [r["msg_s"] for r in runs]
        q = statistics.median(r["statements"] / r["scores"] for r in runs)
        digests = ",".join(sorted({r["digest"] for r in runs}))
        rows.append({"database": kind, "batch": batch, "score_updates_per_s": spread(s), "msgs_per_s": spread(m),
                     "statements_per_score_update": round(q, 2), "digests": digests})
        lines.append(f"| {kind} | {batch} | {fmt_median(s)} | {fmt_median(m)} | {q:.2f} | {digests} |")
    load_after = load()
    print(f"\nmedian (min–max) of {args.runs} runs; load avg 1/5/15 min at the end {load_after}")
    print("\n".join(lines))
    result = {"when": now_utc(), "machine": machine(), "load_before": load_before, "load_after": load_after,
              "messages_per_run": len(events), "rows": rows}
    write_result("notifikasi_apply", result)
    if args.append:
        cmd = " ".join(["bench/notifikasi_apply.py", *sys.argv[1:]])
        append_markdown(args.append, "\n".join([
            f"\n## notifikasi: score updates turned into inbox rows per second ({result['when']})\n",
            f"- machine: {machine_line()}; load average (1/5/15 min) before {load_before}, after {load_after} "
            "(what else ran shows in the load; the benchmark's own processes add to it)",
            f"- command: `.venv/bin/python {cmd}`",
            f"- one notifikasi consumer process draining {len(events):,} messages from offset 0 ({args.asn} roster events, "
            f"{2 * args.punches:,} kehadiran.v1 messages it skips, {3 * args.punches:,} `penilaian.score.updated.v1`, "
            "each an inbox row for the ASN and the atasan, e-mails and webhook deliveries where subscribed); batch 1 = "
            "one transaction per message, else one per poll; the digest of the rows written is the same for every "
            f"batch size. Median (min–max) of {args.runs} runs.\n", *lines, ""]))

if __name__ == "__main__":
    main()
