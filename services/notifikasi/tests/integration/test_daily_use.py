"""Issue 19 items 8, 11 and 12 in notifikasi, through its API on SQLite and PostgreSQL, with a real
SMTP server (aiosmtpd):

- what waits for the supervisor (a leave request, a correction, an SKP, a proposal) reaches them,
  and the decision the ASN (item 8);
- one notification per change: a score update whose month carries its quarter and year tells the
  ASN and the supervisor once; everything is marked read at once; a person's e-mails of a few
  minutes go out as one (item 11);
- the SMTP settings are read on every round (a settings file corrected while the mailer runs),
  each e-mail's delivery status is in the API, ``/readyz`` carries the mailer's line, and the
  agency's admins are told when mail does not go out, when a message is given up and when it
  recovers (item 12).
"""
from datetime import date, datetime, timedelta, timezone
from email import message_from_bytes
from email.policy import default as default_policy

import pytest
import requests

from kinerja.config import load_settings
from kinerja.events import make_event
from kinerja.events import kehadiran as kh
from kinerja.events import tugas as tg
from kinerja.localbroker import free_port
from notifikasi.domain.webhooks import RetryPolicy
from notifikasi.entrypoints.runtime import make_runtime
from kinerja_testkit.notifikasi import AGENCY, ASN, ATASAN, OTHER, score_event, token

aiosmtpd_controller = pytest.importorskip("aiosmtpd.controller", reason="aiosmtpd is not installed")
pytestmark = pytest.mark.integration
ADMIN = "198501012010011099"
T0 = datetime(2026, 11, 27, 2, 0, tzinfo=timezone.utc)  # 09:00 WIB


def auth(nip=ASN, role="pegawai", agency=AGENCY):
    return {"Authorization": "Bearer " + token(nip, role=role, agency=agency)}


def inbox(server, nip=ASN, role="pegawai", **params):
    r = requests.get(server.url + "/api/v1/notifications", headers=auth(nip, role), params={"limit": 200, **params},
                     timeout=10)
    assert r.status_code == 200, r.text
    return r.json()


class Smtp:
    def __init__(self, port):
        self.messages, self.port = [], port
        self.controller = aiosmtpd_controller.Controller(self, hostname="127.0.0.1", port=port)

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.content, policy=default_policy)))
        return "250 OK"


@pytest.fixture
def smtp():
    s = Smtp(free_port())
    s.controller.start()
    yield s
    s.controller.stop()


def prefer(server, nip, role="pegawai"):
    r = requests.put(server.url + "/api/v1/notifications/email", headers=auth(nip, role),
                     json={"email": f"{nip}@lampungselatankab.go.id", "mode": "immediate"}, timeout=10)
    assert r.status_code == 200, r.text


def one_change(total=97.5):
    """A change as penilaian publishes it: the month's event carries the quarter and the year."""
    month = score_event(ASN, total=total, atasan_nip=ATASAN)
    month.data["also"] = [
        {"period": "2026-Q4", "total": 98.0, "total_partial": None, "predikat": "Sangat Baik", "changes": []},
        {"period": "2026", "total": None, "total_partial": 96.25, "predikat": "Belum dinilai", "changes": []}]
    rest = []
    for period in ("2026-Q4", "2026"):
        e = score_event(ASN, total=98.0, atasan_nip=ATASAN)
        e.data.update(period=period, part_of=month.id)
        rest.append(e)
    return [month, *rest]


