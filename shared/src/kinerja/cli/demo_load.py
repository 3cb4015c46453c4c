"""Carry out the demo's plan (``demo_history.make_plan``) through the services' own doors, never
their tables: attendance through kehadiran (its calendar and leave API, and the two registered
terminals pushing their logs with the ADMS protocol, device times and all), work through tugas's
own handlers at the times the plan gives (``python -m tugas.entrypoints.history``), ratings,
training and the organisation's predikat through penilaian's API. Everything downstream (day
records, scores, predikat, inboxes) comes from the events those produce.

Loading again adds nothing: punches are known by (device, PIN, time), leave and holidays are
upserts whose days recompute to the same record, tugas skips what it has, and what goes to
penilaian is only sent when it is not there yet."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Callable

import requests

from kinerja.auth import issue_token
from kinerja.cli.demo_history import Plan

ADMS_BATCH = 1000  # lines per ATTLOG upload, as a terminal sends a backlog
CLOSE_SPAN_DAYS = 90  # kehadiran closes at most 93 days a call


class DemoError(Exception):
    pass


@dataclass
class Services:
    kehadiran: str
    penilaian: str
    kafka_bootstrap: str
    topic_prefix: str
    jwt_secret: str
    jwt_issuer: str
    var_dir: Path


class Client:
    """The demo's HTTP calls, each with the token of the person the plan says acts."""

    def __init__(self, svc: Services):
        self.svc = svc
        self.http = requests.Session()
        adapter = requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=16)
        self.http.mount("http://", adapter)
        self._tokens: dict[tuple, str] = {}

    def token(self, role: str, nip: str | None = None, agency: str = "", device_sn: str | None = None) -> str:
        key = (role, nip, agency, device_sn)
        if key not in self._tokens:
            self._tokens[key] = issue_token(self.svc.jwt_secret, role=role, agency=agency, nip=nip,
                                            device_sn=device_sn, ttl_s=3600, issuer=self.svc.jwt_issuer)
        return self._tokens[key]

    def call(self, method: str, url: str, tok: str, ok=(200, 201), **kw) -> requests.Response:
        r = self.http.request(method, url, headers={"Authorization": f"Bearer {tok}"}, timeout=60, **kw)
        if r.status_code not in ok:
            raise DemoError(f"{method} {url.split('?')[0]} answered {r.status_code}: {r.text[:300]}")
        return r


