"""The queries behind an evaluation document: an ASN's tasks due in a period, the feedback on their
work, the dialogs kinerja held in a period."""
from __future__ import annotations

from datetime import date
from typing import Iterable, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from penilaian.adapters.orm import DialogRow, FeedbackFactRow, TaskFactRow


def tasks_due(session: Session, nip: str, start: date, end: date) -> Sequence[TaskFactRow]:
    return session.execute(select(TaskFactRow).where(
        TaskFactRow.nip == nip, TaskFactRow.due_date >= start, TaskFactRow.due_date <= end)).scalars().all()


def feedback_on(session: Session, nip: str) -> Iterable[FeedbackFactRow]:
    """Every feedback message on the ASN's work, oldest first."""
    return session.execute(select(FeedbackFactRow).where(FeedbackFactRow.nip == nip)
                           .order_by(FeedbackFactRow.posted_at, FeedbackFactRow.message_id)).scalars()


def dialogs_held(session: Session, nip: str, start: date, end: date) -> Sequence[DialogRow]:
    return session.execute(select(DialogRow).where(
        DialogRow.nip == nip, DialogRow.day >= start, DialogRow.day <= end)
        .order_by(DialogRow.day, DialogRow.id)).scalars().all()