# -- item 8 ---------------------------------------------------------------------------------------
def test_what_waits_reaches_the_supervisor_and_the_decision_the_asn(server, writer):
    writer.roster()
    at = datetime(2026, 11, 27, 1, tzinfo=timezone.utc)
    ev = lambda t, data: make_event(t, subject=ASN, agency=AGENCY, source="test", data=data)  # noqa: E731
    base = {"request_id": "r-1", "nip": ASN, "atasan_nip": ATASAN}
    writer.apply(ev(kh.LEAVE_REQUESTED, {**base, "kind": "cuti", "start_date": date(2026, 12, 1),
                                         "end_date": date(2026, 12, 3), "reason": "acara keluarga", "requested_at": at}))
    writer.apply(ev(kh.CORRECTION_REQUESTED, {**base, "request_id": "r-2", "date": date(2026, 11, 26),
                                              "times": [at], "reason": "lupa absen", "requested_at": at}))
    writer.apply(ev(tg.SKP_SUBMITTED, {"skp_id": "s-1", "nip": ASN, "atasan_nip": ATASAN, "year": 2027, "revision": 1,
                                       "submitted_at": at}))
    writer.apply(ev(tg.INNOVATION_PROPOSED, {"innovation_id": "i-1", "nip": ASN, "atasan_nip": ATASAN,
                                             "title": "Antrian daring", "proposed_at": at}))
    writer.apply(ev(tg.TASK_PROPOSED, {"task_id": "t-1", "nip": ASN, "atasan_nip": ATASAN, "title": "Digitalisasi arsip",
                                       "status": "proposed", "due_date": date(2026, 12, 10), "target_quantity": "2"}))
    boss = {n["kind"]: n for n in inbox(server, ATASAN, "atasan")["items"]}
    assert set(boss) == {"leave.requested", "correction.requested", "skp.submitted", "innovation.proposed",
                         "task.proposed"}
    assert boss["leave.requested"]["title"] == "Permohonan cuti menunggu persetujuan"
    assert boss["leave.requested"]["body"] == ("Siti Aminah mengajukan cuti 1 Desember 2026 s.d. 3 Desember 2026 "
                                               "(alasan: acara keluarga). Mohon diperiksa dan diputuskan.")
    assert "koreksi lupa absen untuk 26 November 2026" in boss["correction.requested"]["body"]
    assert boss["skp.submitted"]["body"].startswith("Siti Aminah mengajukan SKP tahun 2027")
    assert inbox(server)["items"] == []  # the ASN is not told what they did themselves
    writer.apply(ev(kh.LEAVE_DECIDED, {**base, "kind": "cuti", "start_date": date(2026, 12, 1),
                                       "end_date": date(2026, 12, 3), "status": "rejected", "decided_by": ATASAN,
                                       "note": "bertepatan dengan audit", "decided_at": at}))
    [told] = inbox(server)["items"]
    assert (told["kind"], told["title"]) == ("leave.decided", "Permohonan cuti ditolak")
    assert told["body"].endswith("ditolak. Catatan: bertepatan dengan audit")


# -- item 11 --------------------------------------------------------------------------------------
def test_one_notification_per_change_and_mark_all_read(server, writer):
    writer.roster()
    for e in one_change():
        writer.apply(e)
    [mine] = inbox(server)["items"]
    assert mine["title"] == "Skor kinerja November 2026"
    assert mine["body"] == ("Skor kinerja Anda berubah: 97.5 (Baik). Perubahan: Disiplin 100 → 99.5. "
                            "Juga: Triwulan IV 2026 98 (Sangat Baik); Tahun 2026 96.25 (sementara) (Belum dinilai).")
    [boss] = inbox(server, ATASAN, "atasan")["items"]
    assert boss["body"].startswith("Skor kinerja Siti Aminah berubah: 97.5 (Baik).")
    # an older event standing alone (no also/part_of) is told as before
    writer.apply(score_event(ASN, total=96.0))
    writer.apply(score_event(OTHER, total=50.0))
    page = inbox(server)
    assert page["unread"] == 2
    newest = page["items"][0]["id"]
    writer.apply(score_event(ASN, total=95.0))  # arrives after the reader looked
    url = server.url + "/api/v1/notifications/read-all"
    r = requests.post(url, headers=auth(), json={"up_to_id": newest}, timeout=10)
    assert r.status_code == 200 and r.json() == {"marked": 2, "unread": 1}
    assert requests.post(url, headers=auth(), json={}, timeout=10).json() == {"marked": 1, "unread": 0}
    assert inbox(server, OTHER)["unread"] == 1  # nobody else's
    assert requests.post(url, headers=auth(), json={"up_to_id": 0}, timeout=10).status_code in (400, 422)
    assert requests.post(url, json={}, timeout=10).status_code == 401


