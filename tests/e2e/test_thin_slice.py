"""The thin slice across all four services, as real processes, through the real broker:
a punch posted to kehadiran changes the ASN's score in penilaian and reaches the ASN's live stream
in notifikasi; an approved task in tugas changes productivity; a penilaian consumer killed with
SIGKILL and restarted counts nothing twice."""
from __future__ import annotations

import json
import signal
import time
from datetime import datetime, timedelta, timezone

import pytest
import requests

from kinerja.auth import issue_token
from kinerja.cli.roster import parse_roster, publish
from kinerja.config import DEV_JWT_SECRET
from kinerja.stack import Stack
from kinerja.testing import create_postgres_database, wait_until

from kinerja_testkit.sse_journey import SseClient

pytestmark = pytest.mark.e2e
AGENCY = "disdik-e2e"
KADIS = "197803132000011001"
ATASAN = "197910022009031002"
ASN = "198102082004121003"
WIB = timezone(timedelta(hours=7))


def token(role, nip=None, **kw):
    return issue_token(DEV_JWT_SECRET, role=role, agency=AGENCY, nip=nip, **kw)


def auth(tok):
    return {"Authorization": f"Bearer {tok}"}


def last_workdays(n: int) -> list:
    """The n most recent Monday–Thursday dates before today (WIB), newest first: days that are over."""
    day = datetime.now(WIB).date() - timedelta(days=1)
    out = []
    while len(out) < n:
        if day.weekday() <= 3:
            out.append(day)
        day -= timedelta(days=1)
    return out


@pytest.fixture
def stack(postgres_server, running_stack):
    return running_stack(
        # production's database for the two that hold the facts, the embedded one for the others
        database_urls={"kehadiran": create_postgres_database(postgres_server),
                       "penilaian": create_postgres_database(postgres_server)},
        extra_env={"NOTIFIKASI_SSE_HEARTBEAT_S": "1"},
    )


def load_roster(stack: Stack) -> None:
    csv = ("nip,nama,agency,unit,jabatan,atasan_nip,pin\n"
           f"{KADIS},Hermansyah,{AGENCY},Sekretariat,Kepala Dinas,,1\n"
           f"{ATASAN},Citra,{AGENCY},Bidang GTK,Kepala Bidang,{KADIS},2\n"
           f"{ASN},Taufik,{AGENCY},Bidang GTK,Analis,{ATASAN},3\n")
    parsed = parse_roster(csv)
    assert parsed.errors == []
    publish(parsed.events, stack.kafka_bootstrap, stack.topic_prefix)


def post_punch(stack, when: datetime, status=None):
    body = {"punches": [{"pin": "3", "time": when.isoformat(), **({"status": status} if status else {})}]}
    r = requests.post(f"{stack.url('kehadiran')}/api/v1/punches", json=body,
                      headers=auth(token("device", device_sn="E2E01")), timeout=10)
    assert r.status_code == 200, r.text
    return r.json()


def score(stack, period):
    r = requests.get(f"{stack.url('penilaian')}/api/v1/scores/{ASN}", params={"period": period},
                     headers=auth(token("pegawai", ASN)), timeout=10)
    return r.json() if r.status_code == 200 else None


