"""What one consumer transaction costs the database, counted at the driver: a caught-up poll of
one day summary is the latency of a live score, and its statements (each one round trip) are
most of it. On PostgreSQL: the ids claimed and the locks taken in one statement
(``adapters.claims``), the facts of the months named read once with the days' stored versions
(``Batch.prepare``), everything else the recompute reads in one (``adapters.recompute_inputs``,
the policy versions' stamp with it), and the last writes (day facts, month totals, score rows,
outbox events) in one (``bulk_writes.Writes``); a batch of 20 ASN runs the same statements as a
batch of one."""
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from kinerja.testing import create_postgres_database
from penilaian.adapters.orm import MonthTotalsRow, ScoreRow
from kinerja_testkit.penilaian import day_event, make_penilaian
from kinerja_testkit.polled_consumer import PolledConsumer

pytestmark = pytest.mark.integration

NIPS = [f"1990010120200111{i:02d}" for i in range(20)]
NOV = date(2026, 11, 2)
# the ids' claim with the ASN's lock, the month's facts with the day's stored version, the
# recompute's inputs (people, stored months, score rows, the policy stamp) and the gathered writes:
# 4 (10 when the dup check, the lock, the day's version, its write, the stored months, the people,
# the score rows and the policy versions went one each; 17 before that)
ONE_EVENT_STATEMENTS = 4


def test_a_one_event_transaction_runs_a_pinned_number_of_statements(postgres_server):
    p = make_penilaian(create_postgres_database(postgres_server))
    try:
        polls = PolledConsumer(p.runtime, batch_size=100)
        c = polls.consumer
        polls.seed(NIPS, NOV)
        statements = polls.statements()
        counts = []
        for k, n in ((1, 1), (2, 20), (3, 1)):
            statements.clear()
            polls.poll([day_event(nip, NOV + timedelta(days=k), ("TL1", "0.5")) for nip in NIPS[:n]])
            counts.append(len(statements))
        assert counts == [ONE_EVENT_STATEMENTS] * 3, (counts, statements)
        assert c.stats.applied == 40 + 22 and c.stats.duplicates == 0
        # and the one statement wrote all it gathered: the last day's score, month, event and id
        with p.runtime.session() as s:
            assert s.get(ScoreRow, (NIPS[0], "2026-11")).disiplin == 98.5
            assert s.get(ScoreRow, (NIPS[19], "2026-11")).disiplin == 99.5
            assert s.get(MonthTotalsRow, (NIPS[0], "2026-11")).workdays == 4
            assert len(set(s.execute(select(p.runtime.processed_table.c.event_id)).scalars())) == 62
            updates = s.execute(select(p.runtime.outbox.table.c.key).where(
                p.runtime.outbox.table.c.topic.like("%penilaian%"))).scalars().all()
            assert updates.count(NIPS[0]) >= 4  # a month, quarter and year row at first, then each day's month
    finally:
        p.runtime.dispose()
