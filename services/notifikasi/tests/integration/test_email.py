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
from notifikasi.service_layer.email_preferences import set_preference
from notifikasi.service_layer.notifications import handle_event
from kinerja_testkit.notifikasi import ASN, ATASAN, score_event, token

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
        "smtp_sender": "Kinerja Lampung Selatan <kinerja@lampungselatankab.go.id>", "mail_batch_s": 0}))
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


# -- the roster's addresses ---------------------------------------------------------------------
ROSTER_ASN = "siti.aminah@disdik.lampungselatankab.go.id"
ROSTER_BOSS = "budi.santoso@disdik.lampungselatankab.go.id"


def roster_with_addresses(writer, now):
    from kinerja_testkit.notifikasi import roster_event as plain

    for nip, nama, atasan, address in ((ATASAN, "Ir. Budi Santoso", None, ROSTER_BOSS),
                                       (ASN, "Siti Aminah", ATASAN, ROSTER_ASN)):
        event = plain(nip, nama, atasan_nip=atasan)
        event.data["email"] = address
        with writer.runtime.session() as session, session.begin():
            handle_event(session, event, now=now)


def get_preference(server, nip, role="pegawai"):
    return requests.get(server.url + "/api/v1/notifications/email",
                        headers={"Authorization": "Bearer " + token(nip, role=role)}, timeout=10)


def test_the_roster_address_gets_the_digest_until_a_preference_says_otherwise(server, writer, smtp, mail_runtime):
    day = datetime(2026, 11, 28, 1, 0, tzinfo=timezone.utc)  # 08:00 WIB
    roster_with_addresses(writer, now=day - timedelta(days=1))
    assert get_preference(server, ASN).json() == {"email": ROSTER_ASN, "mode": "digest", "digest_hour": 16,
                                                  "source": "roster"}
    with mail_runtime.session() as session, session.begin():
        handle_event(session, score_event(ASN, total=90.0), now=day)
    mailer = mail_runtime.mailer()
    mailer.clock = lambda: day + timedelta(hours=8, minutes=30)  # 16:30 WIB
    assert mailer.queue_digests() == 2 and mailer.queue_digests() == 0  # the ASN and their supervisor, once
    assert mailer.send_due() == 2
    sent = {tuple(to): msg for to, msg in smtp.messages}
    assert set(sent) == {(ROSTER_ASN,), (ROSTER_BOSS,)}
    assert "Skor kinerja Anda berubah: 90 (Baik)" in sent[(ROSTER_ASN,)].get_content()
    assert "Skor kinerja Siti Aminah berubah: 90 (Baik)" in sent[(ROSTER_BOSS,)].get_content()

    # preferences override: the ASN wants them at once to the roster's address, the supervisor none
    r = requests.put(server.url + "/api/v1/notifications/email", headers={"Authorization": "Bearer " + token(ASN)},
                     json={"mode": "immediate"}, timeout=10)
    assert r.status_code == 200 and r.json() == {"email": ROSTER_ASN, "mode": "immediate", "digest_hour": 16,
                                                 "source": "preference"}
    prefer(server, ATASAN, "off", role="atasan")
    next_day = day + timedelta(days=1)
    with mail_runtime.session() as session, session.begin():
        handle_event(session, score_event(ASN, total=91.0), now=next_day)
    mailer.clock = lambda: next_day + timedelta(hours=8, minutes=30)
    assert mailer.queue_digests() == 0  # nobody is on the roster's digest any more
    assert mailer.send_due() == 1
    to, msg = smtp.messages[-1]
    assert to == [ROSTER_ASN] and msg["Subject"] == "[Kinerja] Skor kinerja November 2026"
    # and another address of one's own wins over the roster's
    prefer(server, ASN, "immediate")
    with mail_runtime.session() as session, session.begin():
        handle_event(session, score_event(ASN, total=92.0), now=next_day + timedelta(hours=1))
    assert mailer.send_due() == 1 and smtp.messages[-1][0] == [f"{ASN}@lampungselatankab.go.id"]


def test_a_preference_without_an_address_needs_one_from_the_roster(server, writer):
    writer.roster()  # no addresses on this roster
    assert get_preference(server, ASN).status_code == 404
    put = lambda body: requests.put(server.url + "/api/v1/notifications/email",  # noqa: E731
                                    headers={"Authorization": "Bearer " + token(ASN)}, json=body, timeout=10)
    r = put({"mode": "digest"})
    assert r.status_code == 400 and "daftar pegawai" in r.json()["message"]
    assert get_preference(server, ASN).status_code == 404  # nothing stored
    assert put({"mode": "off"}).status_code == 200  # off needs no address
    assert put({"mode": "digest", "email": "bukan alamat"}).status_code == 422


@pytest.mark.slow
def test_a_roster_address_through_the_broker_gets_the_digest(migrated, smtp, smtp_port, kafka_bootstrap,
                                                             topic_prefix):
    """The roster CSV's email column → pegawai.v1 → notifikasi's consumer; a score update on
    penilaian.v1 → the inbox; at the digest hour the mailer sends the digest to the roster's address."""
    import threading

    from kinerja.cli.roster import parse_roster, publish
    from kinerja.messaging.producer import make_producer
    from kinerja.messaging.topics import PENILAIAN, topic
    from kinerja.testing import wait_until
    from notifikasi.entrypoints.consumer import make_consumer

    runtime = make_runtime(load_settings("notifikasi", {
        "database_url": migrated, "kafka_bootstrap": kafka_bootstrap, "topic_prefix": topic_prefix,
        "smtp_host": "127.0.0.1", "smtp_port": smtp_port, "digest_hour": 7}))
    consumer = make_consumer(runtime, batch_size=50)
    stop = threading.Event()
    thread = threading.Thread(target=consumer.run, args=(stop,), daemon=True)
    thread.start()
    csv = ("nip,nama,agency,unit,jabatan,atasan_nip,pin,email\n"
           f"{ATASAN},Ir. Budi Santoso,lamsel,Sekretariat,Kepala,,1,{ROSTER_BOSS}\n"
           f"{ASN},Siti Aminah,lamsel,Sekretariat,Analis,{ATASAN},2,{ROSTER_ASN}\n")
    parsed = parse_roster(csv)
    assert parsed.errors == []
    producer = make_producer(kafka_bootstrap, client_id="notifikasi-test")
    try:
        publish(parsed.events, kafka_bootstrap, topic_prefix)
        wait_until(lambda: consumer.stats.by_type.get("pegawai.employee.upserted.v1") == 2, 60, message="roster")
        score = score_event(ASN, total=88.0)
        producer.send(topic(PENILAIAN, topic_prefix), key=score.key, value=score.to_bytes()).get(timeout=30)
        wait_until(lambda: consumer.stats.by_type.get("penilaian.score.updated.v1") == 1, 60, message="score")
    finally:
        stop.set()
        thread.join(30)
        producer.close(timeout=5)
    mailer = runtime.mailer()
    # the next 07:00 WIB after now has passed (the roster's digest hour here is 7)
    mailer.clock = lambda: datetime.now(timezone.utc) + timedelta(days=1)
    try:
        assert mailer.queue_digests() == 2 and mailer.send_due() == 2
    finally:
        runtime.dispose()
    assert sorted(to[0] for to, _ in smtp.messages) == sorted([ROSTER_ASN, ROSTER_BOSS])
    assert all(msg["Subject"].startswith("[Kinerja] Ringkasan harian") for _, msg in smtp.messages)
