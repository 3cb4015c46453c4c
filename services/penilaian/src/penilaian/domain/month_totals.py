"""A month's facts reduced to the sums its scores are made of, and scores as folds of them.

Disiplin and produktivitas of any period are functions of a few sums over its days, tasks and
innovations: the workdays known and their deductions, the scores of the tasks that count and how
many, the innovations approved. A month's sums are computed once from its facts; a quarter's or a
year's are the sums of its months (exact: ``Decimal`` and ints), so a quarter or a year is scored
without reading its facts. ``score_of_totals`` of the fold equals ``compute_score`` over the
period's facts, digit for digit (``tests/unit/test_month_totals.py``).

One part depends on the policy: a task handed in late scores by the policy's timeliness penalty
per day. The sums name the penalty their task scores were taken under and how many late tasks are
in them; a fold under another penalty needs that month's task sums again (``needs_tasks_for``).
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Iterable

from penilaian.domain.berakhlak import berakhlak_score
from penilaian.domain.components import score_task
from penilaian.domain.decimals import HUNDRED, ZERO, q2
from penilaian.domain.periods import Period
from penilaian.domain.score import Score
from penilaian.domain.score_facts import APPROVED, DayFact, InnovationFact, Rating, TaskFact
from penilaian.domain.score_policy import DEFAULT_POLICY, Policy
from penilaian.domain.scoring import combine


@dataclass(frozen=True)
class MonthTotals:
    workdays: int = 0  # workday facts known
    deductions: Decimal = ZERO  # the sum of their deduction percents
    task_sum: Decimal = ZERO  # the scores of the tasks that count (due in the period)
    task_count: int = 0
    late_tasks: int = 0  # approved tasks handed in after their due date: scored by ``penalty``
    penalty: Decimal = DEFAULT_POLICY.timeliness_penalty_per_day
    innovations: int = 0

    def __add__(self, other: MonthTotals) -> MonthTotals:
        if self.late_tasks and other.late_tasks and self.penalty != other.penalty:
            raise ValueError("task sums taken under different timeliness penalties do not add up")
        return MonthTotals(self.workdays + other.workdays, self.deductions + other.deductions,
                           self.task_sum + other.task_sum, self.task_count + other.task_count,
                           self.late_tasks + other.late_tasks,
                           self.penalty if self.late_tasks else other.penalty,
                           self.innovations + other.innovations)

    @property
    def empty(self) -> bool:
        return not (self.workdays or self.task_count or self.innovations or self.deductions)

    def needs_tasks_for(self, policy: Policy) -> bool:
        """Its task sum is not the one ``policy`` would give (late tasks, another penalty)."""
        return bool(self.late_tasks) and self.penalty != policy.timeliness_penalty_per_day


def _late(task: TaskFact) -> bool:
    handed_in = task.submitted_on or task.approved_on
    return task.status == APPROVED and handed_in is not None and handed_in > task.due_date


def day_totals(period: Period, days: Iterable[DayFact]) -> tuple[int, Decimal]:
    workdays, deductions = 0, ZERO
    for d in days:
        if d.workday and d.day in period:
            workdays += 1
            for x in d.deductions:
                deductions += x.percent
    return workdays, deductions


def task_totals(period: Period, tasks: Iterable[TaskFact], policy: Policy) -> tuple[Decimal, int, int]:
    total, count, late = ZERO, 0, 0
    for t in tasks:
        if t.due_date in period:
            s = score_task(t, policy)
            if s is not None:
                total += s.score
                count += 1
                late += _late(t)
    return total, count, late


def totals_of(period: Period, *, days: Iterable[DayFact] = (), tasks: Iterable[TaskFact] = (),
              innovations: Iterable[InnovationFact] = (), policy: Policy = DEFAULT_POLICY) -> MonthTotals:
    """The sums of the facts that fall in ``period`` (a month, as stored; any period works)."""
    workdays, deductions = day_totals(period, days)
    task_sum, task_count, late = task_totals(period, tasks, policy)
    return MonthTotals(workdays, deductions, task_sum, task_count, late, policy.timeliness_penalty_per_day,
                       sum(1 for i in innovations if i.approved_on in period))


def fold(months: Iterable[MonthTotals]) -> MonthTotals:
    out = MonthTotals()
    for m in months:
        out = out + m
    return out


def disiplin_of(t: MonthTotals) -> Decimal | None:
    if not t.workdays:
        return None
    return q2(max(ZERO, HUNDRED - t.deductions))


def produktivitas_of(t: MonthTotals, policy: Policy) -> Decimal | None:
    if not t.task_count:
        return None
    base = q2(t.task_sum / Decimal(t.task_count))
    points = ZERO
    for _ in range(t.innovations):  # each as ``components.produktivitas`` adds it, up to the cap
        points += min(policy.innovation_points, policy.innovation_cap - points)
    return q2(min(HUNDRED, base + points))


def score_of_totals(period: Period, totals: MonthTotals, rating: Rating | None = None,
                    policy: Policy = DEFAULT_POLICY) -> Score:
    """The period's score from its sums (values only: the ledger is assembled from the facts
    when it is read)."""
    if totals.needs_tasks_for(policy):
        raise ValueError("the task sum was taken under another timeliness penalty")
    return combine(period, disiplin_of(totals), produktivitas_of(totals, policy), berakhlak_score(rating, policy),
                   policy)
