"""The outbox's unsent index holds the unsent rows only (``ix_outbox_unsent``: id WHERE sent_at IS
NULL): a relay's mark takes a row out of it and adds nothing to it. With the index it replaced
(sent_at, id over every row) each mark, an update that moves the row (``sent_at`` is indexed, so
never a HOT update), added an entry for the sent row: 20,000 marks grew it by ~80 pages, and it
kept the retention's sent rows. Counted in index pages, on PostgreSQL."""
from __future__ import annotations

import pytest
from sqlalchemy import MetaData, text

from kinerja.db import make_engine
from kinerja.messaging.outbox import add_plumbing_tables, utcnow
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
