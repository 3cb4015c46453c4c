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
from datetime import date, timedelta

import pytest

from kinerja_testkit.penilaian import day_event, make_penilaian
from kinerja_testkit.polled_consumer import PolledConsumer
from penilaian.adapters.orm import ScoreRow

pytestmark = pytest.mark.integration

NIPS = [f"1990010120200112{i:02d}" for i in range(20)]
NOV = date(2026, 11, 2)
BUDGET = {"postgresql": 2_900, "sqlite": 2_590}  # calls of a one-day-summary poll
STATEMENTS = {"postgresql": 4, "sqlite": 7}


def test_a_poll_of_one_day_summary_stays_within_its_call_and_statement_budget(database_url):
    p = make_penilaian(database_url)
    try:
        dialect = p.runtime.engine.dialect.name
        polls = PolledConsumer(p.runtime, batch_size=100)
        c = polls.consumer
        polls.seed(NIPS, NOV)
        for k in range(1, 4):  # warm: statements compiled and prepared, the policy versions cached
            polls.poll([day_event(NIPS[k], NOV + timedelta(days=k), ("TL1", "0.5"))])
        statements = polls.statements()
        calls, counts = [], []
        for k in range(4, 14):
            polled = polls.records([day_event(NIPS[k], NOV + timedelta(days=k), ("TL1", "0.5"))])
            statements.clear()
            profile = cProfile.Profile()
            profile.enable()
            done = c.process_batch(polled, polls.stop)
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
