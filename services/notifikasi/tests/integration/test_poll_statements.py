"""What one poll of score updates costs notifikasi's consumer at the driver, and that the cheaper
path still writes everything once: the statements (an executemany counts once per parameter set,
as the server runs each) and round trips (those plus BEGIN and COMMIT) of a poll are the same for
1 event and for 100; redelivered events, through the real broker or after their ids' records were
trimmed, add no inbox row, e-mail or webhook delivery twice. On SQLite and PostgreSQL."""
import threading
from datetime import datetime, timezone

import pytest
from sqlalchemy import delete, event as sa_event, func, select

from kinerja.config import load_settings
from kinerja.messaging.producer import make_producer
from kinerja.messaging.topics import PENILAIAN, topic
from kinerja.testing import consumer_record, wait_until
from notifikasi.adapters.orm import EmailMessage, Notification, WebhookDelivery
from notifikasi.entrypoints.consumer import make_consumer
from notifikasi.entrypoints.migrate import main as migrate
from notifikasi.entrypoints.runtime import make_runtime
from notifikasi.service_layer.email_preferences import set_preference
from notifikasi.service_layer.notifications import handle_batch
from notifikasi.service_layer.webhooks import register_webhook
from kinerja_testkit.notifikasi import AGENCY, ASN, ATASAN, roster_event, score_event

pytestmark = pytest.mark.integration
NOW = datetime(2026, 11, 28, 3, 0, tzinfo=timezone.utc)
NIPS = [f"1990020220200220{i:02d}" for i in range(10)]


class DriverCalls:
    """Statements the database runs (an executemany: one per parameter set) and round trips
    (those, and each BEGIN and COMMIT)."""

    def __init__(self, engine) -> None:
        self.statements = self.transactions = 0
        self.texts: list[str] = []
        sa_event.listen(engine, "do_execute", self._one)
        sa_event.listen(engine, "do_executemany", self._many)
        sa_event.listen(engine, "commit", self._commit)

    def _one(self, cursor, statement, parameters, context) -> None:
        self.statements += 1
        self.texts.append(statement)

    def _many(self, cursor, statement, parameters, context) -> None:
        self.statements += len(parameters)
        self.texts.append(statement)

    def _commit(self, conn) -> None:
        self.transactions += 1

    @property
    def round_trips(self) -> int:
        return self.statements + 2 * self.transactions  # BEGIN and COMMIT

    def reset(self) -> None:
        self.statements = self.transactions = 0
        self.texts = []


def prepared(url: str, **extra):
    """A migrated database with a roster (each ASN with a supervisor, who has an e-mail address), two webhooks of the agency,
    immediate mail for the supervisor (the roster's address) and for the ASN (their own)."""
    migrate(url)
    runtime = make_runtime(load_settings("notifikasi", {"database_url": url, **extra}))
    with runtime.session() as s, s.begin():
        handle_batch(s, roster(), now=NOW)
    with runtime.session() as s, s.begin():
        register_webhook(s, agency=AGENCY, url="http://127.0.0.1:9/all", secret="s1", box=runtime.secret_box, now=NOW)
        register_webhook(s, agency=AGENCY, url="http://127.0.0.1:9/scores", secret="s2", box=runtime.secret_box,
                         event_types=["penilaian.score.updated.v1"], now=NOW)
        set_preference(s, nip=ATASAN, agency=AGENCY, email=None, mode="immediate", now=NOW)
        set_preference(s, nip=ASN, agency=AGENCY, email="siti@example.go.id", mode="immediate", now=NOW)
    return runtime


def roster():
    boss = roster_event(ATASAN, "Ir. Budi Santoso")
    boss.data["email"] = "budi@example.go.id"
    return [boss, roster_event(ASN, "Siti Aminah", atasan_nip=ATASAN)] + [
        roster_event(nip, f"Pegawai {i}", atasan_nip=ATASAN) for i, nip in enumerate(NIPS)]


def scores(n: int, tag: float):
    nips = [ASN] + NIPS
    return [score_event(nips[i % len(nips)], total=tag + i / 1000) for i in range(n)]


def counts(runtime) -> tuple[int, int, int]:
    with runtime.session() as s:
        return tuple(s.execute(select(func.count()).select_from(t)).scalar_one()
                     for t in (Notification.__table__, EmailMessage.__table__, WebhookDelivery.__table__))


