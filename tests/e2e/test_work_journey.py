"""The work side end to end (issue 4), tugas and penilaian as real processes through the real broker:
an SKP drafted and approved; tasks assigned against its RHK; one submitted late with an evidence
file and approved with a quality rating; one returned for revision, resubmitted and approved; one
left overdue. penilaian's productivity for the ASN equals the value computed by hand from DESIGN
section 6.

"Late" and "overdue" need due dates that have passed, and assignment refuses a past due date: the
supervisor records the deadline with a reschedule (PATCH /api/v1/tasks/<id>), which allows one.
"""
from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal

import pytest
import requests
from kafka import KafkaConsumer

from kinerja.auth import issue_token
from kinerja.cli.roster import parse_roster, publish
from kinerja.config import DEV_JWT_SECRET
from kinerja.messaging import topics
from kinerja.stack import Stack
from kinerja.testing import create_postgres_database, wait_until

pytestmark = pytest.mark.e2e
AGENCY = "disdik-kerja"
KADIS = "197803132000011011"
ATASAN = "197910022009031012"
ASN = "198102082004121013"
WIB = timezone(timedelta(hours=7))


def auth(role, nip):
    return {"Authorization": f"Bearer {issue_token(DEV_JWT_SECRET, role=role, agency=AGENCY, nip=nip)}"}


ME = auth("pegawai", ASN)
BOSS = auth("atasan", ATASAN)


@pytest.fixture
def stack(postgres_server, running_stack):
    return running_stack(
        services=("tugas", "penilaian"),
        database_urls={svc: create_postgres_database(postgres_server) for svc in ("tugas", "penilaian")},
        extra_env={"TUGAS_OVERDUE_INTERVAL_S": "1"},  # the sweep runs once a minute by default
    )


def load_roster(stack: Stack) -> None:
    parsed = parse_roster("nip,nama,agency,unit,jabatan,atasan_nip,pin\n"
                          f"{KADIS},Hermansyah,{AGENCY},Sekretariat,Kepala Dinas,,1\n"
                          f"{ATASAN},Citra,{AGENCY},Bidang GTK,Kepala Bidang,{KADIS},2\n"
                          f"{ASN},Taufik,{AGENCY},Bidang GTK,Analis,{ATASAN},3\n")
    assert parsed.errors == []
    publish(parsed.events, stack.kafka_bootstrap, stack.topic_prefix)


def call(stack, method, path, headers, expect=200, **kw):
    r = requests.request(method, f"{stack.url('tugas')}{path}", headers=headers, timeout=10, **kw)
    assert r.status_code == expect, f"{method} {path}: {r.status_code} {r.text}"
    return r.json()


def approved_skp(stack, year: int) -> str:
    """The ASN drafts an SKP for the year, submits it, the supervisor approves; returns its RHK's id."""
    body = {"year": year, "rhk": [{
        "kind": "main", "text": "Data guru dan tenaga kependidikan mutakhir",
        "indicators": [{"indicator": "Jumlah laporan rekap", "target_quantity": 12, "unit": "laporan",
                        "quality_target": 90, "time_target": "12 bulan"}]}]}

    def draft():  # tugas may not have read the roster yet
        r = requests.post(f"{stack.url('tugas')}/api/v1/skp", json=body, headers=ME, timeout=10)
        return r.json() if r.status_code == 201 else None
    skp = wait_until(draft, 60, interval_s=0.2, message="tugas knows the ASN from the roster")
    assert skp["status"] == "draft"
    call(stack, "POST", f"/api/v1/skp/{skp['id']}/submit", ME, json={})
    approved = call(stack, "POST", f"/api/v1/skp/{skp['id']}/approve", BOSS, json={"note": "setuju"})
    assert (approved["status"], approved["revision"]) == ("approved", 1)
    return approved["rhk"][0]["id"]


def score(stack, period: str):
    r = requests.get(f"{stack.url('penilaian')}/api/v1/scores/{ASN}", params={"period": period},
                     headers=ME, timeout=10)
    return r.json() if r.status_code == 200 else None


