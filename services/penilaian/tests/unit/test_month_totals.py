"""Scores folded from month totals equal scores computed from the facts, digit for digit: for
random fact sets over a year (days with and without deductions, tasks in every state, on time and
late, innovations past the cap, ratings, policies with other penalties and points), the month,
quarter and year by ``score_of_totals`` of the summed months are ``compute_score``'s values."""
from __future__ import annotations

import random
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal as D

import pytest

from penilaian.domain.month_totals import MonthTotals, fold, score_of_totals, task_totals, totals_of
from penilaian.domain.periods import month, months_of, quarter, year
from penilaian.domain.scoring import (
    BERAKHLAK_VALUES,
    DEFAULT_POLICY,
    DayDeduction,
    DayFact,
    InnovationFact,
    Rating,
    TaskFact,
    compute_score,
)

YEAR = 2026
STATUSES = ("assigned", "submitted", "returned", "approved", "approved", "cancelled")


def _day(rng: random.Random, d: date, n: int) -> DayFact:
    deductions = tuple(DayDeduction(code, D(rng.choice(("0.5", "1", "1.25", "2.5", "3", "7.5", "12.35"))))
                       for code in rng.sample(("TL1", "TL2", "PSW1", "TK"), rng.choice((0, 0, 0, 1, 2))))
    return DayFact(day=d, event_id=f"d{n}", workday=rng.random() < 0.9, deductions=deductions,
                   corrected=rng.random() < 0.05)


def _task(rng: random.Random, n: int) -> TaskFact:
    due = date(YEAR, 1, 1) + timedelta(days=rng.randrange(365))
    status = rng.choice(STATUSES)
    handed = due + timedelta(days=rng.choice((-3, 0, 0, 1, 2, 5, 12))) if status in ("approved", "submitted") else None
    return TaskFact(task_id=f"t{n}", title=f"tugas {n}", status=status, due_date=due,
                    target_quantity=D(rng.choice((0, 1, 3, 10))), event_id=f"e{n}",
                    realised_quantity=D(rng.choice(("1", "2", "2.5", "7", "11"))) if rng.random() < 0.8 else None,
                    quality=rng.choice((None, 55, 70, 88, 100)), submitted_on=handed,
                    approved_on=handed if status == "approved" else None, overdue=rng.random() < 0.4)


def _facts(rng: random.Random):
    # a few months heavy, some empty, days not every workday known
    days = [_day(rng, date(YEAR, 1, 1) + timedelta(days=i), i) for i in range(365) if rng.random() < 0.6]
    tasks = [_task(rng, n) for n in range(rng.randrange(0, 40))]
    innovations = [InnovationFact(f"i{n}", f"inovasi {n}", date(YEAR, 1, 1) + timedelta(days=rng.randrange(365)),
                                  f"ie{n}") for n in range(rng.choice((0, 0, 1, 3, 8)))]
    return days, tasks, innovations


def _policy(rng: random.Random):
    return replace(DEFAULT_POLICY, timeliness_penalty_per_day=D(rng.choice(("10", "7.5", "3", "33.33"))),
                   innovation_points=D(rng.choice(("5", "2.5", "7"))),
                   innovation_cap=D(rng.choice(("10", "6", "0", "12.5"))),
                   weight_hasil_kerja=D(rng.choice(("0.6", "0.7"))),
                   weight_perilaku=D("1") - D(rng.choice(("0.6", "0.7"))))


def _rating(rng: random.Random) -> Rating | None:
    if rng.random() < 0.3:
        return None
    return Rating({v: rng.choice(("below", "meets", "above")) for v in rng.sample(BERAKHLAK_VALUES, 4)}, "r1")


PERIODS = [month(YEAR, m) for m in range(1, 13)] + [quarter(YEAR, q) for q in range(1, 5)] + [year(YEAR)]


@pytest.mark.parametrize("seed", range(60))
def test_folded_months_give_the_full_computation(seed):
    rng = random.Random(seed)
    days, tasks, innovations = _facts(rng)
    month_policy = _policy(rng)  # the months' own policy; quarters and years may be under another
    stored = {m.name: totals_of(m, days=days, tasks=tasks, innovations=innovations, policy=month_policy)
              for m in months_of(year(YEAR))}
    for period in PERIODS:
        policy = month_policy if rng.random() < 0.5 else _policy(rng)
        rating = _rating(rng)
        parts = []
        for m in months_of(period):
            t = stored[m.name]
            if t.needs_tasks_for(policy):  # as the recompute does: that month's tasks again
                s, c, late = task_totals(m, tasks, policy)
                t = replace(t, task_sum=s, task_count=c, late_tasks=late, penalty=policy.timeliness_penalty_per_day)
            parts.append(t)
        folded = score_of_totals(period, fold(parts), rating, policy)
        full = compute_score(period, days=days, tasks=tasks, innovations=innovations, rating=rating, policy=policy)
        assert folded.values() == full.values(), (seed, period.name)
        assert folded.berakhlak == full.berakhlak
        assert folded.values()["predikat"] == full.predikat


def test_the_fold_covers_what_moves_a_score():
    """Some of the random sets reach each edge: disiplin floored at 0, productivity capped at 100,
    innovations past the cap, late tasks under another penalty, periods with nothing rated."""
    seen = set()
    for seed in range(60):
        rng = random.Random(seed)
        days, tasks, innovations = _facts(rng)
        y = compute_score(year(YEAR), days=days, tasks=tasks, innovations=innovations)
        if y.disiplin == 0:
            seen.add("floored")
        if 0 < compute_score(month(YEAR, 1 + seed % 12), days=days).disiplin < 100:
            seen.add("disiplin")
        seen.add("capped" if y.produktivitas == 100 else "unrated" if y.produktivitas is None else "rated")
        t = totals_of(year(YEAR), days=days, tasks=tasks, innovations=innovations)
        if t.late_tasks:
            seen.add("late")
        if len(innovations) >= 3:
            seen.add("past the cap")
    assert {"floored", "disiplin", "capped", "unrated", "rated", "late", "past the cap"} <= seen


def test_sums_under_different_penalties_refuse_to_add():
    a = MonthTotals(task_sum=D("90"), task_count=1, late_tasks=1, penalty=D("10"))
    b = MonthTotals(task_sum=D("80"), task_count=1, late_tasks=1, penalty=D("5"))
    with pytest.raises(ValueError):
        _ = a + b
    assert (a + MonthTotals(task_sum=D("80"), task_count=1)).task_count == 2
    with pytest.raises(ValueError):
        score_of_totals(month(YEAR, 1), a, None, replace(DEFAULT_POLICY, timeliness_penalty_per_day=D("5")))