def test_a_poll_costs_the_same_statements_for_1_event_and_for_100(database_url):
    runtime = prepared(database_url)
    consumer = make_consumer(runtime, batch_size=200)
    stop = threading.Event()
    offset = iter(range(10**6))
    calls = DriverCalls(runtime.engine)
    texts: list[list[str]] = []

    def poll(events) -> tuple[int, int]:
        before = counts(runtime)
        calls.reset()
        assert consumer.process_batch([consumer_record(e, next(offset), "t.penilaian.v1") for e in events], stop)
        cost = calls.statements, calls.round_trips, calls.transactions
        texts.append(list(calls.texts))
        after = counts(runtime)
        # every branch ran: 2 inbox rows an event, an e-mail to the supervisor for each and to Siti
        # for hers, 2 deliveries
        mails = len(events) + sum(e.subject == ASN for e in events)
        assert [a - b for a, b in zip(after, before)] == [2 * len(events), mails, 2 * len(events)]
        return cost

    one, hundred = poll(scores(1, 50.0)), poll(scores(100, 60.0))
    # the ids checked and recorded, the roster, the inbox rows (ids returned), e-mail preferences
    # with webhooks, the e-mails, the deliveries: the same six for any number of events
    assert one == hundred, (one, hundred)
    assert one[0] == 6 and one[2] == 1, one  # (statements, round trips, transactions)
    # the inserts take their rows as one parameter (``kinerja.fixed_inserts``), and on PostgreSQL
    # the roster and audience reads their lists as one array: every statement has the same text
    # for 1 event and for 100, parsed once by the driver and the server
    assert texts[0] == texts[1], texts
    if runtime.engine.dialect.name == "postgresql":
        assert sum(t.lstrip().upper().startswith("SELECT") for t in texts[0]) == 2, texts[0]
    assert consumer.stats.fallbacks == 0
    runtime.dispose()


def test_redelivered_events_create_nothing_twice_even_when_their_records_are_gone(database_url):
    runtime = prepared(database_url)
    consumer = make_consumer(runtime, batch_size=200)
    stop = threading.Event()
    events = scores(30, 70.0)
    assert consumer.process_batch([consumer_record(e, i, "t.penilaian.v1") for i, e in enumerate(events)], stop)
    first = counts(runtime)
    assert first == (60, 33, 60)  # mail: the supervisor 30, Siti 3
    # the same poll again (a redelivery after a crash before the offsets' commit)
    assert consumer.process_batch([consumer_record(e, i, "t.penilaian.v1") for i, e in enumerate(events)], stop)
    assert counts(runtime) == first
    assert consumer.stats.duplicates == len(events)
    # and once more after the processed records were trimmed: the rows' own keys keep them once
    with runtime.session() as s, s.begin():
        s.execute(delete(runtime.processed_table))
    assert consumer.process_batch([consumer_record(e, i, "t.penilaian.v1") for i, e in enumerate(events)], stop)
    assert counts(runtime) == first
    # a poll mixing new events with old ones adds only the new events' rows
    fresh = scores(3, 80.0)
    batch = events[-5:] + fresh + events[-5:]
    assert consumer.process_batch([consumer_record(e, 100 + i, "t.penilaian.v1") for i, e in enumerate(batch)], stop)
    assert counts(runtime) == (66, 33 + 3 + 1, 66)  # Siti's one among the 3 new
    with runtime.session() as s:
        pairs = s.execute(select(Notification.event_id, Notification.recipient_nip).order_by(Notification.id)).all()
    assert len(set(pairs)) == len(pairs)
    runtime.dispose()


def test_events_published_twice_reach_the_inbox_once_through_the_broker(database_url, kafka_bootstrap, topic_prefix):
    runtime = prepared(database_url, kafka_bootstrap=kafka_bootstrap, topic_prefix=topic_prefix)
    consumer = make_consumer(runtime)
    stop = threading.Event()
    thread = threading.Thread(target=consumer.run, args=(stop,), name="notifikasi-consumer", daemon=True)
    producer = make_producer(kafka_bootstrap, client_id="notifikasi-redelivery-test")
    try:
        events = scores(20, 90.0)
        for ev in events + events:  # each published twice (a producer retry, a relay resend)
            producer.send(topic(PENILAIAN, topic_prefix), key=ev.key, value=ev.to_bytes()).get(timeout=30)
        thread.start()
        wait_until(lambda: consumer.stats.applied == 20 and consumer.stats.duplicates == 20, 90,
                   message="the consumer to take in every event")
        assert counts(runtime) == (40, 20 + 2, 40)
        with runtime.session() as s:
            rows = s.execute(select(Notification.id, Notification.event_id)).all()
        assert {e for _, e in rows} == {e.id for e in events}
    finally:
        stop.set()
        thread.join(30)
        producer.close()
        runtime.dispose()
