"""A task as its events tell it: the row as a domain ``Task``, the ``TaskState`` payload every task
event carries, and which event each new status publishes."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kinerja.events import make_event
from kinerja.events.envelope import Event
from kinerja.events.tugas import TASK_APPROVED, TASK_ASSIGNED, TASK_CANCELLED, TASK_RETURNED, TASK_SUBMITTED
from tugas.adapters.orm import EvidenceRow, TaskRow
from tugas.domain import tasks as rules
from tugas.domain.tasks import Task
from tugas.service_layer.context import SOURCE, as_utc

EVENT_OF_STATUS = {
    rules.ASSIGNED: TASK_ASSIGNED,
    rules.SUBMITTED: TASK_SUBMITTED,
    rules.APPROVED: TASK_APPROVED,
    rules.RETURNED: TASK_RETURNED,
    rules.CANCELLED: TASK_CANCELLED,
    # in_progress is not an event of its own: penilaian scores nothing on it
}


def to_domain(row: TaskRow) -> Task:
    return Task(
        id=row.id, nip=row.nip, atasan_nip=row.atasan_nip, title=row.title, due_date=row.due_date,
        target_quantity=Decimal(row.target_quantity), status=row.status, rhk_id=row.rhk_id,
        category=row.category,
        realised_quantity=Decimal(row.realised_quantity) if row.realised_quantity is not None else None,
        quality=row.quality, submitted_at=as_utc(row.submitted_at), approved_at=as_utc(row.approved_at),
        note=row.note, links=tuple(row.links or ()), version=row.version,
    )


def task_state(task: Task) -> dict[str, Any]:
    """The ``TaskState`` payload of every task event."""
    return {
        "task_id": task.id, "nip": task.nip, "atasan_nip": task.atasan_nip, "title": task.title,
        "rhk_id": task.rhk_id, "status": task.status, "due_date": task.due_date,
        "target_quantity": task.target_quantity, "realised_quantity": task.realised_quantity,
        "quality": task.quality, "submitted_at": as_utc(task.submitted_at),
        "approved_at": as_utc(task.approved_at), "note": task.note, "category": task.category,
    }


def task_event(event_type: str, task: Task, agency: str, at: datetime | None = None, **extra: Any) -> Event:
    # the event's time is when the change happened (penilaian dates a task's open states by it)
    return make_event(event_type, subject=task.nip, agency=agency, source=SOURCE, data={**task_state(task), **extra},
                      time=at)


def evidence_listed(session: Session, task_id: str) -> list[dict[str, Any]]:
    """The task's evidence files as a submitted event lists them (oldest first)."""
    rows = session.execute(select(EvidenceRow).where(EvidenceRow.task_id == task_id)
                           .order_by(EvidenceRow.uploaded_at, EvidenceRow.id)).scalars()
    return [{"evidence_id": r.id, "name": r.filename, "size": r.size, "sha256": r.sha256,
             "content_type": r.content_type} for r in rows]
