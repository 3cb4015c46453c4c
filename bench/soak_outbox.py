"""Soak: push N punches through the whole system and show that the outbox and processed_events
tables stay bounded (DESIGN §4). Not part of the test suite.

The system runs as real processes (``kinerja.stack.Stack``: per service gunicorn, consumer and
``--relays`` relays; notifikasi's webhooks and mailer) on its own broker and its own PostgreSQL
(or SQLite files with ``--database sqlite``). A roster of ``--asn`` ASN is imported; then
``--punches`` punches are posted to ``POST /api/v1/punches`` in batches of ``--batch`` from
``--devices`` devices in parallel, each a distinct (PIN, time) on a past workday. The run waits
until every relay has published its outbox and every consumer group has caught up, then until
the trimming has had its turn (nothing older than its window is left).

Each service's ``outbox`` (rows, unsent) and ``processed_events`` (rows) are printed before the
punches, when the pipeline has drained, and at the end. The retention windows are shortened
(``--outbox-retention``, ``--processed-retention``) so that a run of minutes shows them at work;
production keeps 10 minutes and 7 days (README, "Outbox, relays and bounded storage").

    .venv/bin/python bench/soak_outbox.py --punches 1000000 --append BENCHMARKS.md
    .venv/bin/python bench/soak_outbox.py --punches 2000 --asn 100 --outbox-retention 5 --processed-retention 10   # a quick check
"""
from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import threading
import time
from contextlib import nullcontext
from datetime import timedelta
from pathlib import Path

from benchlib import (append_markdown, load, machine, machine_line, now_utc, own_broker, own_postgres,
                      write_result)
from benchlib.db import Db
from benchlib.lag import LagMonitor
from benchlib.system import publish_roster, register_devices, start_stack, team_roster, wait_for_roster, workdays_back

AGENCY = "bench-soak"
SERVICES_WITH_OUTBOX = ("kehadiran", "tugas", "penilaian", "notifikasi")


def nip_of(i: int) -> str:
    return f"19910101{i:010d}"


class Tables:
    """Row counts of each service's outbox and processed_events, and what is past its window."""

    def __init__(self, urls: dict[str, str]):
        self.dbs = {svc: Db(url) for svc, url in urls.items()}

    def sizes(self) -> dict[str, dict[str, int]]:
        return {svc: {"outbox": db.scalar("SELECT count(*) FROM outbox"),
                      "outbox_unsent": db.scalar("SELECT count(*) FROM outbox WHERE sent_at IS NULL"),
                      "processed_events": db.scalar("SELECT count(*) FROM processed_events")}
                for svc, db in self.dbs.items()}

    def dirty_markers(self) -> int:
        """kehadiran's (ASN, day) and PIN markers still waiting for the day worker."""
        db = self.dbs["kehadiran"]
        return db.scalar("SELECT count(*) FROM dirty_days") + db.scalar("SELECT count(*) FROM dirty_pins")

    def past_window(self, outbox_s: float, processed_s: float) -> int:
        """Rows older than their retention (what trimming has yet to delete)."""
        from kinerja.messaging.outbox import utcnow

        now = utcnow()
        old_sent, old_done = now - timedelta(seconds=outbox_s), now - timedelta(seconds=processed_s)
        total = 0
        for db in self.dbs.values():
            if db.engine.dialect.name == "sqlite":  # stored as naive UTC text
                old_sent, old_done = old_sent.replace(tzinfo=None), old_done.replace(tzinfo=None)
            total += db.scalar("SELECT count(*) FROM outbox WHERE sent_at < :t", t=old_sent)
            total += db.scalar("SELECT count(*) FROM processed_events WHERE processed_at < :t", t=old_done)
        return total

    def close(self) -> None:
        for db in self.dbs.values():
            db.close()


def start_system(args, bootstrap: str, pg_server: str | None, tmp: Path, prefix: str):
    from kinerja.stack import SERVICES
    from kinerja.testing import create_postgres_database

    var = tmp / prefix
    if pg_server:
        urls = {svc: create_postgres_database(pg_server) for svc in SERVICES}
    else:
        urls = {svc: f"sqlite:///{var / (svc + '.db')}" for svc in SERVICES}
    stack = start_stack(bootstrap, prefix, var_dir=var, database_urls=urls, web_workers=args.web_workers,
                        relays=args.relays,
                        extra_env={"KINERJA_LOG_LEVEL": "WARNING",
                                   "KINERJA_OUTBOX_RETENTION_S": str(args.outbox_retention),
                                   "KINERJA_PROCESSED_RETENTION_S": str(args.processed_retention)})
    register_devices(stack, [f"SOAK{d:04d}" for d in range(args.devices)], AGENCY)
    publish_roster(team_roster(args.asn, nip_of, AGENCY), bootstrap, prefix)
    wait_for_roster(urls, args.asn)
    return stack, Tables(urls)


