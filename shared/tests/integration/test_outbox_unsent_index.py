"""The outbox's unsent index holds the unsent rows only (``ix_outbox_unsent``: id WHERE sent_at IS
NULL): a relay's mark takes a row out of it and adds nothing to it. With the index it replaced
(sent_at, id over every row) each mark, an update that moves the row (``sent_at`` is indexed, so
never a HOT update), added an entry for the sent row: 20,000 marks grew it by ~80 pages, and it
kept the retention's sent rows. Counted in index pages, on PostgreSQL."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import MetaData, text

from kinerja import metrics
from kinerja.db import make_engine
from kinerja.messaging.outbox import add_plumbing_tables, utcnow
from kinerja.messaging.relay.outbox_relay import OutboxRelay
from kinerja.messaging.relay.pg_statements import PgRelayStatements
from kinerja.messaging.relay.producer_session import MARK_CHUNK
from kinerja.testing.postgres_fixtures import create_postgres_database

pytestmark = pytest.mark.integration
N = 20_000


def test_marking_rows_sent_adds_nothing_to_the_unsent_index(postgres_server):
    metadata = MetaData()
    outbox, _ = add_plumbing_tables(metadata)
    engine = make_engine(create_postgres_database(postgres_server))
    relay = PgRelayStatements(engine, outbox)
    try:
        metadata.create_all(engine)

        def sql(statement: str):
            with engine.begin() as conn:
                result = conn.execute(text(statement))
                return result.all() if result.returns_rows else []

        def unsent_index_pages() -> int:
            return sql("SELECT pg_relation_size('ix_outbox_unsent') / current_setting('block_size')::int")[0][0]

        sql("ALTER TABLE outbox SET (autovacuum_enabled = off)")  # pages counted as the marks left them
        sql("INSERT INTO outbox (event_id, topic, \"key\", \"value\", created_at) SELECT 'e' || i, "
            "'kehadiran.day', '19900101' || lpad((i % 5000)::text, 10, '0'), repeat('v', 200), now() "
            f"FROM generate_series(1, {N}) AS i")
        before = unsent_index_pages()
        assert before > 20  # the N unsent rows are in it
        ids = [i for (i,) in sql("SELECT id FROM outbox ORDER BY id")]
        for start in range(0, N, MARK_CHUNK):
            relay.mark_sent(ids[start:start + MARK_CHUNK], utcnow())
        assert sql("SELECT count(*) FROM outbox WHERE sent_at IS NULL")[0][0] == 0
        assert unsent_index_pages() == before  # no entry added for a sent row
    finally:
        relay.close()
        engine.dispose()


@pytest.mark.parametrize("database", ["postgresql", "sqlite"])
def test_the_depth_gauges_count_the_unsent_rows_through_the_unsent_index(database, postgres_server, tmp_path):
    """The relay's depth gauges: unsent rows and the oldest one's age. On PostgreSQL the count goes
    through the unsent index on the relay's own connection, an index scan, whatever marks left dead
    in the index: a bitmap scan (chosen on a plain connection) visited every dead entry's row at
    every call until a vacuum."""
    metadata = MetaData()
    outbox, _ = add_plumbing_tables(metadata)
    url = create_postgres_database(postgres_server) if database == "postgresql" else f"sqlite:///{tmp_path}/o.db"
    engine = make_engine(url)
    relay = OutboxRelay(engine, outbox, producer_factory=lambda: None, service=f"depth-{database}")
    try:
        metadata.create_all(engine)
        with engine.begin() as conn:
            if database == "postgresql":
                conn.execute(text("ALTER TABLE outbox SET (autovacuum_enabled = off)"))
            conn.execute(text("INSERT INTO outbox (event_id, topic, \"key\", \"value\", created_at, sent_at) "
                              "VALUES ('sent', 't', 'k', 'v', :t, :t)"), {"t": utcnow()})
            conn.execute(outbox.insert(), [{"event_id": f"e{i}", "topic": "t", "key": "k", "value": "v",
                                            "created_at": utcnow() - timedelta(seconds=30)} for i in range(7)])
        relay.report_depth(force=True)
        assert metrics.OUTBOX_PENDING.labels(f"depth-{database}")._value.get() == 7
        assert 30 <= metrics.OUTBOX_OLDEST_AGE.labels(f"depth-{database}")._value.get() < 300
        if database == "postgresql":
            plain = relay._statements()
            plan = plain._run(b"EXPLAIN " + plain.depth_sql, [])
            lines = [plan.get_value(i, 0).decode() for i in range(plan.ntuples)]
            assert any("Index" in line and "ix_outbox_unsent" in line for line in lines), lines
            assert not any("Bitmap" in line or "Seq Scan" in line for line in lines), lines
        with engine.begin() as conn:
            conn.execute(text("UPDATE outbox SET sent_at = :t"), {"t": utcnow()})
        relay.report_depth(force=True)
        assert metrics.OUTBOX_PENDING.labels(f"depth-{database}")._value.get() == 0
        assert metrics.OUTBOX_OLDEST_AGE.labels(f"depth-{database}")._value.get() == 0
    finally:
        relay._finish()  # the relay's own connection closed
        engine.dispose()
