"""The demo's history plan (``kinerja.cli.demo_history``): reproducible from its seed and clock, and
the story issue 16 asks for is in it (what kinerja demo then loads through the services)."""
import json
from collections import Counter, defaultdict
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from kinerja.cli.demo import demo_roster
from kinerja.cli.demo_history import make_plan

pytestmark = pytest.mark.unit
WIB = ZoneInfo("Asia/Jakarta")
NOW = datetime(2026, 12, 3, 9, 40, tzinfo=WIB)  # a Thursday morning


def as_json(plan) -> str:
    return json.dumps({"history": plan.history, "punches": plan.punches, "ratings": plan.ratings,
                       "trainings": plan.trainings, "leaves": plan.leaves, "holidays": plan.holidays,
                       "roster": plan.roster, "absent": sorted(plan.absent_days)}, default=str, sort_keys=True)


@pytest.fixture(scope="module")
def plan():
    return make_plan(demo_roster(50), NOW, seed=7)


def test_the_same_seed_and_clock_give_the_same_plan(plan):
    assert as_json(make_plan(demo_roster(50), NOW, seed=7)) == as_json(plan)
    assert as_json(make_plan(demo_roster(50), NOW, seed=8)) != as_json(plan)


def test_three_complete_months_and_this_month_so_far(plan):
    assert plan.months == ["2026-09", "2026-10", "2026-11", "2026-12"]
    assert plan.first.isoformat() == "2026-09-01" and plan.today == NOW.date()
    assert all(r["tmt"] == "2026-09-01" and r["tpp"] > 0 for r in plan.roster)
    punched = [t for ps in plan.punches.values() for _, t in ps]
    assert max(punched) < NOW.replace(tzinfo=None)  # nothing from the future
    steps = [datetime.fromisoformat(s["at"]) for t in plan.history["tasks"] for s in t["steps"]]
    assert max(steps) < NOW


def test_attendance_has_the_realistic_spread(plan):
    arrivals = defaultdict(list)
    for ps in plan.punches.values():
        for pin, t in ps:
            arrivals[(pin, t.date())].append(t)
    assert {sn for sn, ps in plan.punches.items() if ps} == {"LMS0001", "LMS0002"}
    kinds = Counter()
    for (pin, day), times in arrivals.items():
        late = (min(times) - datetime.combine(day, time(7, 30))).total_seconds() // 60
        kinds["ontime" if late < 1 else "TL1" if late <= 30 else "TL2" if late <= 60 else "TL3+"] += 1
        end = datetime.combine(day, time(16, 30) if day.weekday() == 4 else time(16, 0))
        if len(times) == 1 and day < NOW.date():
            kinds["no departure"] += 1
        elif len(times) > 1 and max(times) < end:
            kinds["PSW"] += 1
    total = sum(kinds[k] for k in ("ontime", "TL1", "TL2", "TL3+"))
    assert kinds["ontime"] / total > 0.75  # most on time
    assert kinds["TL1"] > kinds["TL2"] > kinds["TL3+"] > 0  # some TL1–TL2, a few TL3/TL4
    assert kinds["PSW"] > 0 and kinds["no departure"] > 0
    tk = [(nip, day) for nip, day in plan.absent_days if day < NOW.date()]
    assert 4 <= len(tk) <= 10  # a handful of TK days
    assert sum(1 for _, day in plan.absent_days if day == NOW.date()) >= 3  # not arrived yet today
    assert sorted(kind for _, _, _, kind, _ in plan.leaves) == ["cuti", "dinas_luar", "sakit"]
    [(holiday, _)] = plan.holidays
    assert holiday.weekday() < 5 and plan.first < holiday < NOW.date() and holiday not in plan.workdays


def test_work_is_planned_approved_returned_late_and_overdue(plan):
    h = plan.history
    staff = {r["nip"] for r in plan.roster if r["atasan_nip"]}
    assert {(s["nip"], s["year"]) for s in h["skps"] if s["approved_at"]} == {(nip, 2026) for nip in staff}
    assert all(len(s["rhk"]) == 3 and all(r["indicators"] for r in s["rhk"]) for s in h["skps"])
    ends = Counter(t["steps"][-1]["action"] for t in h["tasks"])
    assert ends["approve"] > 300 and ends["submit"] >= 2 and ends["start"] >= 1  # waiting, still open
    returned = [t for t in h["tasks"] if any(s["action"] == "return" for s in t["steps"])]
    late = [t for t in h["tasks"] if t["steps"][-1]["action"] == "approve"
            and datetime.fromisoformat([s for s in t["steps"] if s["action"] == "submit"][-1]["at"]).date()
            > datetime.fromisoformat(t["due_date"]).date()]
    assert len(returned) >= 20 and len(late) >= 20
    overdue = [t for t in h["tasks"] if t["steps"][-1]["action"] == "start"
               and datetime.fromisoformat(t["due_date"]).date() < NOW.date()]
    unit_of = {r["nip"]: r["unit"] for r in plan.roster}
    assert Counter(unit_of[t["nip"]] for t in overdue) == {u: 1 for u in set(unit_of.values())}  # one per unit
    qualities = [t["steps"][-1]["quality"] for t in h["tasks"] if t["steps"][-1]["action"] == "approve"]
    assert min(qualities) < 60 < 90 < max(qualities)
    assert len({f["task_id"] for f in h["feedback"] if f.get("task_id")}) >= 5  # threads on tasks
    assert len([f for f in h["feedback"] if f.get("rhk")]) >= len(staff)  # feedback on the RHK
    assert sum(1 for i in h["innovations"] if i["approve"]) >= 3


def test_perception_gaps_training_and_the_organisation(plan):
    ratings = {(nip, period, rater): levels for nip, period, rater, levels in plan.ratings}
    two_apart = {(nip, period) for (nip, period, rater), levels in ratings.items() if rater == "atasan"
                 for v, lv in levels.items() if lv == "below" and ratings.get((nip, period, "self"), {}).get(v) == "above"}
    assert len({nip for nip, _ in two_apart}) >= 4
    assert any(period == "2026-12" for _, period in two_apart) and any(period == "2026-Q4" for _, period in two_apart)
    jp = Counter()
    for nip, _, hours, _, _ in plan.trainings:
        jp[nip] += hours
    staff = [r["nip"] for r in plan.roster if r["atasan_nip"]]
    past_20 = sum(1 for nip in staff if jp[nip] >= 20)
    assert 1 <= past_20 < len(staff) / 2  # some past 20 JP, most not
    assert plan.organisation == [("2026", "Baik")]
    assert plan.dialogs and plan.dialogs[0]["period"] == "2026-11"