def test_e_mail_batches_what_arrives_within_the_window(server, writer, smtp, migrated):
    runtime = make_runtime(load_settings("notifikasi", {"database_url": migrated, "smtp_host": "127.0.0.1",
                                                        "smtp_port": smtp.port, "mail_batch_s": 120}))
    try:
        prefer(server, ASN)
        writer.roster()
        for e in one_change(97.5):  # one e-mail's worth: one notification
            writer.apply(e)
        writer.apply(score_event(ASN, total=96.0))
        writer.apply(score_event(ASN, total=95.0))
        mailer = runtime.mailer()
        first = min(n["created_at"] for n in inbox(server)["items"])
        start = datetime.fromisoformat(first)
        mailer.clock = lambda: start + timedelta(seconds=60)
        assert mailer.send_due() == 0 and smtp.messages == []  # the window is still open
        statuses = [n["email"] for n in inbox(server)["items"]]
        assert [(s["status"], s["attempts"]) for s in statuses] == [("pending", 0)] * 3
        mailer.clock = lambda: start + timedelta(seconds=121)
        assert mailer.send_due() == 1 and mailer.send_due() == 0
        [(to, msg)] = smtp.messages
        assert to == [f"{ASN}@lampungselatankab.go.id"]
        assert msg["Subject"] == "[Kinerja] 3 notifikasi baru: Skor kinerja November 2026"
        text = msg.get_content()
        assert text.startswith("3 notifikasi baru untuk Anda:") and text.count("- ") >= 3 and "Juga: Triwulan IV" in text
        assert {n["email"]["status"] for n in inbox(server)["items"]} == {"sent"}
    finally:
        runtime.dispose()


