"""notifikasi's consumer poll on PostgreSQL with a roster of 20,000 ASN (and their immediate-mail
preferences, 20,000 inbox rows, processed ids): a poll of score updates for 200 ASN over the roster
(the roster read, the audience read, the inbox, e-mail and webhook writes, the ids' claim), every
statement read back as it ran (``auto_explain``) and held to counts: rows examined in proportion
to the poll, no list parameter looked through per row, no table rescanned per row. The statistics
(autovacuum off, so they stay so): (a) taken while the roster held one ASN (``VACUUM ANALYZE``),
the consumer's statements then run a dozen times on its connection (more than psycopg's 5 runs
before it prepares one, and the server's 5 custom plans before it keeps a generic one), and
only then the roster written; (b) taken during a burst, with the first 1,000 ASN stored. Each as
the statements plan by themselves and with every one prepared and planned generic. Then the
stream tailer's read of the inbox rows it has not seen. ``test_queue_plans`` holds the mailer's and
webhooks' claims and the tailer's read under statistics never taken."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import event

from kinerja.config import load_settings
from kinerja.db import read_only_session
from kinerja.testing import consumer_record
from kinerja.testing.plans import (MID_BURST, NEARLY_EMPTY, PlanLog, clone_rows, faults, keep_statistics, sql,
                                   store_with_statistics)
from kinerja.testing.postgres_fixtures import create_postgres_database
from kinerja_testkit.notifikasi import AGENCY, roster_event, score_event
from notifikasi.adapters import inbox
from notifikasi.entrypoints.consumer import make_consumer
from notifikasi.entrypoints.migrate import main as migrate
from notifikasi.entrypoints.runtime import make_runtime
from notifikasi.service_layer.email_preferences import set_preference
from notifikasi.service_layer.notifications import handle_batch

pytestmark = pytest.mark.integration
N = 20_000
BURST = 1_000
POLL = 200  # NOTIFIKASI_APPLY_BATCH's default
NOW = datetime(2026, 11, 28, 3, 0, tzinfo=timezone.utc)
# rows a statement may examine per event of the poll (its keys, an index probe each, a few joins);
# a walk of the 20,000-row roster is 100 an event
SLACK = 12
TOPIC = "t.penilaian.v1"
TAIL = 100  # inbox rows the stream's tailer has not seen yet


def nip(i: int) -> str:
    return f"19900101{i:010d}"


TEMPLATE = nip(0)


def clone(engine, first: int, last: int) -> None:
    """The template ASN's roster row and mail preference copied to ASN ``first``..``last`` (each
    the next one's supervisor), an inbox row each, and a processed id each."""
    for table in ("employees", "email_preferences"):
        clone_rows(engine, table, TEMPLATE, first, last, {"nip": "'19900101' || lpad(i::text, 10, '0')",
                                                          "atasan_nip": "'19900101' || lpad((i + 1)::text, 10, '0')"})
    sql(engine, "INSERT INTO notifications (recipient_nip, agency, audience, kind, title, body, subject_nip, "
                "event_id, event_type, payload, created_at) SELECT '19900101' || lpad(i::text, 10, '0'), :agency, "
                "'asn', 'k', 't', 'b', 's', 'n' || i, 't', '{}', :t "
                "FROM generate_series(CAST(:a AS integer), CAST(:b AS integer)) AS i",
        agency=AGENCY, t=NOW, a=first, b=last)
    sql(engine, "INSERT INTO processed_events (event_id, topic, \"partition\", \"offset\", processed_at) "
                "SELECT 'seen-' || i, 't', 0, i, now() FROM generate_series(CAST(:a AS integer), CAST(:b AS integer)) "
                "AS i", a=first, b=last)


class Polls:
    def __init__(self, runtime):
        self.consumer = make_consumer(runtime, batch_size=POLL)
        self.offset = 0

    def poll(self, events) -> None:
        records = [consumer_record(e, self.offset + k, TOPIC, key=e.subject.encode()) for k, e in enumerate(events)]
        self.offset += len(records)
        assert self.consumer.process_batch(records, __import__("threading").Event())


@pytest.fixture(params=[NEARLY_EMPTY, MID_BURST])
def stored(request, postgres_server):
    url = create_postgres_database(postgres_server)
    migrate(url)
    runtime = make_runtime(load_settings("notifikasi", {"database_url": url}))
    engine = runtime.engine
    keep_statistics(engine)
    with runtime.session() as s, s.begin():
        handle_batch(s, [roster_event(TEMPLATE, "Pegawai", atasan_nip=nip(1))], now=NOW)
        set_preference(s, nip=TEMPLATE, agency=AGENCY, email="a@example.go.id", mode="immediate", now=NOW)
    polls = Polls(runtime)

    def quiet() -> None:
        for _ in range(12):  # a quiet consumer's polls
            polls.poll([score_event(TEMPLATE, atasan_nip=nip(1))])

    store_with_statistics(engine, request.param, clone=clone, rows=N, burst=BURST, quiet=quiet)
    yield runtime, polls
    runtime.dispose()


@pytest.mark.parametrize("plans", ["as planned", "generic"])
def test_a_poll_of_score_updates_examines_rows_in_proportion_to_it(stored, plans):
    runtime, polls = stored
    engine = runtime.engine
    log = PlanLog()

    def watch(dbapi_conn, record, _proxy):  # the pool's connections as they are, prepared statements kept
        if not record.info.get("watched"):
            record.info["watched"] = True
            if plans == "generic":
                dbapi_conn.prepare_threshold = 0
                with dbapi_conn.cursor() as cur:
                    cur.execute("SET plan_cache_mode = force_generic_plan")
            log.attach(dbapi_conn)

    event.listen(engine, "checkout", watch)
    try:
        # score updates of ASN over the roster, each with its supervisor (the next ASN)
        polls.poll([score_event(nip(i), atasan_nip=nip(i + 1)) for i in range(N - 5 * POLL, N - 4 * POLL)])
        last = sql(engine, "SELECT max(id) FROM notifications")[0][0]
        first = len(log.plans)
        with read_only_session(runtime.session_factory) as s:  # the stream's tailer, behind by TAIL rows
            assert len(list(inbox.rows_after(s, last - TAIL, 500))) == TAIL
        tailed = log.since(first, "FROM notifications")
    finally:
        event.remove(engine, "checkout", watch)
    texts = [p["Query Text"] for p in log.plans]
    for statement in ("INTO processed_events", "FROM employees", "FROM email_preferences", "INTO notifications",
                      "INTO emails"):
        assert any(statement in t for t in texts), (statement, [t[:120] for t in texts])
    found = {p["Query Text"][:300]: f for p in log.plans[:first] if (f := faults(p, SLACK * POLL))}
    assert not found, found
    assert len(tailed) == 1 and faults(tailed[0], SLACK * TAIL) == []
    # the poll was applied: an inbox row for each ASN and one for its supervisor
    assert sql(engine, "SELECT count(*) FROM notifications WHERE id > :n", n=N)[0][0] >= 2 * POLL
