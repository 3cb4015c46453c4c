"""Issue 19's daily-use items end to end, the services as real processes through the real broker
and a real SMTP server (aiosmtpd):

- roles compose: the head of the agency approves an SKP with their admin token (item 7);
- everything that waits for someone reaches them (an SKP submitted, a leave request) and the ASN
  hears the decision; an approved leave request excuses its days (item 8);
- a correction approved changes the month, the quarter and the year: the ASN and the supervisor
  are told once per change (the lead events on the broker), the periods in one notification; the
  inbox is marked read at once (item 11);
- e-mail: the SMTP settings file is wrong at first; ``/readyz`` says the mailer is failing, each
  notification's e-mail status says why, the agency's admin is told; the file is corrected while
  the mailer runs and every e-mail goes out, the notifications of a few seconds batched (item 12).
"""
from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone

import pytest
import requests
from kafka import KafkaConsumer

from kinerja.auth import issue_token
from kinerja.cli.roster import parse_roster, publish
from kinerja.config import DEV_JWT_SECRET
from kinerja.localbroker import free_port
from kinerja.messaging import topics
from kinerja.testing import create_postgres_database, wait_until

aiosmtpd_controller = pytest.importorskip("aiosmtpd.controller", reason="aiosmtpd is not installed")
pytestmark = pytest.mark.e2e
AGENCY = "disdik-daily"
KEPALA = "197001012000011031"
ATASAN = "197910022009031032"
ASN = "198102082004121033"
WIB = timezone(timedelta(hours=7))


def auth(role, nip):
    return {"Authorization": f"Bearer {issue_token(DEV_JWT_SECRET, role=role, agency=AGENCY, nip=nip)}"}


ME, BOSS, HEAD = auth("pegawai", ASN), auth("atasan", ATASAN), auth("admin", KEPALA)


class Smtp:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope.content.decode("utf-8", "replace"))
        return "250 OK"


@pytest.fixture
def smtp():
    server = Smtp()
    controller = aiosmtpd_controller.Controller(server, hostname="127.0.0.1", port=free_port())
    controller.start()
    server.port = controller.port
    yield server
    controller.stop()


@pytest.fixture
def stack(postgres_server, running_stack, tmp_path):
    settings = tmp_path / "smtp.env"
    settings.write_text(f"NOTIFIKASI_SMTP_HOST=127.0.0.1\nNOTIFIKASI_SMTP_PORT={free_port()}\n")  # nobody listens
    s = running_stack(
        database_urls={"notifikasi": create_postgres_database(postgres_server),
                       "penilaian": create_postgres_database(postgres_server)},
        extra_env={"NOTIFIKASI_SMTP_CONFIG_FILE": str(settings), "NOTIFIKASI_MAIL_POLL_S": "0.2",
                   "NOTIFIKASI_MAIL_BATCH_S": "2", "NOTIFIKASI_MAIL_RETRY_BASE_S": "0.5",
                   "NOTIFIKASI_MAIL_RETRY_MAX_S": "1", "NOTIFIKASI_MAIL_MAX_ATTEMPTS": "10000"},
    )
    s.settings_file = settings
    return s


def inbox(stack, headers, kind=None):
    r = requests.get(f"{stack.url('notifikasi')}/api/v1/notifications", params={"limit": 200}, headers=headers,
                     timeout=10)
    r.raise_for_status()
    return [i for i in r.json()["items"] if kind is None or i["kind"] == kind]


def waits_for(stack, headers, kind, what, timeout_s=60):
    return wait_until(lambda: inbox(stack, headers, kind), timeout_s, interval_s=0.2, message=what)


def skp(stack, headers, text):
    def draft():  # tugas may not have read the roster yet
        r = requests.post(f"{stack.url('tugas')}/api/v1/skp", headers=headers, timeout=10, json={
            "year": datetime.now(WIB).year, "rhk": [{"kind": "main", "text": text, "indicators": [
                {"indicator": "Jumlah laporan", "target_quantity": 12, "unit": "laporan"}]}]})
        return r.json() if r.status_code == 201 else None
    made = wait_until(draft, 60, interval_s=0.2, message="tugas knows the roster")
    r = requests.post(f"{stack.url('tugas')}/api/v1/skp/{made['id']}/submit", headers=headers, json={}, timeout=10)
    assert r.status_code == 200, r.text
    return made


