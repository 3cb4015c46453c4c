"""Property (hypothesis): for generated sets of attendance, task and innovation events, any
permutation with duplicates gives the same scores and ledgers as the events in order, and every
component's ledger sums to its score. Runs on SQLite files (the handlers are the same on both)."""
import tempfile
from datetime import date, datetime, timedelta
from decimal import Decimal as D
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kinerja.events.tugas import TASK_APPROVED, TASK_ASSIGNED, TASK_CANCELLED, TASK_OVERDUE, TASK_RETURNED, TASK_SUBMITTED
from penilaian.adapters.orm import metadata
from kinerja_testkit.penilaian import PEG1, WIB, day_event, innovation_event, make_penilaian, roster_event, task_event

pytestmark = [pytest.mark.integration, pytest.mark.slow]

START = date(2026, 11, 2)
CODES = [("TL1", "0.5"), ("TL2", "1"), ("TL3", "1.5"), ("TL4", "2"), ("PSW1", "0.5"), ("PSW4", "2"), ("TK", "4")]
# few dates, so that versions of one day collide often; Nov 2–6 and Nov 28–Dec 3 (two months)
DAY_OFFSETS = [0, 1, 2, 3, 4, 26, 27, 28, 29, 30, 31]
TASK_TYPES = {"assigned": TASK_ASSIGNED, "submitted": TASK_SUBMITTED, "returned": TASK_RETURNED,
              "approved": TASK_APPROVED, "cancelled": TASK_CANCELLED}

days = st.builds(
    lambda offset, version, codes, n: day_event(
        PEG1, START + timedelta(days=offset), *codes, version=version, punch_ids=(f"punch-{n}",),
        workday=(START + timedelta(days=offset)).weekday() < 5, event_id=f"day-{n}"),
    st.sampled_from(DAY_OFFSETS), st.integers(1, 3), st.lists(st.sampled_from(CODES), max_size=2, unique=True),
    st.integers(0, 10**9))


@st.composite
def task_events(draw):
    task = draw(st.sampled_from(["a", "b", "c"]))
    due = START + timedelta(days={"a": 5, "b": 20, "c": 33}[task] + draw(st.integers(0, 1)))
    when = datetime.combine(START + timedelta(days=draw(st.integers(0, 45))), datetime.min.time(), WIB) + \
        timedelta(hours=draw(st.integers(0, 23)))
    if draw(st.booleans()) and draw(st.booleans()):
        return task_event(TASK_OVERDUE, PEG1, task, "assigned", due, at=when)
    status = draw(st.sampled_from(sorted(TASK_TYPES)))
    approved = status == "approved"
    return task_event(TASK_TYPES[status], PEG1, task, status, due, at=when,
                      realised=str(draw(st.integers(0, 15))) if approved else None,
                      quality=draw(st.integers(0, 100)) if approved else None,
                      submitted_at=when - timedelta(days=draw(st.integers(0, 3))) if status != "assigned" else None,
                      approved_at=when if approved else None)


innovations = st.builds(
    lambda i, offset: innovation_event(PEG1, f"ino-{i}", datetime.combine(
        START + timedelta(days=offset), datetime.min.time(), WIB) + timedelta(hours=10)),
    st.integers(0, 3), st.sampled_from(DAY_OFFSETS))

event_sets = st.lists(st.one_of(days, task_events(), innovations), min_size=1, max_size=14,
                      unique_by=lambda e: e.id)


@pytest.fixture(scope="module")
def two_databases():
    folder = Path(tempfile.mkdtemp(prefix="penilaian-prop-"))
    ordered = make_penilaian(f"sqlite:///{folder / 'ordered.db'}")
    shuffled = make_penilaian(f"sqlite:///{folder / 'shuffled.db'}")
    yield ordered, shuffled
    for p in (ordered, shuffled):
        p.runtime.dispose()


def reset(p):
    with p.runtime.engine.begin() as conn:
        for table in reversed(metadata.sorted_tables):
            conn.execute(table.delete())
    p.apply(roster_event(PEG1, "Pegawai Satu"))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(events=event_sets, data=st.data())
def test_any_permutation_with_duplicates_gives_the_same_scores(two_databases, events, data):
    ordered, shuffled = two_databases
    reset(ordered)
    reset(shuffled)
    again = data.draw(st.lists(st.sampled_from(events), max_size=6), label="duplicates")
    permuted = data.draw(st.permutations(events + again), label="order")
    ordered.apply(*events)
    shuffled.apply(*permuted)
    expected = ordered.scores()
    assert shuffled.scores() == expected
    for nip, period in expected:
        row = ordered.score(nip, period)
        for component in ("disiplin", "produktivitas", "perilaku"):
            value = getattr(row, component)
            points = sum((D(e["points"]) for e in row.detail["ledger"] if e["component"] == component), D(0))
            assert points == (value if value is not None else 0), (period, component)