def punches(args) -> list[list[dict]]:
    """Batches of distinct punches: ASN round-robin, each ASN's k-th punch on a past workday at
    07:00 + (k mod per_day) minutes."""
    per_asn = -(-args.punches // args.asn)
    per_day = 12
    days = workdays_back(-(-per_asn // per_day))
    out, batch = [], []
    for n in range(args.punches):
        i, k = n % args.asn, n // args.asn
        day = days[k // per_day]
        minute = 7 * 60 + (k % per_day) * 7
        batch.append({"pin": str(i + 1), "time": f"{day.isoformat()}T{minute // 60:02d}:{minute % 60:02d}:00+07:00"})
        if len(batch) == args.batch:
            out.append(batch)
            batch = []
    if batch:
        out.append(batch)
    return out


def push(stack, args, batches: list[list[dict]]) -> dict:
    import requests

    from kinerja.auth import issue_token
    from kinerja.config import DEV_JWT_SECRET

    tokens = [issue_token(DEV_JWT_SECRET, role="device", agency=AGENCY, device_sn=f"SOAK{d:04d}")
              for d in range(args.devices)]
    accepted, failed = [0] * args.devices, [0] * args.devices
    began = time.monotonic()

    def device(d: int) -> None:
        http = requests.Session()
        for j in range(d, len(batches), args.devices):
            body = {"punches": batches[j]}
            for attempt in range(5):
                try:
                    r = http.post(f"{stack.url('kehadiran')}/api/v1/punches", json=body,
                                  headers={"Authorization": f"Bearer {tokens[d]}"}, timeout=120)
                    if r.status_code == 200:
                        accepted[d] += r.json()["accepted"]
                        break
                except requests.RequestException:
                    pass
                time.sleep(1 + attempt)
            else:
                failed[d] += len(batches[j])

    threads = [threading.Thread(target=device, args=(d,), daemon=True) for d in range(args.devices)]
    for t in threads:
        t.start()
    last_report = time.monotonic()
    while any(t.is_alive() for t in threads):
        for t in threads:
            t.join(1)
        if time.monotonic() - last_report > 30:
            last_report = time.monotonic()
            print(f"  {sum(accepted):,} accepted ({sum(accepted) / (last_report - began):,.0f}/s; load {load()})",
                  flush=True)
    seconds = time.monotonic() - began
    return {"accepted": sum(accepted), "failed": sum(failed), "seconds": round(seconds, 1),
            "per_s": round(sum(accepted) / seconds, 1)}


def wait_drained(tables: Tables, lagmon, timeout_s: float) -> float:
    began = time.monotonic()
    quiet = 0
    while time.monotonic() - began < timeout_s:
        sizes = tables.sizes()
        unsent = sum(s["outbox_unsent"] for s in sizes.values())
        try:
            lags = lagmon.lags()
        except Exception:  # noqa: BLE001 - look again
            lags = {}
        # the day worker's markers too: a lag of 0 while days wait to be summarized is not drained
        dirty = tables.dirty_markers()
        if unsent == 0 and dirty == 0 and lags and all(v == 0 for v in lags.values()):
            quiet += 1
            if quiet >= 3:  # three looks in a row: nothing is left anywhere
                return time.monotonic() - began
        else:
            quiet = 0
        time.sleep(2)
    raise SystemExit(f"not drained after {timeout_s:.0f} s: unsent {unsent}, dirty markers {dirty}, lags {lags}")


def table_md(rows: list[tuple[str, dict]]) -> list[str]:
    services = list(rows[0][1])
    head = "| when | " + " | ".join(f"{s}: outbox (unsent) / processed_events" for s in services) + " |"
    lines = [head, "|---|" + "---:|" * len(services)]
    for when, sizes in rows:
        lines.append(f"| {when} | " + " | ".join(
            f"{sizes[s]['outbox']:,} ({sizes[s]['outbox_unsent']:,}) / {sizes[s]['processed_events']:,}"
            for s in services) + " |")
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--punches", type=int, default=1_000_000)
    ap.add_argument("--asn", type=int, default=5000)
    ap.add_argument("--batch", type=int, default=200, help="punches per request")
    ap.add_argument("--devices", type=int, default=4, help="devices posting in parallel")
    ap.add_argument("--relays", type=int, default=2, help="relays per publishing service")
    ap.add_argument("--web-workers", type=int, default=2)
    ap.add_argument("--database", choices=("postgresql", "sqlite"), default="postgresql")
    ap.add_argument("--outbox-retention", type=float, default=60.0, help="seconds (production: 600)")
    ap.add_argument("--processed-retention", type=float, default=300.0, help="seconds (production: 7 days)")
    ap.add_argument("--drain-timeout", type=float, default=7200.0)
    ap.add_argument("--append", type=Path, default=None)
    args = ap.parse_args()

    m = machine()
    print(f"machine: {machine_line(m)}; load average before {load()}", flush=True)
    batches = punches(args)
    prefix = "soak" + str(int(time.time()))[-6:]
    tmp = Path(tempfile.mkdtemp(prefix="kinerja-soak-"))
    sizes: list[tuple[str, dict]] = []
    result: dict = {"when": now_utc(), "machine": m, "args": {k: (str(v) if isinstance(v, Path) else v)
                                                              for k, v in vars(args).items()}}
    stack = tables = lagmon = None
    with own_broker(6) as bootstrap, (own_postgres() if args.database == "postgresql" else nullcontext()) as pg:
        try:
            stack, tables = start_system(args, bootstrap, pg, tmp, prefix)
            lagmon = LagMonitor(bootstrap, prefix)
            sizes.append(("before the punches", tables.sizes()))
            print(f"pushing {args.punches:,} punches for {args.asn:,} ASN in {len(batches):,} requests", flush=True)
            result["load_before"] = load()
            result["push"] = push(stack, args, batches)
            print(f"pushed: {result['push']}", flush=True)
            result["drained_after_s"] = round(wait_drained(tables, lagmon, args.drain_timeout), 1)
            sizes.append((f"drained ({result['drained_after_s']} s after the last punch)", tables.sizes()))
            # the trims run every quarter of their window (at most 10 s / 60 s): give them the window and two turns
            settle = max(args.outbox_retention, args.processed_retention) * 1.5 + 20
            deadline = time.monotonic() + settle + 120
            while time.monotonic() < deadline:
                left = tables.past_window(args.outbox_retention, args.processed_retention)
                if left == 0 and time.monotonic() > deadline - 120:
                    break
                time.sleep(2)
            result["past_window_at_end"] = tables.past_window(args.outbox_retention, args.processed_retention)
            sizes.append((f"after the windows ({args.outbox_retention:g} s / {args.processed_retention:g} s) passed",
                          tables.sizes()))
            result["load_after"] = load()
        finally:
            if lagmon is not None:
                lagmon.close()
            if tables is not None:
                tables.close()
            if stack is not None:
                stack.stop()
            shutil.rmtree(tmp, ignore_errors=True)
    result["sizes"] = [{"when": w, "tables": s} for w, s in sizes]
    write_result("soak_outbox", result)
    lines = table_md(sizes)
    print("\n" + "\n".join(lines))
    print(f"rows still past their window at the end: {result['past_window_at_end']}")
    if args.append:
        cmd = " ".join(["bench/soak_outbox.py", *sys.argv[1:]])
        text = "\n".join([
            f"\n## Soak: outbox and processed_events bounded ({result['when']})\n",
            f"- machine: {machine_line(m)}; load average before {result['load_before']}, after {result['load_after']}",
            f"- command: `.venv/bin/python {cmd}`",
            f"- {args.database}, {args.relays} relays per service; {result['push']['accepted']:,} punches accepted "
            f"({result['push']['per_s']:,}/s), {result['push']['failed']:,} failed; pipeline drained "
            f"{result['drained_after_s']} s after the last punch; retention shortened to {args.outbox_retention:g} s "
            f"(outbox) and {args.processed_retention:g} s (processed_events); rows past their window at the end: "
            f"{result['past_window_at_end']}\n",
            *lines, ""])
        append_markdown(args.append, text)


if __name__ == "__main__":
    main()