def score_updates_on_the_broker(stack, nip):
    """penilaian's score updates of one ASN on the broker: those that lead a change, and all."""
    consumer = KafkaConsumer(topics.topic(topics.PENILAIAN, stack.topic_prefix), bootstrap_servers=stack.kafka_bootstrap,
                             group_id=None, auto_offset_reset="earliest", consumer_timeout_ms=1500)
    try:
        every = [e for e in (json.loads(r.value) for r in consumer)
                 if e["type"] == "penilaian.score.updated.v1" and e["subject"] == nip]
    finally:
        consumer.close()
    return [e for e in every if not e["data"].get("part_of")], every


def test_a_day_of_requests_one_notification_per_change_and_mail_that_says_when_it_fails(stack, smtp):
    tmt = datetime.now(WIB).date() - timedelta(days=14)  # the ASN's past workdays count (a correction below)
    csv = ("nip,nama,agency,unit,jabatan,atasan_nip,pin,tmt\n"
           f"{KEPALA},Kepala Dinas,{AGENCY},Pimpinan,Kepala Dinas,,1,\n"
           f"{ATASAN},Citra,{AGENCY},Bidang GTK,Kepala Bidang,{KEPALA},2,\n"
           f"{ASN},Taufik,{AGENCY},Bidang GTK,Analis,{ATASAN},3,{tmt}\n")
    parsed = parse_roster(csv)
    assert parsed.errors == []
    publish(parsed.events, stack.kafka_bootstrap, stack.topic_prefix)
    notifikasi, kehadiran = stack.url("notifikasi"), stack.url("kehadiran")
    r = requests.put(f"{notifikasi}/api/v1/notifications/email", headers=ME, timeout=10,
                     json={"email": "taufik@lampungselatankab.go.id", "mode": "immediate"})
    assert r.status_code == 200, r.text

    # item 8: an SKP submitted waits for the supervisor, who is told; item 7: the head of the
    # agency approves the supervisor's own SKP with the admin token
    skp(stack, ME, "Laporan GTK tersusun")
    told = waits_for(stack, BOSS, "skp.submitted", "the supervisor told of the ASN's SKP")
    assert told[0]["body"].startswith("Taufik mengajukan SKP tahun")
    boss_skp = skp(stack, BOSS, "Program GTK terlaksana")
    waits_for(stack, HEAD, "skp.submitted", "the head of the agency told of the supervisor's SKP")
    r = requests.post(f"{stack.url('tugas')}/api/v1/skp/{boss_skp['id']}/approve", headers=HEAD, json={}, timeout=10)
    assert r.status_code == 200 and r.json()["status"] == "approved", r.text
    waits_for(stack, BOSS, "skp.approved", "the supervisor told their SKP was approved")

    # item 8: a leave request by the ASN (the NIP from the token), approved by the supervisor
    start = datetime.now(WIB).date() + timedelta(days=7)
    while start.weekday() >= 5:
        start += timedelta(days=1)
    r = wait_until(lambda: (lambda r: r if r.status_code == 201 else None)(requests.post(
        f"{kehadiran}/api/v1/leave-requests", headers=ME, timeout=10,
        json={"kind": "cuti", "start_date": str(start), "end_date": str(start), "reason": "acara keluarga"})),
        60, interval_s=0.2, message="kehadiran knows the roster")
    request_id = r.json()["id"]
    waits_for(stack, BOSS, "leave.requested", "the supervisor told a leave request waits")
    r = requests.post(f"{kehadiran}/api/v1/leave-requests/{request_id}/approve", headers=BOSS, json={}, timeout=30)
    assert r.status_code == 200 and r.json()["status"] == "approved", r.text
    decided = waits_for(stack, ME, "leave.decided", "the ASN told the decision")
    assert decided[0]["title"] == "Permohonan cuti disetujui"
    days = requests.get(f"{kehadiran}/api/v1/leave", params={"nip": ASN, "period": start.strftime("%Y-%m")},
                        headers=ME, timeout=10).json()
    assert [d["date"] for d in days] == [str(start)]

    # item 11: a forgotten punch approved moves the month, its quarter and its year: the ASN and
    # the supervisor are told once per change, whatever else the day closer did meanwhile
    day = datetime.now(WIB).date() - timedelta(days=1)
    while day.weekday() > 3:  # Monday–Thursday
        day -= timedelta(days=1)
    r = requests.post(f"{kehadiran}/api/v1/corrections", headers=ME, timeout=10, json={
        "date": str(day), "reason": "lupa absen, HP tertinggal",
        "punches": [{"time": f"{day}T07:20:00+07:00", "status": "in"}, {"time": f"{day}T16:40:00+07:00", "status": "out"}]})
    assert r.status_code == 201, r.text
    waits_for(stack, BOSS, "correction.requested", "the supervisor told a correction waits")
    r = requests.post(f"{kehadiran}/api/v1/corrections/{r.json()['id']}/approve", headers=BOSS, json={}, timeout=30)
    assert r.status_code == 200, r.text
    waits_for(stack, ME, "correction.decided", "the ASN told the correction was approved")
    mine = waits_for(stack, ME, "score.updated", "the ASN told the score moved")
    merged = [n for n in mine if len(n["payload"].get("also") or []) >= 2]
    assert merged, mine
    also = sorted(a["period"] for a in merged[0]["payload"]["also"])
    assert len(also[0]) == 4 and any("-Q" in p for p in also), also
    assert re.search(r"Juga: .*Triwulan [IV]+ \d{4} .*Tahun \d{4}", merged[0]["body"]), merged[0]["body"]
    leads, every = score_updates_on_the_broker(stack, ASN)
    assert len(every) > len(leads)  # several periods per change on the topic ...
    wait_until(lambda: len(inbox(stack, ME, "score.updated")) == len(score_updates_on_the_broker(stack, ASN)[0]), 60,
               interval_s=0.5, message="one notification per change (lead event), not per period")
    wait_until(lambda: len(inbox(stack, BOSS, "score.updated")) == len(score_updates_on_the_broker(stack, ASN)[0]), 60,
               interval_s=0.5, message="the supervisor too")
    assert all(not n["payload"].get("part_of") for n in inbox(stack, ME) + inbox(stack, BOSS))

    # item 12: nothing went out: the mailer's line says why, as does each e-mail's status, and
    # the agency's admin was told
    ready = wait_until(lambda: (lambda j: j if j["mailer"]["status"] == "failing" else None)(
        requests.get(f"{notifikasi}/readyz", timeout=10).json()), 60, interval_s=0.2, message="readyz: mailer failing")
    assert ready["status"] == "degraded" and "Connection refused" in ready["problems"]["mailer"]
    [failing] = waits_for(stack, HEAD, "mail.failing", "the admin told mail does not go out")
    assert "E-mail tidak dapat dikirim" == failing["title"] and "NOTIFIKASI_SMTP" in failing["body"]
    mailed = [n for n in inbox(stack, ME) if n["email"]]
    assert {n["kind"] for n in mailed} >= {"leave.decided", "score.updated"}
    assert all(n["email"]["status"] == "pending" for n in mailed)
    wait_until(lambda: all(n["email"]["attempts"] >= 1 and n["email"]["last_error"] for n in inbox(stack, ME)
                           if n["email"]), 60, interval_s=0.2, message="each e-mail's failed attempt recorded")
    smtp_file = stack.settings_file
    smtp_file.write_text(f"NOTIFIKASI_SMTP_HOST=127.0.0.1\nNOTIFIKASI_SMTP_PORT={smtp.port}\n")
    wait_until(lambda: all(n["email"]["status"] == "sent" for n in inbox(stack, ME) if n["email"]), 60,
               interval_s=0.2, message="every e-mail sent once the settings were corrected, without a restart")
    mailed = [n for n in inbox(stack, ME) if n["email"]]
    covered = sum(int(m.group(1)) if (m := re.search(r"(\d+) notifikasi baru untuk Anda", text)) else 1
                  for text in smtp.messages)
    assert covered == len(mailed) and len(smtp.messages) <= len(mailed)
    line = requests.get(f"{notifikasi}/readyz", timeout=10).json()
    assert line["mailer"]["status"] == "ok" and line["mailer"]["pending"] == 0
    waits_for(stack, HEAD, "mail.recovered", "the admin told mail goes out again")

    # item 11: everything read at once
    r = requests.post(f"{notifikasi}/api/v1/notifications/read-all", headers=ME, json={}, timeout=10)
    assert r.status_code == 200 and r.json()["unread"] == 0 and r.json()["marked"] >= 2
