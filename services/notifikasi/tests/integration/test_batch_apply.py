"""``handle_batch`` (one transaction per poll) against ``handle_event`` one by one, on SQLite and
PostgreSQL: the same roster, inbox rows in the same order, e-mails and webhook deliveries; a
roster event in a batch is seen by the events after it; the consumer's batched path records the
ids, drops duplicates, dead-letters what it cannot decode and falls back to one by one."""
import json
import threading
from datetime import date, datetime, timezone

import pytest
from sqlalchemy import event as sa_event, func, select

from kinerja.config import load_settings
from kinerja.events import make_event
from kinerja.events.kehadiran import DISCIPLINE_ALERT, PUNCH_RECORDED
from kinerja.events.tugas import FEEDBACK_POSTED, TASK_SUBMITTED
from kinerja.testing import RecordingProducer, consumer_record
from notifikasi.adapters.orm import EmailMessage, Employee, Notification, WebhookDelivery
from notifikasi.entrypoints import consumer as consumer_mod
from notifikasi.entrypoints.consumer import make_consumer
from notifikasi.entrypoints.migrate import main as migrate
from notifikasi.entrypoints.runtime import make_runtime
from notifikasi.service_layer.email_preferences import set_preference
from notifikasi.service_layer.notifications import handle_batch, handle_event
from notifikasi.service_layer.webhooks import register_webhook
from kinerja_testkit.notifikasi import AGENCY, ASN, ATASAN, OTHER, roster_event, score_event

pytestmark = pytest.mark.integration
NOW = datetime(2026, 11, 28, 3, 0, tzinfo=timezone.utc)


def events():
    """Roster changes between score updates, a duplicate, feedback, kehadiran's punch (ignored),
    an event for another agency, a task for the supervisor."""
    at = datetime(2026, 11, 27, 2, 0, tzinfo=timezone.utc)
    first = score_event(ASN, total=97.5)
    return [
        score_event(ASN, total=99.0),  # before the roster: no atasan known yet
        roster_event(ATASAN, "Ir. Budi Santoso"),
        roster_event(ASN, "Siti Aminah", atasan_nip=ATASAN),
        first,
        first,  # the same event again (handled as the handler would: nothing twice)
        roster_event(ASN, "Siti Aminah, S.E.", atasan_nip=ATASAN),  # renamed: the next rows say so
        score_event(ASN, total=96.0),
        roster_event(OTHER, "Rahmat Hidayat", atasan_nip=ATASAN),
        make_event(TASK_SUBMITTED, subject=OTHER, agency=AGENCY, source="test", data={
            "task_id": "t-1", "nip": OTHER, "title": "Laporan", "status": "submitted", "due_date": date(2026, 12, 1),
            "target_quantity": "1", "submitted_at": at}),
        make_event(FEEDBACK_POSTED, subject=OTHER, agency=AGENCY, source="test", data={
            "message_id": "m-1", "thread_id": "th-1", "nip": OTHER, "author_nip": ATASAN, "recipient_nip": OTHER,
            "text": "Bagus"}),
        make_event(PUNCH_RECORDED, subject=ASN, agency=AGENCY, source="test",
                   data={"punch_id": "p1", "nip": ASN, "device_sn": "SN1", "time": at}),
        make_event(DISCIPLINE_ALERT, subject=ASN, agency=AGENCY, source="test", data={
            "nip": ASN, "year": 2026, "kind": "cumulative", "days": 3, "threshold": 3, "date": date(2026, 11, 27)}),
        score_event(OTHER, total=88.0, agency="lainnya"),
    ]


def fresh_runtime(url):
    migrate(url)
    runtime = make_runtime(load_settings("notifikasi", {"database_url": url}))
    with runtime.session() as s, s.begin():
        box = runtime.secret_box
        register_webhook(s, agency=AGENCY, url="http://127.0.0.1:9/all", secret="s1", box=box, now=NOW)
        register_webhook(s, agency=AGENCY, url="http://127.0.0.1:9/scores", secret="s2", box=box,
                         event_types=["penilaian.score.updated.v1"], now=NOW)
        register_webhook(s, agency="lainnya", url="http://127.0.0.1:9/other", secret="s3", box=box, now=NOW)
        set_preference(s, nip=ASN, agency=AGENCY, email="siti@example.go.id", mode="immediate", now=NOW)
        set_preference(s, nip=ATASAN, agency=AGENCY, email="budi@example.go.id", mode="digest", now=NOW)
    return runtime


