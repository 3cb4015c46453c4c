"""The mailer's and the webhook dispatcher's claims, and the inbox tailer's read, at 20,000 rows
on PostgreSQL, with the statistics a queue really has: (a) never analysed, and (b) vacuumed and
analysed while empty, each run a dozen times on its connection then (idle polls: more than
psycopg's 5 runs before it prepares, and the server's 5 custom plans before it keeps a generic
one), and only then the rows.
Every statement of a claim is read back as it ran (``auto_explain``) and held to counts: rows
examined at most a few times the queue's (one pass, or an index probe per row), never the queue
rescanned per row (the mailer's claim joins the queue to itself), never a list parameter looked
through per row."""
from __future__ import annotations

import base64
from datetime import datetime, timezone

import pytest
from sqlalchemy import text

from kinerja.db import make_engine, make_session_factory, read_only_session
from kinerja.testing.plans import PlanLog, faults
from kinerja.testing.postgres_fixtures import create_postgres_database
from notifikasi.adapters import inbox
from notifikasi.adapters.secret_box import SecretBox
from notifikasi.entrypoints.migrate import main as migrate
from notifikasi.service_layer.mailer import Mailer
from notifikasi.service_layer.webhooks import WebhookDispatcher

pytestmark = pytest.mark.integration
N = 20_000
NOW = datetime(2026, 11, 28, 3, 0, tzinfo=timezone.utc)
SLACK = 5  # rows per queued row a statement may examine, summed over its nodes (scan, sort, join: a few each)
QUEUES = ("emails", "webhook_deliveries", "webhooks", "notifications")
TAIL = 100  # rows the tailer has not seen yet


@pytest.fixture(scope="module", params=["never analysed", "planned while empty"])
def queues(request, postgres_server):
    url = create_postgres_database(postgres_server)
    migrate(url)
    engine = make_engine(url, pool_size=1)  # one connection: the claims run again where they were planned
    factory = make_session_factory(engine)
    mailer = Mailer(factory, lambda: None, tz="Asia/Jakarta", clock=lambda: NOW)
    dispatcher = WebhookDispatcher(factory, box=SecretBox([base64.urlsafe_b64encode(bytes(32))]), clock=lambda: NOW)
    with engine.begin() as conn:
        for table in QUEUES:  # autovacuum must not take the statistics in question
            conn.execute(text(f"ALTER TABLE {table} SET (autovacuum_enabled = off)"))
    if request.param == "planned while empty":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            for table in QUEUES:
                conn.execute(text(f"VACUUM ANALYZE {table}"))
        for _ in range(12):
            assert mailer._claim(NOW) == [] and dispatcher.claim() == [] and tail(factory, 0) == []
    with engine.begin() as conn:
        # one active webhook with N deliveries due; N immediate e-mails to 2,000 people, due and ripe
        conn.execute(text("INSERT INTO webhooks (agency, url, secret, event_types, active, created_at, "
                          "consecutive_failures) VALUES ('plans', 'http://127.0.0.1:9/', 'x', '[]', true, :t, 0)"),
                     {"t": NOW})
        conn.execute(text(
            "INSERT INTO webhook_deliveries (webhook_id, event_id, event_type, body, status, attempts, "
            "next_attempt_at, created_at) SELECT (SELECT id FROM webhooks), 'e' || i, 't', '{}', 'pending', 0, "
            ":t - i * interval '1 second', :t FROM generate_series(1, :n) AS i"), {"t": NOW, "n": N})
        conn.execute(text(
            "INSERT INTO emails (recipient_nip, agency, to_address, subject, body, kind, status, attempts, "
            "next_attempt_at, created_at) SELECT '19900101' || lpad((i % 2000)::text, 10, '0'), 'plans', "
            "'a@example.org', 's', 'b', 'immediate', 'pending', 0, :t - interval '1 hour', :t - interval '1 hour' "
            "FROM generate_series(1, :n) AS i"), {"t": NOW, "n": N})
        conn.execute(text(
            "INSERT INTO notifications (recipient_nip, agency, audience, kind, title, body, subject_nip, event_id, "
            "event_type, payload, created_at) SELECT '19900101' || lpad((i % 2000)::text, 10, '0'), 'plans', 'asn', "
            "'k', 't', 'b', 's', 'n' || i, 't', '{}', :t FROM generate_series(1, :n) AS i"), {"t": NOW, "n": N})
    log = PlanLog()
    raw = engine.raw_connection()  # the pool's one connection: the one the polls above ran on
    try:
        log.attach(raw.driver_connection)
    finally:
        raw.close()
    yield mailer, dispatcher, log, factory
    engine.dispose()


def tail(factory, after_id: int) -> list:
    with read_only_session(factory) as session:
        return list(inbox.rows_after(session, after_id, 500))


def claim_faults(log: PlanLog, claim, batch_size: int, claim_text: str) -> dict:
    """``claim()`` run once, which must claim a full batch (it returns the rows it claimed); the
    faults of the plans of its statements, by their text (one of them the ``SKIP LOCKED`` claim
    ``FROM`` its queue, ``claim_text``)."""
    first = len(log.plans)
    assert claim() == batch_size
    plans = log.plans[first:]
    assert any(claim_text in p["Query Text"] and "SKIP LOCKED" in p["Query Text"] for p in plans), \
        [p["Query Text"][:200] for p in plans]
    return {p["Query Text"][:300]: f for p in plans if (f := faults(p, SLACK * N))}


def test_the_mailer_claim_reads_its_queue_once(queues):
    mailer, _, log, _ = queues
    found = claim_faults(log, lambda: sum(len(ids) for ids, *_ in mailer._claim(NOW)), mailer.batch_size,
                         "FROM emails")
    assert not found, found


def test_the_webhook_claim_reads_its_queue_once(queues):
    _, dispatcher, log, _ = queues
    found = claim_faults(log, lambda: len(dispatcher.claim()), dispatcher.batch_size, "FROM webhook_deliveries")
    assert not found, found


def test_the_inbox_tailer_reads_only_what_it_has_not_seen(queues):
    _, _, log, factory = queues
    first = len(log.plans)
    assert len(tail(factory, N - TAIL)) == TAIL
    plans = log.since(first, "FROM notifications")
    assert len(plans) == 1
    found = faults(plans[0], SLACK * TAIL)
    assert not found, found