def test_punch_and_task_move_the_score_live_and_a_killed_consumer_counts_nothing_twice(stack):
    operator = token("operator")
    r = requests.post(f"{stack.url('kehadiran')}/api/v1/devices", json={"sn": "E2E01", "agency": AGENCY, "tz": 7},
                      headers=auth(operator), timeout=10)
    assert r.status_code == 201, r.text
    load_roster(stack)
    # every service has learned the roster when kehadiran accepts PIN 3 and tugas accepts the team
    day1, day2 = last_workdays(2)[0], last_workdays(2)[1]
    period = day1.strftime("%Y-%m")

    stream = SseClient(f"{stack.url('notifikasi')}/api/v1/stream", token("pegawai", ASN))
    try:
        # 1. a late arrival (07:45 → TL1) on a day that is over (no departure → PSW4): −2.5 %
        #    (if kehadiran has not read the roster yet, the punch waits in quarantine and is
        #    released when it has: accepted either way, never dropped)
        first = post_punch(stack, datetime(day1.year, day1.month, day1.day, 7, 45, tzinfo=WIB))
        assert first["accepted"] + first["quarantined"] == 1
        posted = time.monotonic()
        ev = stream.wait_for(lambda e: e.event == "score.updated" and e.data.get("payload", {}).get("disiplin") == 97.5, 30)
        latency = time.monotonic() - posted
        print(f"punch → score on the stream: {latency * 1000:.0f} ms ({'accepted' if first['accepted'] else 'quarantined'})")
        s = score(stack, period)
        assert s["disiplin"]["score"] == 97.5
        assert sorted((d["code"], d["percent"]) for d in s["disiplin"]["deductions"]) == [("PSW4", 2.0), ("TL1", 0.5)]
        disiplin_ledger = [e for e in s["ledger"] if e["component"] == "disiplin"]
        assert round(sum(e["points"] for e in disiplin_ledger), 2) == 97.5
        punch_ids = {i for e in disiplin_ledger for i in e["event_ids"]}
        assert len(punch_ids) >= 2  # the day summary's event id and the punch's

        # 2. a task assigned, submitted on time and approved: productivity = mean(100, 90, 100)
        due = (datetime.now(WIB).date() + timedelta(days=3)).isoformat()
        atasan = auth(token("atasan", ATASAN))

        def assign():
            r = requests.post(f"{stack.url('tugas')}/api/v1/tasks", headers=atasan, timeout=10, json={
                "nip": ASN, "title": "Rekap data GTK", "due_date": due, "target_quantity": "10"})
            return r.json() if r.status_code == 201 else None
        task = wait_until(assign, 60, interval_s=0.2, message="tugas knows the team from the roster")
        mine = auth(token("pegawai", ASN))
        assert requests.post(f"{stack.url('tugas')}/api/v1/tasks/{task['id']}/start", headers=mine,
                             json={}, timeout=10).status_code == 200
        assert requests.post(f"{stack.url('tugas')}/api/v1/tasks/{task['id']}/submit", headers=mine,
                             json={"note": "selesai"}, timeout=10).status_code == 200
        r = requests.post(f"{stack.url('tugas')}/api/v1/tasks/{task['id']}/approve", headers=atasan,
                          json={"realised_quantity": "10", "quality": 90}, timeout=10)
        assert r.status_code == 200, r.text
        due_period = due[:7]
        wait_until(lambda: (score(stack, due_period) or {}).get("produktivitas") is not None, 30,
                   message="productivity scored")
        assert round(score(stack, due_period)["produktivitas"], 2) == round((100 + 90 + 100) / 3, 2)

        # 3. kill penilaian's consumer with SIGKILL right after a new punch, restart it, and
        #    check that every punch is counted exactly once
        stack.kill("penilaian-consumer", signal.SIGKILL)
        post_punch(stack, datetime(day2.year, day2.month, day2.day, 8, 10, tzinfo=WIB))   # TL2 −1, PSW4 −2
        post_punch(stack, datetime(day2.year, day2.month, day2.day, 16, 5, tzinfo=WIB), "out")  # departure: PSW4 gone
        again = post_punch(stack, datetime(day1.year, day1.month, day1.day, 7, 45, tzinfo=WIB))
        assert again["duplicates"] == 1 and again["accepted"] == 0
        stack.start_process("penilaian", "consumer")
        period2 = day2.strftime("%Y-%m")
        if period2 == period:
            expected = 100 - 2.5 - 1.0
        else:
            expected = 100 - 1.0
        wait_until(lambda: (score(stack, period2) or {}).get("disiplin", {}).get("score") == expected, 60,
                   message=f"disiplin {expected} after the restart")
        # kill it once more mid-stream and restart: the same facts, the same score
        stack.kill("penilaian-consumer", signal.SIGKILL)
        stack.start_process("penilaian", "consumer")
        final = score(stack, period2)
        assert final["disiplin"]["score"] == expected
        codes = sorted((d["date"], d["code"]) for d in final["disiplin"]["deductions"])
        assert len(codes) == len(set(codes))
    finally:
        stream.close()