def written(runtime):
    with runtime.session() as s:
        rows = s.execute(select(Notification).order_by(Notification.id)).scalars().all()
        index = {r.id: i for i, r in enumerate(rows)}
        inbox = [(r.recipient_nip, r.agency, r.audience, r.kind, r.title, r.body, r.subject_nip, r.event_id,
                  r.event_type, json.dumps(r.payload, sort_keys=True), r.read_at) for r in rows]
        mails = [(m.recipient_nip, m.to_address, m.subject, m.body, m.kind, index[m.notification_id], m.status)
                 for m in s.execute(select(EmailMessage).order_by(EmailMessage.id)).scalars()]
        deliveries = [(d.webhook_id, d.event_id, d.event_type, d.body, d.status)
                      for d in s.execute(select(WebhookDelivery).order_by(WebhookDelivery.id)).scalars()]
        roster = [(e.nip, e.nama, e.atasan_nip) for e in s.execute(select(Employee).order_by(Employee.nip)).scalars()]
    return inbox, mails, deliveries, roster


@pytest.fixture
def second_url(database_url, tmp_path, request):
    if database_url.startswith("sqlite"):
        return f"sqlite:///{tmp_path / 'second.db'}"
    from kinerja.testing import create_postgres_database

    return create_postgres_database(request.getfixturevalue("postgres_server"))


def test_a_batch_writes_what_one_by_one_writes(database_url, second_url):
    evs = events()
    one, batch = fresh_runtime(database_url), fresh_runtime(second_url)
    try:
        for ev in evs:
            with one.session() as s, s.begin():
                handle_event(s, ev, now=NOW)
        with batch.session() as s, s.begin():
            added = handle_batch(s, evs, now=NOW)
        inbox, mails, deliveries, roster = written(batch)
        assert (inbox, mails, deliveries, roster) == written(one)
        assert len(added) == len(inbox) == 11
        # the roster of the batch was seen by the events after it, and the rename too
        bodies = [r[5] for r in inbox if r[0] == ATASAN and r[3] == "score.updated"]
        assert bodies[0].startswith("Skor kinerja Siti Aminah berubah: 97.5")
        assert bodies[1].startswith("Skor kinerja Siti Aminah, S.E. berubah: 96")
        assert [m[0] for m in mails] == [ASN] * 4  # immediate for the ASN; the atasan wants a digest
        assert {d[0] for d in deliveries} == {1, 2, 3}
        # and again (the handler called twice; the consumer's record prevents it): nothing twice,
        # only the first event's supervisor, whom the roster now names, is told
        for ev in evs:
            with one.session() as s, s.begin():
                handle_event(s, ev, now=NOW)
        with batch.session() as s, s.begin():
            assert [(r.recipient_nip, r.event_id) for r in handle_batch(s, evs, now=NOW)] == [(ATASAN, evs[0].id)]
        assert written(batch) == written(one)
    finally:
        one.dispose()
        batch.dispose()


def test_a_batch_costs_a_few_statements_whatever_its_size(sqlite_url):
    runtime = fresh_runtime(sqlite_url)
    with runtime.session() as s, s.begin():
        handle_batch(s, [roster_event(ATASAN, "Ir. Budi Santoso"), roster_event(ASN, "Siti", atasan_nip=ATASAN)])
    statements = []
    sa_event.listen(runtime.engine, "before_cursor_execute", lambda *a, **k: statements.append(a[2]))

    def cost(n: int) -> int:
        statements.clear()
        with runtime.session() as s, s.begin():
            assert len(handle_batch(s, [score_event(ASN, total=float(t)) for t in range(n)], now=NOW)) == 2 * n
        return len(statements)

    # employees, the inbox rows' INSERT (skipping those there, returning the ids), e-mail
    # preferences with webhooks, the e-mails' INSERT, the deliveries' INSERT (BEGIN IMMEDIATE
    # goes to the driver from kinerja.sqlite_locking, not through SQLAlchemy's cursor)
    assert cost(2) == cost(200) == 5, statements
    runtime.dispose()




def msg(event_or_raw, offset, topic="t.penilaian.v1"):
    return consumer_record(event_or_raw, offset, topic)


