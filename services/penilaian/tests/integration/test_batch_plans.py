"""penilaian's consumer batch on PostgreSQL with 20,000 ASN stored (their day facts, month totals,
score rows, roster rows and memberships, processed ids), every statement of a poll of day summaries
read back as it ran (``auto_explain``) and held to counts: rows examined in proportion to the
poll's ASN, no list parameter looked through per row, no table rescanned per row.

The statistics are those a live database can have when an upload's summaries arrive (autovacuum
off, so they stay so): (a) taken while penilaian held one ASN (a new database's first events:
``VACUUM ANALYZE``), the consumer's statements then run a dozen times on its connections (more than
psycopg's 5 runs before it prepares one, and the server's 5 custom plans before it keeps a
generic one), and only then the 20,000 ASN written (the roster and a first upload's summaries
in seconds, before autovacuum comes); (b) taken during a burst, while the first 1,000 of the
20,000 ASN were stored (an upload's first polls); each as the statements plan by themselves
(custom plans where planned each time, psycopg's and the server's choice elsewhere) and with every
statement prepared and planned generic (``force_generic_plan``). Stop 33's PIN look-up, planned on
an empty roster's statistics, walked the roster every request: this is the sweep of penilaian's
side for that kind of plan."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import event

from kinerja.testing.plans import (MID_BURST, NEARLY_EMPTY, PlanLog, clone_rows, faults, keep_statistics, sql,
                                   store_with_statistics)
from kinerja.testing.postgres_fixtures import create_postgres_database
from kinerja_testkit.penilaian import day_event, make_penilaian, roster_event
from kinerja_testkit.polled_consumer import PolledConsumer

pytestmark = pytest.mark.integration
N = 20_000
POLL = 1_000  # a live poll: a day summary each of 1,000 ASN
BURST = 1_000  # ASN stored when the statistics were taken during a burst
# rows a statement may examine per ASN of the poll (its keys, an index probe of each table, the
# month's facts of each ASN, the joins' output: a few tens); a walk of one of the 20,000-row
# tables is 20 an ASN on its own, over and above
SLACK = 12
DAY = date(2026, 11, 2)  # the stored day of every ASN; the poll's day is the next one


def nip(i: int) -> str:
    return f"19900101{i:010d}"


TEMPLATE = nip(0)
# a table's rows of the template ASN copied to ASN 1..n (``clone``): its NIP replaced, its
# event ids made distinct
NIP_TABLES = ("employees", "day_facts", "scores", "month_totals", "agency_memberships")


def clone(engine, first: int, last: int) -> None:
    """The template ASN's rows copied to ASN ``first``..``last``, in each table that names an ASN,
    and a processed id for each copy (the ids the consumer has recorded)."""
    for table in NIP_TABLES:
        clone_rows(engine, table, TEMPLATE, first, last,
                   {"nip": "'19900101' || lpad(i::text, 10, '0')", "event_id": "event_id || '/' || i"})
    sql(engine, "INSERT INTO processed_events (event_id, topic, \"partition\", \"offset\", processed_at) "
                "SELECT 'seen-' || i, 't', 0, i, now() FROM generate_series(CAST(:a AS integer), CAST(:b AS integer)) AS i", a=first, b=last)


class Watched:
    """The plans of every statement on the engine's connections from ``watch`` on (each
    connection set up at its first checkout after it, so the pool and its prepared statements
    stay as they were); ``generic``: every statement prepared, its generic plan the one run."""

    def __init__(self, engine, generic: bool):
        self.engine, self.generic, self.log = engine, generic, PlanLog()

    def watch(self) -> None:
        event.listen(self.engine, "checkout", self._checkout)

    def stop(self) -> None:
        event.remove(self.engine, "checkout", self._checkout)

    def _checkout(self, dbapi_conn, record, _proxy) -> None:
        if record.info.get("watched"):
            return
        record.info["watched"] = True
        if self.generic:
            dbapi_conn.prepare_threshold = 0
            with dbapi_conn.cursor() as cur:
                cur.execute("SET plan_cache_mode = force_generic_plan")
        self.log.attach(dbapi_conn)


def poll_of(polls: PolledConsumer, first: int, count: int, day: date):
    return polls.records([day_event(nip(i), day, ("TL1", "0.5")) for i in range(first, first + count)])


@pytest.fixture(params=[NEARLY_EMPTY, MID_BURST])
def stored(request, postgres_server):
    p = make_penilaian(create_postgres_database(postgres_server))
    engine = p.runtime.engine
    keep_statistics(engine)
    polls = PolledConsumer(p.runtime, batch_size=POLL, keyed=True)
    polls.poll([roster_event(TEMPLATE, "Pegawai"), day_event(TEMPLATE, DAY, ("TL1", "0.5"))])

    def quiet() -> None:
        for k in range(12):  # a quiet consumer's polls: the template's later days (not the poll's), twice each
            polls.poll([day_event(TEMPLATE, DAY + timedelta(days=20 + k % 6), ("TL1", "0.5"), version=1 + k)])

    store_with_statistics(engine, request.param, clone=clone, rows=N, burst=BURST, quiet=quiet)
    yield p, polls
    p.runtime.dispose()


@pytest.mark.parametrize("plans", ["as planned", "generic"])
def test_a_poll_of_day_summaries_examines_rows_in_proportion_to_its_asn(stored, plans):
    p, polls = stored
    engine = p.runtime.engine
    assert sql(engine, "SELECT count(*) FROM day_facts")[0][0] >= N
    watched = Watched(engine, generic=plans == "generic")
    watched.watch()
    try:
        # the poll's ASN over the roster (not the lowest ids only), the day after the stored one
        records = poll_of(polls, N - 3 * POLL, POLL, DAY + timedelta(days=1))
        assert polls.consumer.process_batch(records, polls.stop)
    finally:
        watched.stop()
    plans_run = watched.log.plans
    texts = [pl["Query Text"] for pl in plans_run]
    # the check saw the batch's reads and writes
    for statement in ("INTO processed_events", "FROM day_facts", "FROM month_totals", "INTO day_facts",
                      "INTO month_totals", "INTO scores", "FROM employees", "FROM agency_memberships"):
        assert any(statement in t for t in texts), (statement, [t[:120] for t in texts])
    found = {pl["Query Text"][:300]: f for pl in plans_run if (f := faults(pl, SLACK * POLL))}
    assert not found, found
    # and the poll was applied: each ASN's new day stored
    assert sql(engine, "SELECT count(*) FROM day_facts WHERE day = :d", d=DAY + timedelta(days=1))[0][0] == POLL



@pytest.mark.parametrize("plans", ["as planned", "generic"])
def test_a_policy_recomputes_reads_of_a_batch_examine_rows_in_proportion_to_it(stored, plans):
    """A policy recompute's batch of ASN (200): the next NIPs of the agency after the cursor
    (``affected_nips``), then their stored periods (``due``), batch after batch (more than the 5
    runs before a statement is prepared and the server's 5 custom plans before it keeps a generic
    one), with 60,000 score rows stored. ``due``'s generic plan made on the nearly empty table's
    statistics walked all 60,000 rows for each batch; ``affected_nips`` read and sorted every
    score row and membership past the cursor under any plan."""
    from kinerja_testkit.penilaian import AGENCY
    from penilaian.service_layer.policy_recompute import DEFAULT_BATCH, affected_nips, due

    p, _ = stored
    engine = p.runtime.engine
    assert sql(engine, "SELECT count(*) FROM scores")[0][0] >= 3 * N
    batches = 12
    watched = Watched(engine, generic=plans == "generic")
    watched.watch()
    try:
        for b in range(batches):
            nips = [nip(i) for i in range(1 + b * 1_500, 1 + b * 1_500 + DEFAULT_BATCH)]
            with p.runtime.session() as s, s.begin():
                assert affected_nips(s, AGENCY, nip(b * 1_500), DEFAULT_BATCH) == nips
                found = due(s, nips, "a-new-version", date(2026, 1, 1))
            # each ASN's month, quarter and year, none scored by the new version yet
            assert sorted(found) == nips and all(len(starts) == 3 for starts in found.values())
    finally:
        watched.stop()
    read = watched.log.since(0, "FROM scores")
    assert len(read) == 2 * batches and sum("UNION" in pl["Query Text"] for pl in read) == batches
    # ~15 rows an ASN: its 3 score rows and membership, each counted again by the nodes stacked on
    # them (distinct, limit, merge); a walk of the memberships alone is 100 an ASN of the batch
    found = {f"batch {k}": f for k, pl in enumerate(read) if (f := faults(pl, 20 * DEFAULT_BATCH))}
    assert not found, found
