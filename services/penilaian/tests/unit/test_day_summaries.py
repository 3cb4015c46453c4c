"""The day-fact rule in one place (``domain.day_summaries``): the rebuild's fold uses it, and the
live path's ``store_day_fact`` stores the same values and keeps the same summary of two."""
from datetime import date
from decimal import Decimal

import pytest

from kinerja.events import decode_event, make_event
from kinerja.events.kehadiran import DAY_SUMMARIZED
from penilaian.domain.day_summaries import day_values, supersedes
from penilaian.service_layer.facts import store_day_fact
from penilaian.service_layer.replay import _MemoryBatch

pytestmark = pytest.mark.unit
NIP = "199501012020011003"


def summary(version, event_id, **data):
    return decode_event(make_event(DAY_SUMMARIZED, subject=NIP, agency="dinkes", source="t", event_id=event_id, data={
        "nip": NIP, "date": date(2026, 11, 2), "version": version, "final": False, "workday": True,
        **data}).to_bytes())


def test_the_higher_version_wins_and_a_tie_goes_to_the_greater_event_id():
    assert supersedes(2, "a", 1, "z")
    assert not supersedes(1, "z", 2, "a")
    assert supersedes(1, "b", 1, "a")
    assert not supersedes(1, "a", 1, "a")  # the same summary again changes nothing


@pytest.mark.parametrize("data", [
    {"workday": True, "deductions": [{"code": "TL1", "percent": Decimal("0.50"), "minutes": 7}],
     "punch_event_ids": ["p1", "p2"], "corrected": True},
    {"workday": False, "excused": "cuti", "deductions": [], "punch_event_ids": []},
    {"workday": True, "deductions": [{"code": "TK", "percent": Decimal("4")}]},
])
def test_the_live_path_stores_what_the_rule_says(data):
    event = summary(1, "e1", **data)
    batch = _MemoryBatch()
    store_day_fact(None, event, batch)
    row = batch.day_rows[(NIP, date(2026, 11, 2))]  # the plain row ``Batch.write_days`` writes
    assert {k: row[k] for k in day_values(event.data)} == day_values(event.data)


def test_the_live_path_keeps_the_summary_the_rule_keeps():
    batch = _MemoryBatch()
    for version, event_id in ((1, "b"), (2, "a"), (1, "z"), (2, "c"), (2, "b")):
        event = summary(version, event_id)
        row = batch.day_rows.get((NIP, date(2026, 11, 2)))
        held = None if row is None else (row["version"], row["event_id"])
        changed = store_day_fact(None, event, batch) is not None
        assert changed == (held is None or supersedes(version, event_id, *held))
    kept = batch.day_rows[(NIP, date(2026, 11, 2))]
    assert (kept["version"], kept["event_id"]) == (2, "c")


def test_a_day_fact_built_at_once_is_the_one_its_constructor_builds():
    from penilaian.domain.score_facts import DayDeduction, DayFact

    deductions = (DayDeduction("TL1", Decimal("0.5"), 12),)
    for fields in [dict(workday=True, excused=None, corrected=False),
                   dict(workday=False, excused="cuti", corrected=True, deductions=deductions, punch_event_ids=("p1",))]:
        built = DayFact.of(date(2026, 11, 3), "e1", **fields)
        made = DayFact(day=date(2026, 11, 3), event_id="e1", **fields)
        assert built == made and hash(built) == hash(made) and repr(built) == repr(made)
        assert vars(built) == vars(made)
