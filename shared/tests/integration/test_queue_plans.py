"""The relay's statements and the trims at 20,000 rows on PostgreSQL, with the statistics a queue
really has: (a) never analysed (a new database), (b) vacuumed and analysed while empty, each
statement run a dozen times on its connection then (an idle relay's polls: more than psycopg's 5
runs before it prepares a statement, and the server's 5 custom plans before it keeps a generic
one), and only then the rows, and (c) analysed during a burst (a few dozen of many rows unsent),
then a burst sent and marked with no vacuum since (the unsent index full of dead entries). Each statement's executed plan is read back (``auto_explain``) and
held to counts, not time: rows examined in proportion to the rows it returns, skips or changes
(the trims: to the table), no list parameter looked through per row, no table rescanned per row.

Under (c) a plain session plans the relay's read as a bitmap scan of the unsent index and a sort: a
bitmap scan never marks an index entry dead, so each read walks the entries of every row marked
since the last vacuum and visits their heap pages (10,000 marked rows: ~1,000 heap pages a read,
read after read), where an ordered index scan marks them dead as it passes them, once. The relay's
connection plans without bitmap scans (``pg_statements.PLANNER_OPTIONS``): its reads are held here
to an index scan in id order, no bitmap scan and no sort. The outbox trim's chunk, planned there
as a hash join over a sequential scan of the whole table, is read by row address (``trim_sent``).

Under (b), before every statement here was planned with its parameters, the prepared read was a
sequential scan and a sort of the whole outbox at every read, the ``id <> ALL($n)`` read compared
each row with every id in flight (a list parameter is never hashed), and one chunk of the outbox
trim rescanned the chunk's subquery for each row of the table (187,497,500 rows removed by its
join filter over 40,000 rows: 90 s)."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import MetaData, text

from kinerja.db import make_engine
from kinerja.messaging.claims import BUCKETS
from kinerja.messaging.outbox import add_plumbing_tables, delete_in_chunks, trim_sent, utcnow
from kinerja.messaging.relay.pg_statements import PgRelayStatements
from kinerja.testing.plans import PlanLog, faults, nodes
from kinerja.testing.postgres_fixtures import create_postgres_database

pytestmark = pytest.mark.integration
N = 20_000  # unsent rows, and as many sent ones still kept (past the retention: the trim's)
LIMIT = 500  # the relay's batch
IN_FLIGHT = 5_000  # the relay's max_in_flight
CHUNK = 5_000  # the trims' chunk
HELD = frozenset(range(0, BUCKETS, 2))  # one relay of two: half the rows are its
# rows a statement may examine per row it returns, skips or changes (an index range, plus change)
SLACK = 3


class Queue:
    def __init__(self, url: str):
        metadata = MetaData()
        self.outbox, self.processed = add_plumbing_tables(metadata)
        # one pooled connection: the trims run again on the connection that ran them while empty
        self.engine = make_engine(url, pool_size=1)
        metadata.create_all(self.engine)
        self.relay = PgRelayStatements(self.engine, self.outbox)
        self.log = PlanLog()

    def sql(self, statement: str, **params) -> list:
        with self.engine.begin() as conn:
            result = conn.execute(text(statement), params)
            return result.all() if result.returns_rows else []

    def poll_everything(self) -> None:
        """What an idle relay and the trims run: every statement of this module."""
        self.relay.unsent(LIMIT, ())
        self.relay.unsent(LIMIT, {1, 2, 3})
        self.relay.unsent(LIMIT, (), HELD)
        self.relay.unsent(LIMIT, {1, 2, 3}, HELD)
        self.relay.mark_sent([1, 2, 3], utcnow())
        self.trim_outbox()
        self.trim_processed()

    def trim_outbox(self) -> int:
        return trim_sent(self.engine, self.outbox, 600, chunk=CHUNK, budget_s=0)

    def trim_processed(self) -> int:
        p = self.processed
        return delete_in_chunks(self.engine, p, p.c.event_id, p.c.processed_at < utcnow() - timedelta(days=7),
                                chunk=CHUNK, budget_s=0)

    def watch(self) -> None:
        """Every plan from now on logged: the relay's connection and the engine's (kept) one."""
        self.relay._connection()
        self.log.attach(self.relay._conn)
        raw = self.engine.raw_connection()
        try:
            self.log.attach(raw.driver_connection)
        finally:
            raw.close()


BURST_UNSENT = 23  # unsent rows when the statistics were taken during a burst (seen in a hops run)


def analysed_during_a_burst(q: Queue) -> None:
    """Statistics taken when N rows were sent and a few dozen not; then a burst of N / 2 rows,
    polled, sent and marked, with no vacuum since: their entries are dead in the unsent index."""
    q.sql("INSERT INTO outbox (event_id, topic, \"key\", \"value\", created_at, sent_at) "
          "SELECT 'b' || i, 'kehadiran.day', '19900101' || lpad((i % 5000)::text, 10, '0'), repeat('v', 200), "
          "now(), CASE WHEN i <= :sent THEN now() - interval '1 hour' END FROM generate_series(1, :n) AS i",
          sent=N - BURST_UNSENT, n=N)
    with q.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("ANALYZE outbox"))
    q.sql("INSERT INTO outbox (event_id, topic, \"key\", \"value\", created_at) "
          "SELECT 'c' || i, 'kehadiran.day', '19900101' || lpad((i % 5000)::text, 10, '0'), repeat('v', 200), "
          "now() FROM generate_series(1, :n) AS i", n=N // 2)
    for _ in range(12):
        q.poll_everything()
    # every one marked, the polls' marks too, past the retention (the trim's chunk finds them all due)
    q.sql("UPDATE outbox SET sent_at = now() - interval '1 hour' "
          "WHERE sent_at IS NULL OR sent_at > now() - interval '1 minute'")


@pytest.fixture(scope="module", params=["never analysed", "planned while empty", "analysed during a burst"])
def queue(request, postgres_server):
    q = Queue(create_postgres_database(postgres_server))
    for table in ("outbox", "processed_events"):  # autovacuum must not take the statistics in question
        q.sql(f"ALTER TABLE {table} SET (autovacuum_enabled = off)")
    if request.param == "planned while empty":
        with q.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE outbox"))
            conn.execute(text("VACUUM ANALYZE processed_events"))
            assert conn.execute(text("SELECT relpages FROM pg_class WHERE relname = 'outbox'")).scalar() == 0
        for _ in range(12):
            q.poll_everything()
    if request.param == "analysed during a burst":
        analysed_during_a_burst(q)
    # N sent rows an hour old, then N unsent (their keys over every bucket); N processed records
    # eight days old
    q.sql("INSERT INTO outbox (event_id, topic, \"key\", \"value\", created_at, sent_at) "
          "SELECT 'e' || i, 'kehadiran.day', '19900101' || lpad((i % 5000)::text, 10, '0'), repeat('v', 200), "
          "now(), CASE WHEN i <= :n THEN now() - interval '1 hour' END FROM generate_series(1, 2 * :n) AS i", n=N)
    q.sql("INSERT INTO processed_events (event_id, topic, \"partition\", \"offset\", processed_at) "
          "SELECT 'p' || i, 'kehadiran.day', i % 24, i, now() - interval '8 days' "
          "FROM generate_series(1, :n) AS i", n=N)
    q.watch()
    yield q
    q.relay.close()
    q.engine.dispose()


def unsent_ids(q: Queue, buckets=None) -> list[int]:
    where = "" if buckets is None else f" AND (hashtext(\"key\") & {BUCKETS - 1}) = ANY(:b)"
    return [i for (i,) in q.sql(f"SELECT id FROM outbox WHERE sent_at IS NULL{where} ORDER BY id",
                                b=sorted(buckets or ()))]


def checked(q: Queue, first: int, what: str, most_rows: float) -> dict:
    plans = q.log.plans[first:]
    assert len(plans) == 1, (what, [p["Query Text"][:200] for p in plans])
    found = faults(plans[0], most_rows)
    assert not found, (what, found, plans[0]["Query Text"][:300])
    return plans[0]


def test_the_relay_reads_examine_what_they_return_and_what_they_leave_out(queue):
    q = queue
    every, held = unsent_ids(q), unsent_ids(q, HELD)
    assert len(every) >= N - LIMIT and len(held) > 4 * LIMIT
    in_flight = set(every[:IN_FLIGHT])  # the lowest rows, as a relay has them in flight
    cases = [
        ("read", (LIMIT, ()), every[:LIMIT], LIMIT),
        ("read leaving the flight out", (LIMIT, in_flight), every[IN_FLIGHT:IN_FLIGHT + LIMIT], LIMIT + IN_FLIGHT),
        ("read of held buckets", (LIMIT, (), HELD), held[:LIMIT], 2 * LIMIT),
        ("read of held buckets leaving the flight out", (LIMIT, in_flight, HELD),
         [i for i in held if i not in in_flight][:LIMIT], 2 * LIMIT + IN_FLIGHT),
    ]
    for what, args, expected, work in cases:
        first = len(q.log.plans)
        assert [row[0] for row in q.relay.unsent(*args)] == expected, what  # id order, as before
        plan = checked(q, first, what, SLACK * work)
        # the unsent rows' own index (``ix_outbox_unsent``: id WHERE sent_at IS NULL), not the
        # primary key past the sent rows the retention keeps
        assert {n.get("Index Name") for n in nodes(plan["Plan"]) if n.get("Relation Name") == "outbox"} \
            == {"ix_outbox_unsent"}, what
        # read in the index's order (it stops at the limit, marking dead entries as it passes them),
        # never a bitmap scan of every unsent entry and a sort
        assert {n["Node Type"] for n in nodes(plan["Plan"])} <= {"Limit", "Index Scan"}, (what, plan["Plan"])
        if args[1]:  # the ids left out given as a constant the server hashes, never as a parameter
            assert "<> ALL ('{" in plan["Plan"].get("Filter", "") + str(plan["Plan"].get("Plans", "")), what


def test_the_relay_mark_examines_the_rows_it_marks(queue):
    q = queue
    ids = unsent_ids(q)[-LIMIT:]
    first = len(q.log.plans)
    q.relay.mark_sent(ids, utcnow())
    checked(q, first, "mark", SLACK * LIMIT)
    assert q.sql("SELECT count(*) FROM outbox WHERE id = ANY(:ids) AND sent_at IS NOT NULL", ids=ids)[0][0] == LIMIT


def test_a_trim_chunk_examines_the_table_at_most_once(queue):
    """A chunk of a trim reads the table once (a hash join) or probes it per deleted row: at most
    once over, never once per row. The outbox's walks its lowest ids: the chunk, not the table."""
    q = queue
    table_rows = q.sql("SELECT (SELECT count(*) FROM outbox) + (SELECT count(*) FROM processed_events)")[0][0]
    for what, trim in (("outbox trim", q.trim_outbox), ("processed_events trim", q.trim_processed)):
        first = len(q.log.plans)
        assert trim() == CHUNK, what
        plans = q.log.since(first, "DELETE FROM")
        assert len(plans) == 1, what
        found = faults(plans[0], SLACK * (table_rows + CHUNK))
        if what == "outbox trim":  # the chunk's lowest ids through the primary key: the chunk, not the table
            assert not faults(plans[0], 8 * CHUNK), faults(plans[0], 8 * CHUNK)
            assert all(n["Node Type"] != "Seq Scan" for n in nodes(plans[0]["Plan"]))
        assert not found, (what, found)