def test_the_batched_consumer_records_skips_dead_letters_and_falls_back(database_url, monkeypatch):
    runtime = fresh_runtime(database_url)
    consumer = make_consumer(runtime, batch_size=100)
    dlq = RecordingProducer()
    consumer.producer_factory = lambda: dlq
    stop = threading.Event()
    at = datetime(2026, 11, 27, 2, 0, tzinfo=timezone.utc)
    punch = make_event(PUNCH_RECORDED, subject=ASN, agency=AGENCY, source="test",
                       data={"punch_id": "p1", "nip": ASN, "device_sn": "SN1", "time": at})
    good = [roster_event(ATASAN, "Ir. Budi Santoso"), roster_event(ASN, "Siti", atasan_nip=ATASAN), score_event(ASN)]
    batch = [msg(e, i) for i, e in enumerate(good)] + [msg(good[2], 3), msg(punch, 4), msg(b"not json", 5)]
    assert consumer.process_batch(batch, stop)
    s = consumer.stats
    assert (s.applied, s.duplicates, s.skipped, s.dead_lettered, s.batches, s.fallbacks) == (3, 1, 1, 1, 1, 0)
    with runtime.session() as session:
        assert session.execute(select(func.count()).select_from(Notification)).scalar_one() == 2
        recorded = set(session.execute(select(runtime.processed_table.c.event_id)).scalars())
    assert recorded == {e.id for e in good}  # the punch is not recorded
    assert [t for t, _, _ in dlq.sent] == ["t.penilaian.v1.dlq"]

    # a batch whose handler breaks on one event: one by one, the good ones applied, the bad one to the DLQ
    poison, fine = score_event(ASN, total=50.0), score_event(ASN, total=60.0)
    real = consumer_mod.handle_event

    def breaks(session, event, **kw):
        if event.id == poison.id:
            raise RuntimeError("poison")
        return real(session, event, **kw)

    monkeypatch.setattr(consumer_mod, "handle_batch", lambda session, evs, **kw: [breaks(session, e) for e in evs])
    monkeypatch.setattr(consumer_mod, "handle_event", breaks)
    assert consumer.process_batch([msg(fine, 10), msg(poison, 11)], stop)
    assert (s.applied, s.fallbacks, s.dead_lettered) == (4, 1, 2)
    assert b"handler error" in dlq.sent[-1][2]["error"]
    with runtime.session() as session:
        assert session.execute(select(func.count()).select_from(Notification)
                               .where(Notification.event_id == fine.id)).scalar_one() == 2
        assert session.execute(select(func.count()).select_from(Notification)
                               .where(Notification.event_id == poison.id)).scalar_one() == 0
    runtime.dispose()


def test_punches_are_passed_over_from_their_bytes_without_the_schema(database_url):
    """notifikasi keeps nothing of punches and day summaries, most of kehadiran.v1: it never
    decodes them (no marshmallow), it reads their type from the bytes."""
    runtime = fresh_runtime(database_url)
    consumer = make_consumer(runtime, batch_size=100)
    decoded: list[bytes] = []
    real = consumer.decode
    consumer.decode = lambda raw: decoded.append(raw) or real(raw)
    at = datetime(2026, 11, 27, 2, 0, tzinfo=timezone.utc)
    punches = [make_event(PUNCH_RECORDED, subject=ASN, agency=AGENCY, source="test",
                          data={"punch_id": f"p{i}", "nip": ASN, "device_sn": "SN1", "time": at}) for i in range(5)]
    good = [roster_event(ASN, "Siti"), score_event(ASN)]
    batch = [msg(e, i, "t.kehadiran.v1") for i, e in enumerate(punches)] + [msg(e, 5 + i) for i, e in enumerate(good)]
    assert consumer.process_batch(batch, threading.Event())
    assert consumer.stats.skipped == 5 and consumer.stats.applied == 2
    assert decoded == [e.to_bytes() for e in good], "only the wanted events went through the schema"
    runtime.dispose()


def test_score_updates_are_decoded_without_the_schema_which_still_judges_the_rest(database_url, monkeypatch):
    """The consumer's decoder (``trusted_decode``) vouches for well-formed score updates and roster
    events by hand; a broken score update goes to the schemas, and to the DLQ with the schema's
    reason, and the rows are those the schema's events give."""
    from kinerja.events import trusted

    runtime = fresh_runtime(database_url)
    consumer = make_consumer(runtime, batch_size=100)
    dlq = RecordingProducer()
    consumer.producer_factory = lambda: dlq
    by_schema: list[str] = []
    real = trusted.decode_object
    monkeypatch.setattr(trusted, "decode_object", lambda obj: by_schema.append(obj["type"]) or real(obj))
    roster = [roster_event(ATASAN, "Ir. Budi Santoso"), roster_event(ASN, "Siti", atasan_nip=ATASAN)]
    scores = [score_event(ASN, total=90.0 + i) for i in range(3)]
    broken = json.loads(score_event(ASN).to_bytes())
    broken["data"]["predikat"] = "Istimewa"
    batch = [msg(e, i) for i, e in enumerate(roster + scores)] + [msg(json.dumps(broken).encode(), 5)]
    assert consumer.process_batch(batch, threading.Event())
    assert by_schema == [scores[0].type]  # the broken one only
    assert (consumer.stats.applied, consumer.stats.dead_lettered) == (5, 1)
    assert b"predikat" in dlq.sent[0][2]["error"]
    with runtime.session() as session:
        rows = session.execute(select(Notification.event_id, Notification.recipient_nip, Notification.body,
                                      Notification.payload).order_by(Notification.id)).all()
    assert [(r.event_id, r.recipient_nip) for r in rows] == [(e.id, nip) for e in scores for nip in (ASN, ATASAN)]
    assert [r.payload for r in rows[::2]] == [json.loads(e.to_bytes())["data"] | {"also": [], "part_of": None,
                                                                                   "total_partial": None}
                                              for e in scores]
    assert "91" in rows[2].body
    runtime.dispose()
