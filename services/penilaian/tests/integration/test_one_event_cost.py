"""What the live case costs penilaian's consumer in Python: at 100 punches/s a poll mostly brings one
day summary, and its transaction is CPU every ASN's score waits for. Counted, not timed (a count does
not depend on the machine being quiet): the function calls of ``process_batch`` for a poll of one day
summary (cProfile's count, the decode to the commit), and the statements the database runs for it.

Measured on this code, median of ten polls (in brackets: before the decode, the reads fetched at once
and run on the session's connection, JSON columns read by orjson): PostgreSQL 2,850 calls (2,987),
4 statements; SQLite ~2,545 (2,612), 7 statements (SQLite cannot write several tables in one statement: the day fact, month
totals, score rows and outbox rows go one each). Over the budget means work crept back onto the live
path."""
import cProfile
import pstats
import threading
from datetime import date, timedelta

import pytest
from sqlalchemy import event

from kinerja.testing import consumer_record
from kinerja_testkit.penilaian import day_event, make_penilaian, roster_event
from penilaian.adapters.orm import ScoreRow
from penilaian.entrypoints.consumer import make_consumer

pytestmark = pytest.mark.integration

NIPS = [f"1990010120200112{i:02d}" for i in range(20)]
NOV = date(2026, 11, 2)
BUDGET = {"postgresql": 2_900, "sqlite": 2_590}  # calls of a one-day-summary poll
STATEMENTS = {"postgresql": 4, "sqlite": 7}


def test_a_poll_of_one_day_summary_stays_within_its_call_and_statement_budget(database_url):
    p = make_penilaian(database_url)
    try:
        dialect = p.runtime.engine.dialect.name
        c = make_consumer(p.runtime, batch_size=100)
        stop = threading.Event()
        offsets = iter(range(10_000))

        def records(events):
            return [consumer_record(e, next(offsets), "t.kehadiran.v1") for e in events]

        assert c.process_batch(records([roster_event(nip, f"Pegawai {i}") for i, nip in enumerate(NIPS)]
                                       + [day_event(n, NOV) for n in NIPS]), stop)
        for k in range(1, 4):  # warm: statements compiled and prepared, the policy versions cached
            assert c.process_batch(records([day_event(NIPS[k], NOV + timedelta(days=k), ("TL1", "0.5"))]), stop)
        statements: list[str] = []
        event.listen(p.runtime.engine, "do_execute", lambda cursor, sql, params, context: statements.append(sql))
        event.listen(p.runtime.engine, "do_executemany",
                     lambda cursor, sql, params, context: statements.extend([sql] * len(params)))
        calls, counts = [], []
        for k in range(4, 14):
            polled = records([day_event(NIPS[k], NOV + timedelta(days=k), ("TL1", "0.5"))])
            statements.clear()
            profile = cProfile.Profile()
            profile.enable()
            done = c.process_batch(polled, stop)
            profile.disable()
            assert done
            calls.append(pstats.Stats(profile).total_calls)
            counts.append(len(statements))
        assert c.stats.applied == 40 + 3 + 10 and c.stats.fallbacks == 0
        assert counts == [STATEMENTS[dialect]] * 10, counts
        assert sorted(calls)[len(calls) // 2] <= BUDGET[dialect], calls
        with p.runtime.session() as s:  # each poll was applied: its day's deduction is in the month
            for k in range(4, 14):
                assert s.get(ScoreRow, (NIPS[k], "2026-11")).disiplin == 99.5
    finally:
        p.runtime.dispose()
