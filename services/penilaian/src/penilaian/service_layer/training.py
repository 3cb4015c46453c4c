"""Training records and competency development: progress towards 20 JP a year, suggestions
drawn from the year's weak components."""
from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from penilaian.adapters.orm import DayFactRow, TaskFactRow, TrainingRow
from penilaian.domain.competency import jp_progress, suggest_training


# recording a training: ``service_layer.scoring.record_training`` (row + event, one transaction)
from penilaian.service_layer.scoring import record_training  # noqa: E402,F401


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
    return {
        "nip": nip, "year": year,
        "records": [{"id": r.id, "title": r.title, "jp": r.jp, "date": r.day.isoformat(), "provider": r.provider}
                    for r in records],
        **jp_progress(r.jp for r in records),
        "suggestions": [s.__dict__ for s in suggest_training(codes, tasks)],
    }