def wait_for(what: str, check: Callable[[], bool], timeout_s: float = 120.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise DemoError(f"timed out after {timeout_s:.0f} s waiting for {what}")
        time.sleep(0.2)


def everyone_known(plan: Plan, known: Callable[[str], bool]) -> Callable[[], bool]:
    """A check that holds once ``known`` held for every ASN of the roster: the roster's events
    are keyed by NIP over several partitions, so the last one applied says nothing of the others."""
    waiting = [r["nip"] for r in plan.roster]

    def check() -> bool:
        waiting[:] = [nip for nip in waiting if not known(nip)]
        return not waiting
    return check


# -- kehadiran --------------------------------------------------------------------------------
def load_attendance(c: Client, plan: Plan, admin_nip: str) -> Counter:
    base = c.svc.kehadiran
    admin = c.token("admin", admin_nip, plan.agency)
    counts: Counter = Counter()
    wait_for("kehadiran to know the demo roster", everyone_known(plan, lambda nip: c.http.get(
        f"{base}/api/v1/days", params={"nip": nip, "period": plan.months[-1]},
        headers={"Authorization": f"Bearer {admin}"}, timeout=10).status_code == 200))
    known = {h["date"] for year in sorted({d.year for d, _ in plan.holidays}) for h in c.call(
        "GET", f"{base}/api/v1/calendar/holidays", admin, params={"year": year}).json()}
    todo = [(d, name) for d, name in plan.holidays if d.isoformat() not in known]
    if todo:
        body = "date,name,kind\n" + "".join(f"{d.isoformat()},{name},cuti_bersama\n" for d, name in todo)
        c.call("POST", f"{base}/api/v1/calendar/holidays", admin, json={"csv": body})
    counts["holidays"] = len(todo)
    for nip, start, end, kind, note in plan.leaves:
        have = {row["date"] for row in c.call(
            "GET", f"{base}/api/v1/leave", admin, params={"nip": nip, "period": f"{start:%Y-%m}"}).json()}
        if start.isoformat() in have:
            continue
        c.call("POST", f"{base}/api/v1/leave", admin,
               json={"nip": nip, "start_date": start.isoformat(), "end_date": end.isoformat(), "kind": kind, "note": note})
        counts["leave"] += 1
    for sn, punches in plan.punches.items():
        lines = [f"{pin}\t{t:%Y-%m-%d %H:%M:%S}\t0\t1\t0\t0\t0" for pin, t in sorted(punches, key=lambda p: p[1])]
        for i in range(0, len(lines), ADMS_BATCH):
            chunk = lines[i:i + ADMS_BATCH]
            r = c.http.post(f"{base}/iclock/cdata", params={"SN": sn, "table": "ATTLOG", "Stamp": str(i + len(chunk))},
                            data=("\r\n".join(chunk) + "\r\n").encode(), timeout=120)
            if r.status_code != 200 or not r.text.startswith("OK:"):
                raise DemoError(f"device {sn}: kehadiran answered {r.status_code}: {r.text[:200]}")
            counts["punches sent"] += len(chunk)
        c.http.get(f"{base}/iclock/getrequest", params={"SN": sn}, timeout=10)  # the terminal's poll
    # workdays without a punch or an excuse become TK (the day closer would, on its next round)
    yesterday = plan.today - timedelta(days=1)
    start = plan.first
    while start <= yesterday:
        end = min(yesterday, start + timedelta(days=CLOSE_SPAN_DAYS - 1))
        r = c.call("POST", f"{base}/api/v1/days/close", admin,
                   json={"start_date": start.isoformat(), "end_date": end.isoformat()})
        counts["day records closed"] += r.json()["count"]
        start = end + timedelta(days=1)
    return counts


# -- tugas ------------------------------------------------------------------------------------
def start_work_history(plan: Plan, var_dir: Path) -> subprocess.Popen:
    """tugas loads the work history with its own handlers (SKP, tasks, feedback, innovations) at
    the plan's times; it runs beside the attendance upload."""
    path = var_dir / "demo-history.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(plan.history))
    return subprocess.Popen([sys.executable, "-m", "tugas.entrypoints.history", str(path)], env=dict(os.environ),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish_work_history(proc: subprocess.Popen) -> Counter:
    out, err = proc.communicate(timeout=600)
    if proc.returncode != 0:
        raise DemoError(f"tugas refused the work history ({proc.returncode}): {err.strip()[-800:]}")
    return Counter(json.loads(out.strip().splitlines()[-1]))


# -- penilaian --------------------------------------------------------------------------------
def load_appraisal(c: Client, plan: Plan, admin_nip: str) -> Counter:
    base = c.svc.penilaian
    agency = plan.agency
    admin = c.token("admin", admin_nip, agency)
    boss_of = {r["nip"]: r["atasan_nip"] for r in plan.roster}
    has_team = {r["atasan_nip"] for r in plan.roster if r["atasan_nip"]}
    counts: Counter = Counter()
    wait_for("penilaian to know the demo roster", everyone_known(plan, lambda nip: not boss_of[nip] or (c.http.get(
        f"{base}/api/v1/scores/{nip}", params={"period": plan.months[-1]},
        headers={"Authorization": f"Bearer {admin}"}, timeout=10).json() or {}).get("atasan_nip") is not None))

    def as_person(nip: str) -> str:
        return c.token("atasan" if nip in has_team else "pegawai", nip, agency)

    def rate(nip: str, period: str, items: list[tuple[str, dict]]) -> int:
        have = c.call("GET", f"{base}/api/v1/ratings/{nip}", admin, params={"period": period}).json()
        done = 0
        for rater, levels in items:
            if have.get("supervisor" if rater == "atasan" else "self"):
                continue
            who = boss_of[nip] if rater == "atasan" else nip
            c.call("PUT", f"{base}/api/v1/ratings/{nip}", as_person(who), params={"period": period},
                   json={"levels": levels})
            done += 1
        return done

    grouped: dict[tuple[str, str], list] = {}
    for nip, period, rater, levels in plan.ratings:
        grouped.setdefault((nip, period), []).append((rater, levels))
    with ThreadPoolExecutor(max_workers=6) as pool:
        counts["ratings"] = sum(pool.map(lambda kv: rate(kv[0][0], kv[0][1], kv[1]), grouped.items()))

    by_nip_year: dict[tuple[str, int], list] = {}
    for nip, title, jp, day, provider in plan.trainings:
        by_nip_year.setdefault((nip, day.year), []).append((title, jp, day, provider))

    def train(key) -> int:
        (nip, year), items = key
        have = {(r["title"], r["date"]) for r in c.call(
            "GET", f"{base}/api/v1/training/{nip}", admin, params={"year": year}).json()["records"]}
        done = 0
        for title, jp, day, provider in items:
            if (title, day.isoformat()) in have:
                continue
            c.call("POST", f"{base}/api/v1/training/{nip}", admin,
                   json={"title": title, "jp": jp, "date": day.isoformat(), "provider": provider})
            done += 1
        return done

    with ThreadPoolExecutor(max_workers=6) as pool:
        counts["trainings"] = sum(pool.map(train, by_nip_year.items()))
    for period, predikat in plan.organisation:
        have = c.call("GET", f"{base}/api/v1/organisation-rating", admin, params={"period": period}).json()
        if have.get("predikat") is None:
            c.call("PUT", f"{base}/api/v1/organisation-rating", admin, params={"period": period},
                   json={"predikat": predikat})
            counts["organisation predikat"] += 1
    for d in plan.dialogs:
        have = c.call("GET", f"{base}/api/v1/dialogs/{d['nip']}", admin, params={"period": d["period"]}).json()
        if any(x["date"] == d["date"] for x in have["dialogs"]):
            continue
        c.call("POST", f"{base}/api/v1/dialogs/{d['nip']}", as_person(boss_of[d["nip"]]), params={"period": d["period"]},
               json={k: d[k] for k in ("date", "notes", "follow_up", "values")})
        counts["dialogs"] += 1
    return counts


# -- waiting for the pipeline -----------------------------------------------------------------
def wait_settled(svc: Services, groups: dict[str, tuple[str, ...]], quiet_s: float = 1.5,
                 timeout_s: float = 300.0) -> float:
    """Until every consumer group has read its topics to the end and no topic has grown for
    ``quiet_s``: the relays have published what the outboxes held and the consumers applied it.
    Returns the seconds waited."""
    from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition

    from kinerja.messaging.topics import topic

    began = time.monotonic()
    admin = KafkaAdminClient(bootstrap_servers=svc.kafka_bootstrap, client_id="kinerja-demo")
    probe = KafkaConsumer(bootstrap_servers=svc.kafka_bootstrap, client_id="kinerja-demo-probe",
                          enable_auto_commit=False)
    try:
        names = sorted({topic(t, svc.topic_prefix) for ts in groups.values() for t in ts})
        parts = [TopicPartition(n, p) for n in names for p in sorted(probe.partitions_for_topic(n) or ())]
        last_ends, quiet_since = None, None
        while True:
            ends = probe.end_offsets(parts)
            lag = 0
            for group, ts in groups.items():
                wanted = {topic(t, svc.topic_prefix) for t in ts}
                name = topic(group, svc.topic_prefix)
                done = admin.list_group_offsets(name).get(name, {})
                for tp in parts:
                    if tp.topic in wanted:
                        committed = done.get(tp)
                        lag += ends[tp] - (committed.offset if committed is not None and committed.offset >= 0 else 0)
            now = time.monotonic()
            if lag == 0 and ends == last_ends:
                quiet_since = quiet_since or now
                if now - quiet_since >= quiet_s:
                    return now - began
            else:
                quiet_since = None
            if now - began > timeout_s:
                raise DemoError(f"the pipeline did not settle in {timeout_s:.0f} s (lag {lag})")
            last_ends = ends
            time.sleep(0.25)
    finally:
        probe.close()
        admin.close()


CONSUMERS = {"penilaian": ("kehadiran.v1", "tugas.v1", "pegawai.v1", "penilaian.v1"),
             "notifikasi": ("pegawai.v1", "penilaian.v1", "tugas.v1", "kehadiran.v1")}


def load_plan(plan: Plan, svc: Services, *, admin_nip: str, say: Callable[[str], None] = lambda m: None) -> dict:
    """Everything of the plan, the three services' parts side by side (each service has its own
    database); returns counts and seconds per part."""
    began = time.monotonic()
    c = Client(svc)
    report: dict = {}
    work = start_work_history(plan, svc.var_dir)

    def timed(name: str, fn: Callable[[], Counter]) -> None:
        t = time.monotonic()
        report[name] = dict(fn())
        report[f"{name}_s"] = round(time.monotonic() - t, 1)

    try:
        with ThreadPoolExecutor(max_workers=2) as pool:
            parts = [pool.submit(timed, "kehadiran", lambda: load_attendance(c, plan, admin_nip)),
                     pool.submit(timed, "penilaian", lambda: load_appraisal(c, plan, admin_nip))]
            timed("tugas", lambda: finish_work_history(work))
            for part in parts:
                part.result()
    finally:
        if work.poll() is None:
            work.kill()
            work.wait()
    for name, label in (("kehadiran", "attendance (kehadiran)"), ("tugas", "work (tugas)"),
                        ("penilaian", "appraisal (penilaian)")):
        say(f"  {label}: {', '.join(f'{v} {k}' for k, v in report[name].items())} in {report[name + '_s']} s")
    report["settle_s"] = round(wait_settled(svc, CONSUMERS), 1)
    report["total_s"] = round(time.monotonic() - began, 1)
    say(f"  scores and inboxes caught up {report['settle_s']} s later; the history took {report['total_s']} s")
    return report