def published(stack, event_type: str, task_id: str, timeout_s: float = 30) -> dict:
    """The event of that type about that task on tugas's topic, read from the broker."""
    consumer = KafkaConsumer(topics.topic(topics.TUGAS, stack.topic_prefix), bootstrap_servers=stack.kafka_bootstrap,
                             group_id=None, auto_offset_reset="earliest", consumer_timeout_ms=1000)
    try:
        def find():
            for record in consumer:
                event = json.loads(record.value)
                if event["type"] == event_type and event["data"]["task_id"] == task_id:
                    return event
            return None
        return wait_until(find, timeout_s, message=f"{event_type} of {task_id} on the broker")
    finally:
        consumer.close()


def mean2(values) -> Decimal:
    values = list(values)
    return (sum(values, Decimal(0)) / len(values)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def test_skp_tasks_evidence_late_returned_overdue_give_the_hand_computed_productivity(stack):
    load_roster(stack)
    today = datetime.now(WIB).date()
    due_late, due_overdue, due_on_time = today - timedelta(days=2), today - timedelta(days=1), today
    rhk_id = approved_skp(stack, today.year)

    def assign(title, target, due: date):
        """Assigned due today (assignment refuses a past date), against the SKP's RHK when the task
        stays in its year (on 1–2 January a deadline in the past falls in last year, without an SKP)."""
        rhk = rhk_id if due.year == today.year else None
        task = call(stack, "POST", "/api/v1/tasks", BOSS, expect=201, json={
            "nip": ASN, "title": title, "due_date": today.isoformat(), "target_quantity": target, "rhk_id": rhk})
        assert task["status"] == "assigned" and task["rhk_id"] == rhk
        return task

    def reschedule(task, due: date):
        """The supervisor records a deadline that has already passed."""
        moved = call(stack, "PATCH", f"/api/v1/tasks/{task['id']}", BOSS,
                     json={"due_date": due.isoformat(), "version": task["version"]})
        assert moved["due_date"] == due.isoformat() and moved["version"] == task["version"] + 1
        return moved

    # assignment refuses a past due date; a reschedule is how a passed deadline is recorded
    r = requests.post(f"{stack.url('tugas')}/api/v1/tasks", headers={**BOSS, "Accept-Language": "en"}, timeout=10, json={
        "nip": ASN, "title": "Terlambat", "due_date": due_late.isoformat(), "target_quantity": 1})
    assert r.status_code == 422 and "in the past" in r.text

    # task 3: due yesterday and never done — left overdue
    t3 = reschedule(assign("Laporan kegiatan bimtek", 3, due_overdue), due_overdue)

    # task 1: due two days ago; started, evidence uploaded, submitted today (2 days late), approved
    t1 = reschedule(assign("Rekap data GTK semester ganjil", 10, due_late), due_late)
    call(stack, "POST", f"/api/v1/tasks/{t1['id']}/start", ME, json={})
    content = b"NIP;Nama;Status\n198102082004121013;Taufik;aktif\n" * 50
    evidence = call(stack, "POST", f"/api/v1/tasks/{t1['id']}/evidence", ME, expect=201,
                    files={"file": ("rekap-gtk.csv", content, "text/csv")})
    assert evidence["size"] == len(content) and evidence["filename"] == "rekap-gtk.csv"
    listed = call(stack, "GET", f"/api/v1/tasks/{t1['id']}/evidence", BOSS)
    assert [e["id"] for e in listed] == [evidence["id"]]
    r = requests.get(f"{stack.url('tugas')}/api/v1/tasks/{t1['id']}/evidence/{evidence['id']}", headers=BOSS,
                     timeout=10)
    assert r.status_code == 200 and r.content == content
    submitted = call(stack, "POST", f"/api/v1/tasks/{t1['id']}/submit", ME, json={"note": "rekap terlampir"})
    assert submitted["status"] == "submitted"
    assert datetime.fromisoformat(submitted["submitted_at"]).astimezone(WIB).date() == today
    approved = call(stack, "POST", f"/api/v1/tasks/{t1['id']}/approve", BOSS,
                    json={"realised_quantity": "8", "quality": 86, "note": "dua sekolah belum masuk"})
    assert (approved["status"], approved["quality"], approved["realised_quantity"]) == ("approved", 86, "8.00")

    # task 2: due today; submitted, returned with feedback, resubmitted today, approved
    t2 = assign("Verifikasi berkas tunjangan profesi", 4, due_on_time)
    call(stack, "POST", f"/api/v1/tasks/{t2['id']}/start", ME, json={})
    call(stack, "POST", f"/api/v1/tasks/{t2['id']}/submit", ME, json={"note": "sudah diverifikasi"})
    returned = call(stack, "POST", f"/api/v1/tasks/{t2['id']}/return", BOSS,
                    json={"feedback": "lampirkan daftar sekolah yang diverifikasi"})
    assert returned["status"] == "returned"
    call(stack, "POST", f"/api/v1/tasks/{t2['id']}/submit", ME,
         json={"note": "daftar terlampir", "links": ["https://drive.example.go.id/verifikasi.xlsx"]})
    approved = call(stack, "POST", f"/api/v1/tasks/{t2['id']}/approve", BOSS,
                    json={"realised_quantity": "5", "quality": 91})
    assert approved["status"] == "approved"

    # tugas detects task 3 as overdue by itself and publishes it
    wait_until(lambda: call(stack, "GET", f"/api/v1/tasks/{t3['id']}", BOSS)["overdue_at"], 30,
               interval_s=0.2, message="tugas's overdue sweep flags task 3")
    overdue = published(stack, "tugas.task.overdue.v1", t3["id"])
    assert overdue["data"]["due_date"] == due_overdue.isoformat() and overdue["data"]["status"] == "assigned"

    # By hand, DESIGN section 6: task score = mean(quantity, quality, timeliness);
    # quantity = realised / target × 100 capped at 100; timeliness = 100 − 10 × calendar days the
    # approved submission came after the due date; a task past due and not approved counts 0;
    # productivity = mean score of the tasks due in the period.
    #   task 1: quantity 8/10 → 80, quality 86, submitted 2 days late → 80: (80 + 86 + 80) / 3 = 82
    #   task 2: quantity 5/4 → 125 capped → 100, quality 91, resubmitted on the due date → 100:
    #           (100 + 91 + 100) / 3 = 97
    #   task 3: past due, not approved → 0
    #   productivity = (82 + 97 + 0) / 3 = 59.666… → 59.67
    by_hand = {
        t1["id"]: {"due": due_late, "score": 82, "quantity": 80, "quality": 86, "timeliness": 80},
        t2["id"]: {"due": due_on_time, "score": 97, "quantity": 100, "quality": 91, "timeliness": 100},
        t3["id"]: {"due": due_overdue, "score": 0, "quantity": None, "quality": None, "timeliness": None},
    }
    due_in: dict[str, list[Decimal]] = {}
    for t in by_hand.values():
        due_in.setdefault(t["due"].strftime("%Y-%m"), []).append(Decimal(t["score"]))
    expected = {period: mean2(scores) for period, scores in due_in.items()}
    if len(expected) == 1:  # every day but the 1st and 2nd of a month
        assert expected == {today.strftime("%Y-%m"): Decimal("59.67")}

    final_states = {t1["id"]: "approved", t2["id"]: "approved", t3["id"]: "assigned"}

    def settled(period):
        """penilaian has the last state of every task due in the period, task 3 from its overdue event."""
        s = score(stack, period)
        if not s:
            return None
        tasks = {t["task_id"]: t for t in s["tasks"]}
        want = {tid for tid, t in by_hand.items() if t["due"].strftime("%Y-%m") == period}
        if set(tasks) != want or any(tasks[tid]["status"] != final_states[tid] for tid in want):
            return None
        if t3["id"] in want and tasks[t3["id"]]["event_id"] != overdue["id"]:
            return None
        return s

    for period, productivity in expected.items():
        s = wait_until(lambda: settled(period), 60, interval_s=0.2, message=f"penilaian scored the tasks of {period}")
        print(f"{period}: productivity by hand {productivity}, penilaian {s['produktivitas']}")
        for t in s["tasks"]:
            hand = by_hand[t["task_id"]]
            assert (t["score"], t["quantity"], t["quality"], t["timeliness"]) == (
                hand["score"], hand["quantity"], hand["quality"], hand["timeliness"]), t
            assert t["due_date"] == hand["due"].isoformat()
        assert Decimal(str(s["produktivitas"])) == productivity
        assert s["hasil_kerja"] == s["produktivitas"]  # no innovation
        ledger = [e for e in s["ledger"] if e["component"] == "produktivitas"]
        assert round(sum(e["points"] for e in ledger), 2) == s["produktivitas"]
        if t3["id"] in {t["task_id"] for t in s["tasks"]}:
            assert overdue["id"] in {i for e in ledger for i in e["event_ids"]}
