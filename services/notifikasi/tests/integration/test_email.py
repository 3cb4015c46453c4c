"""E-mail through a real SMTP server (aiosmtpd, local): immediate messages, the daily digest,
and retries while the server is away."""
from datetime import datetime, timedelta, timezone
from email import message_from_bytes
from email.policy import default as default_policy

import pytest
import requests
from sqlalchemy import select

from kinerja.config import load_settings
from kinerja.localbroker import free_port
from notifikasi.adapters.orm import EmailMessage
from notifikasi.entrypoints.runtime import make_runtime
from notifikasi.service_layer.email import set_preference
from notifikasi.service_layer.notifications import handle_event
from notifikasi_testkit import ASN, ATASAN, score_event, token

aiosmtpd_controller = pytest.importorskip(
    "aiosmtpd.controller", reason="aiosmtpd is not installed: pip install -e 'services/notifikasi[test]'")
pytestmark = pytest.mark.integration


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.content, policy=default_policy)))
        return "250 OK"


@pytest.fixture
def smtp_port():
    return free_port()


@pytest.fixture
def smtp(smtp_port):
    inbox = Inbox()
    controller = aiosmtpd_controller.Controller(inbox, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    yield inbox
    controller.stop()


@pytest.fixture
def mail_runtime(migrated, smtp_port):
    runtime = make_runtime(load_settings("notifikasi", {
        "database_url": migrated, "smtp_host": "127.0.0.1", "smtp_port": smtp_port,
        "smtp_sender": "Kinerja Lampung Selatan <kinerja@lampungselatankab.go.id>"}))
    yield runtime
    runtime.dispose()


def prefer(server, nip, mode, role="pegawai", **kw):
    r = requests.put(server.url + "/api/v1/notifications/email", headers={"Authorization": "Bearer " + token(nip, role=role)},
                     json={"email": f"{nip}@lampungselatankab.go.id", "mode": mode, **kw}, timeout=10)
    assert r.status_code == 200, r.text
    return r.json()


def test_immediate_email_for_each_notification(server, writer, smtp, mail_runtime):
    assert prefer(server, ASN, "immediate")["mode"] == "immediate"
    got = requests.get(server.url + "/api/v1/notifications/email",
                       headers={"Authorization": "Bearer " + token(ASN)}, timeout=10).json()
    assert got["email"] == f"{ASN}@lampungselatankab.go.id"
    writer.roster()
    writer.apply(score_event(ASN))  # the supervisor has no preference: no e-mail for them
    mailer = mail_runtime.mailer()
    assert mailer.send_due() == 1
    assert mailer.send_due() == 0
    [(to, msg)] = smtp.messages
    assert to == [f"{ASN}@lampungselatankab.go.id"]
    assert msg["Subject"] == "[Kinerja] Skor kinerja November 2026"
    assert msg["From"] == "Kinerja Lampung Selatan <kinerja@lampungselatankab.go.id>"
    assert msg.get_content().startswith("Skor kinerja Anda berubah: 97.5 (Baik). Perubahan: Disiplin 100 → 99.5.")


def test_daily_digest(server, writer, smtp, mail_runtime):
    writer.roster()
    with mail_runtime.session() as session, session.begin():
        set_preference(session, nip=ATASAN, agency="lamsel", email="budi@lampungselatankab.go.id", mode="digest",
                       digest_hour=16, now=datetime(2026, 11, 27, 10, 0, tzinfo=timezone.utc))
    at = datetime(2026, 11, 28, 1, 0, tzinfo=timezone.utc)  # 08:00 WIB
    for i, total in enumerate((90.0, 91.0)):
        with mail_runtime.session() as session, session.begin():
            handle_event(session, score_event(ASN, total=total), now=at + timedelta(hours=i))
    with mail_runtime.session() as session, session.begin():  # 16:30 WIB, after the digest hour
        handle_event(session, score_event(ASN, total=92.0), now=datetime(2026, 11, 28, 9, 30, tzinfo=timezone.utc))
    mailer = mail_runtime.mailer()
    mailer.clock = lambda: datetime(2026, 11, 28, 9, 45, tzinfo=timezone.utc)  # 16:45 WIB
    assert mailer.queue_digests() == 1
    assert mailer.queue_digests() == 0  # once a day
    assert mailer.send_due() == 1
    [(to, msg)] = smtp.messages
    assert to == ["budi@lampungselatankab.go.id"]
    assert msg["Subject"] == "[Kinerja] Ringkasan harian 28 November 2026"
    text = msg.get_content()
    assert "(2 notifikasi)" in text
    assert "- 28/11 08:00 Skor kinerja tim November 2026: Skor kinerja Siti Aminah berubah: 90 (Baik)." in text
    assert "- 28/11 09:00" in text and "92" not in text  # 16:30's goes into tomorrow's digest
    mailer.clock = lambda: datetime(2026, 11, 29, 9, 0, tzinfo=timezone.utc)
    assert mailer.queue_digests() == 1 and mailer.send_due() == 1
    assert "(1 notifikasi)" in smtp.messages[1][1].get_content()


def test_smtp_away_is_retried_later(server, writer, mail_runtime):
    prefer(server, ASN, "immediate")
    writer.roster()
    writer.apply(score_event(ASN))
    mailer = mail_runtime.mailer()  # nothing listens on the port yet
    assert mailer.send_due() == 0
    with mail_runtime.session() as session:
        [msg] = session.execute(select(EmailMessage)).scalars().all()
    assert (msg.status, msg.attempts) == ("pending", 1) and "Error" in msg.last_error
    assert mailer.send_due() == 0  # not due again before its backoff
    inbox = Inbox()
    controller = aiosmtpd_controller.Controller(inbox, hostname="127.0.0.1", port=mailer.config.port)
    controller.start()
    try:
        later = datetime.now(timezone.utc) + timedelta(minutes=5)
        mailer.clock = lambda: later
        assert mailer.send_due() == 1
        assert len(inbox.messages) == 1
    finally:
        controller.stop()
