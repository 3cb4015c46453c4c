"""What a busy consumer's poll costs penilaian in Python, per event: a poll of day summaries and task
states for many ASN, with the punches between them that it passes over, through ``process_batch``
(skip, decode, the ids' claim, the batch's reads, facts stored, months recomputed, the last writes,
the commit). Counted, not timed: Python function calls (``kinerja.testing.counting``) and
statements, the same on any machine, however loaded.

Measured on this code (Python calls per applied event of the measured poll, PostgreSQL / SQLite):
128.3 / 184.1 (127.8 / 183.1 before main's batched offset commits); before the claim's ids were
fetched in one call (not one a row): 134.8 / 184.1; before a fold looked its months up by
``dict.get`` and compared month rows as dicts: 141.1 / 190.9; before PostgreSQL's reads bound
their NIPs and task ids as one array each (``adapters.key_lists``): 150.5 / 191.2 (with the
warm-up's tasks: 155.8 / 204.6 without); before the last writes converted Cents and instants
inline, sorted by an itemgetter, and the score updates were built with their floats inline and
encoded by orjson: 190.0 / 224.8 (193.1 / 224.5 as first measured); before the batch path
filtered its first pass by the claim's new ids and took a poll's replayed offsets and skips at
once, the skip read its JSON by orjson and the recompute's inputs read the stored scores without
a type processor on every slot of every row: 221.2 / 252.9.
Over the budget means per-event work crept back onto the live path."""
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from kinerja.events import make_event
from kinerja.events.kehadiran import PUNCH_RECORDED
from kinerja.events.tugas import TASK_ASSIGNED
from kinerja.testing.counting import python_calls
from kinerja_testkit.penilaian import AGENCY, day_event, make_penilaian, task_event
from kinerja_testkit.polled_consumer import PolledConsumer
from penilaian.adapters.orm import ScoreRow

pytestmark = pytest.mark.integration

NIPS = [f"1990010120200113{i:02d}" for i in range(40)]
NOV = date(2026, 11, 2)
BUDGET = {"postgresql": 133, "sqlite": 189}  # Python calls per applied event of the measured poll
STATEMENTS = {"postgresql": 7, "sqlite": 9}  # statements of the measured poll, whatever its size


def punch(nip: str, day: date, k: int):
    return make_event(PUNCH_RECORDED, subject=nip, agency=AGENCY, source="test/kehadiran",
                      data={"punch_id": f"{nip}-{day}-{k}", "nip": nip, "device_sn": "SN1",
                            "time": datetime.combine(day, datetime.min.time(), timezone.utc) + timedelta(hours=k)})


def test_a_busy_poll_stays_within_its_calls_per_event_and_statements(database_url):
    p = make_penilaian(database_url)
    try:
        dialect = p.runtime.engine.dialect.name
        polls = PolledConsumer(p.runtime, batch_size=1000, keyed=True)
        c = polls.consumer
        # warm: the roster, a day each, statements compiled and prepared, the policy versions cached
        polls.seed(NIPS, NOV)
        for k in (1, 2):
            polls.poll([day_event(n, NOV + timedelta(days=k), ("TL1", "0.5")) for n in NIPS])
        # and a task each, so the measured poll's task statements are compiled already, as on a
        # busy consumer's (a first-time compile was ~6 calls an event of the count)
        polls.poll([task_event(TASK_ASSIGNED, n, f"W-{n}", "assigned", NOV + timedelta(days=21),
                               at=datetime(2026, 11, 2, 1, tzinfo=timezone.utc)) for n in NIPS])
        polled = []
        for n in NIPS:
            for k in (3, 4, 7):
                day = NOV + timedelta(days=k)
                polled += [punch(n, day, 7), punch(n, day, 16), day_event(n, day, ("TL1", "0.5"))]
            polled.append(task_event(TASK_ASSIGNED, n, f"T-{n}", "assigned", NOV + timedelta(days=20),
                                     at=datetime(2026, 11, 2, 2, tzinfo=timezone.utc)))
        polled = polls.records(polled)
        statements = polls.statements()
        applied = c.stats.applied
        calls, done = python_calls(lambda: c.process_batch(polled, polls.stop))
        applied = c.stats.applied - applied
        assert done and c.stats.fallbacks == 0 and applied == len(NIPS) * 4
        per_event = calls / applied
        print(f"{dialect}: {calls} calls, {per_event:.1f} per applied event, {len(statements)} statements")
        assert len(statements) == STATEMENTS[dialect], statements
        assert per_event <= BUDGET[dialect], per_event
        with p.runtime.session() as s:  # the poll was applied: its three days' deductions are in the month
            assert s.get(ScoreRow, (NIPS[0], "2026-11")).disiplin == Decimal("97.50")
    finally:
        p.runtime.dispose()