# -- item 12 --------------------------------------------------------------------------------------
def test_smtp_read_at_call_time_status_in_the_api_readyz_and_the_admin_told(server, writer, smtp, migrated, tmp_path):
    settings_file = tmp_path / "smtp.env"
    dead = free_port()
    settings_file.write_text(f"# mounted from a Secret\nNOTIFIKASI_SMTP_HOST=127.0.0.1\nNOTIFIKASI_SMTP_PORT={dead}\n")
    runtime = make_runtime(load_settings("notifikasi", {"database_url": migrated, "smtp_config_file": str(settings_file),
                                                        "mail_batch_s": 0}))
    try:
        ready = requests.get(server.url + "/readyz", timeout=10).json()
        assert ready["status"] == "ready" and ready["mailer"]["status"] == "idle"
        prefer(server, ASN)
        writer.roster()
        writer.apply(score_event(ASN, total=97.5))
        mailer = runtime.mailer()
        mailer.clock = lambda: T0 + timedelta(days=400)  # everything is due
        assert mailer.config.port == dead
        assert mailer.send_due() == 0
        [item] = inbox(server)["items"]
        assert (item["email"]["status"], item["email"]["attempts"]) == ("pending", 1)
        assert "Connection refused" in item["email"]["last_error"] and item["email"]["next_attempt_at"]
        ready = requests.get(server.url + "/readyz", timeout=10)
        assert ready.status_code == 200 and ready.json()["status"] == "degraded"
        line = ready.json()["mailer"]
        assert (line["status"], line["smtp"], line["pending"]) == ("failing", f"127.0.0.1:{dead}", 1)
        assert "Connection refused" in ready.json()["problems"]["mailer"]
        assert requests.get(server.url + "/readyz?strict=1", timeout=10).status_code == 503
        # the agency's admins are told, once per episode (a second failure tells nobody again)
        told = inbox(server, ADMIN, "admin")["items"]
        assert [(n["kind"], n["title"]) for n in told] == [("mail.failing", "E-mail tidak dapat dikirim")]
        assert f"127.0.0.1:{dead}" in told[0]["body"] and "1 e-mail menunggu" in told[0]["body"]
        other_agency = requests.get(server.url + "/api/v1/notifications", headers=auth(ADMIN, "admin", "disdik"),
                                    timeout=10).json()
        assert other_agency["items"] == []  # another agency's admins are not told
        assert inbox(server, ATASAN, "atasan")["items"][0]["kind"] == "score.updated"  # a supervisor is no admin
        listed = requests.get(server.url + "/api/v1/notifications/email/messages", headers=auth(ADMIN, "admin"),
                              params={"status": "pending"}, timeout=10).json()["items"]
        assert [(m["recipient_nip"], m["attempts"]) for m in listed] == [(ASN, 1)]
        assert requests.get(server.url + "/api/v1/notifications/email/messages", headers=auth(OTHER),
                            params={"nip": ASN}, timeout=10).status_code == 403
        mailer.clock = lambda: T0 + timedelta(days=401)
        assert mailer.send_due() == 0
        assert len(inbox(server, ADMIN, "admin")["items"]) == 1
        # the setting is corrected in the file while the mailer runs: the next round uses it
        settings_file.write_text(f"NOTIFIKASI_SMTP_HOST=127.0.0.1\nNOTIFIKASI_SMTP_PORT={smtp.port}\n"
                                 "NOTIFIKASI_SMTP_SENDER=Kinerja <kinerja@lampungselatankab.go.id>\n")
        mailer.clock = lambda: T0 + timedelta(days=402)
        assert mailer.send_due() == 1
        [(_, msg)] = smtp.messages
        assert msg["From"] == "Kinerja <kinerja@lampungselatankab.go.id>"
        [item] = inbox(server)["items"]
        assert (item["email"]["status"], item["email"]["attempts"], item["email"]["last_error"]) == ("sent", 3, None)
        line = requests.get(server.url + "/readyz", timeout=10).json()
        assert line["status"] == "ready" and line["mailer"]["status"] == "ok" and line["mailer"]["pending"] == 0
        assert [n["kind"] for n in inbox(server, ADMIN, "admin")["items"]] == ["mail.recovered", "mail.failing"]
        assert requests.post(server.url + "/api/v1/notifications/read-all", headers=auth(ADMIN, "admin"), json={},
                             timeout=10).json() == {"marked": 2, "unread": 0}
    finally:
        runtime.dispose()


def test_a_message_given_up_is_failed_in_the_api_and_told_to_the_admins(server, writer, migrated):
    runtime = make_runtime(load_settings("notifikasi", {"database_url": migrated, "smtp_host": "127.0.0.1",
                                                        "smtp_port": free_port(), "mail_batch_s": 0}))
    try:
        prefer(server, ASN)
        writer.roster()
        writer.apply(score_event(ASN, total=97.5))
        mailer = runtime.mailer()
        mailer.policy = RetryPolicy(base_delay_s=1, max_delay_s=1, max_attempts=2)
        for i in range(2):
            mailer.clock = lambda i=i: T0 + timedelta(days=400 + i)
            assert mailer.send_due() == 0
        [item] = inbox(server)["items"]
        assert (item["email"]["status"], item["email"]["attempts"], item["email"]["next_attempt_at"]) == ("failed", 2, None)
        kinds = [n["kind"] for n in inbox(server, ADMIN, "admin")["items"]]
        assert kinds == ["mail.failed", "mail.failing"]
        failed = inbox(server, ADMIN, "admin")["items"][0]
        assert failed["body"].startswith(f"1 e-mail untuk {ASN}@lampungselatankab.go.id tidak terkirim setelah 2 percobaan")
        line = requests.get(server.url + "/readyz", timeout=10).json()["mailer"]
        assert (line["failed"], line["pending"]) == (1, 0)
    finally:
        runtime.dispose()
