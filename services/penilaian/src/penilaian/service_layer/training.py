"""Training records and competency development: progress towards 20 JP a year, suggestions
drawn from the year's weak components."""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from penilaian.adapters.orm import DayFactRow, DialogRow, Employee, RatingRow, TaskFactRow, TrainingRow
from penilaian.domain.competency import FollowUp, jp_progress, suggest_training
from penilaian.domain.periods import parse_period
from penilaian.domain.scoring import APPROVED, BELOW, CANCELLED, score_task
from penilaian.adapters.fact_queries import task_fact
from penilaian.service_layer.recompute import Policies


# recording a training: ``service_layer.commands.record_training`` (row + event, one transaction)
from penilaian.service_layer.commands import record_training  # noqa: E402,F401


def month_of(day: date):
    return parse_period(f"{day.year:04d}-{day.month:02d}")


def _timeliness(session: Session, nip: str, start: date, end: date) -> list[Decimal]:
    """Timeliness of the year's tasks that count: approved ones by the policy in force for their
    due month (the agency's penalty per late day), and 0 for those past due and not approved."""
    emp = session.get(Employee, nip)
    policies = Policies(session)
    out = []
    for row in session.execute(select(TaskFactRow).where(
            TaskFactRow.nip == nip, TaskFactRow.due_date >= start, TaskFactRow.due_date <= end)).scalars():
        fact = task_fact(row)
        if fact.status == APPROVED:
            policy = policies.for_period(emp.agency if emp else row.agency, month_of(fact.due_date))
            scored = score_task(fact, policy)
            if scored is not None and scored.timeliness is not None:
                out.append(scored.timeliness)
        elif fact.status != CANCELLED and fact.overdue:
            out.append(Decimal(0))
    return out


def training_view(session: Session, nip: str, year: int) -> dict[str, Any]:
    start, end = date(year, 1, 1), date(year, 12, 31)
    records = session.execute(
        select(TrainingRow).where(TrainingRow.nip == nip, TrainingRow.day >= start, TrainingRow.day <= end)
        .order_by(TrainingRow.day, TrainingRow.id)
    ).scalars().all()
    codes = [d["code"] for r in session.execute(select(DayFactRow).where(
        DayFactRow.nip == nip, DayFactRow.day >= start, DayFactRow.day <= end, DayFactRow.workday.is_(True))
    ).scalars() for d in r.deductions]
    tasks = [(t.category, t.quality) for t in session.execute(select(TaskFactRow).where(
        TaskFactRow.nip == nip, TaskFactRow.due_date >= start, TaskFactRow.due_date <= end,
        TaskFactRow.status == "approved")).scalars()]
    # the supervisor's ratings of the year's months, quarters and the year itself
    below = [(value, r.period) for r in session.execute(select(RatingRow).where(
        RatingRow.nip == nip, RatingRow.rater == "atasan", RatingRow.period.like(f"{year}%"))).scalars()
        for value, lvl in sorted((r.levels or {}).items()) if lvl == BELOW]
    follow_ups = [FollowUp(d.day, d.follow_up or "", tuple(d.values or ())) for d in session.execute(
        select(DialogRow).where(DialogRow.nip == nip, DialogRow.day >= start, DialogRow.day <= end)).scalars()]
    return {
        "nip": nip, "year": year,
        "records": [{"id": r.id, "title": r.title, "jp": r.jp, "date": r.day.isoformat(), "provider": r.provider}
                    for r in records],
        **jp_progress(r.jp for r in records),
        "suggestions": [s.__dict__ for s in suggest_training(
            codes, tasks, below_values=below, follow_ups=follow_ups,
            timeliness=_timeliness(session, nip, start, end))],
    }
