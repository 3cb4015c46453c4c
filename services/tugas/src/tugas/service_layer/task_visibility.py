"""Which tasks a caller sees (their own; a supervisor also their team's; an admin the agency's)
and the task list they page through."""
from __future__ import annotations

from datetime import date

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from kinerja.auth import SUPERVISING_ROLES
from tugas.adapters.orm import Employee, TaskRow
from tugas.domain.errors import NotAllowed
from tugas.service_layer.context import Actor
from tugas.service_layer.roster import supervisor_of
from tugas.service_layer.tasks import load_task


def visible_tasks(actor: Actor):
    """Which tasks the caller may see: their own; an atasan also their team's; an admin the agency."""
    query = select(TaskRow).where(TaskRow.agency == actor.agency)
    if actor.role == "admin":
        return query
    if actor.role in SUPERVISING_ROLES:
        team = select(Employee.nip).where(Employee.atasan_nip == actor.nip)
        return query.where(or_(TaskRow.nip == actor.nip, TaskRow.atasan_nip == actor.nip, TaskRow.nip.in_(team)))
    return query.where(TaskRow.nip == actor.nip)


def can_see(session: Session, actor: Actor, row: TaskRow) -> bool:
    if row.agency != actor.agency:
        return False
    if actor.role == "admin" or row.nip == actor.nip:
        return True
    if actor.role in SUPERVISING_ROLES:
        return row.atasan_nip == actor.nip or supervisor_of(session, row.nip) == actor.nip
    return False



def read_task(session: Session, actor: Actor, task_id: str) -> TaskRow:
    """The task, if the caller may see it."""
    row = load_task(session, actor, task_id)
    if not can_see(session, actor, row):
        raise NotAllowed("this task is neither yours nor your team's")
    return row


def month_range(period: str) -> tuple[date, date]:
    year, month = (int(p) for p in period.split("-"))
    start = date(year, month, 1)
    end = date(year + (month == 12), month % 12 + 1, 1)
    return start, end


def list_tasks(session: Session, actor: Actor, *, assignee: str | None = None, status: str | None = None,
               period: str | None = None, rhk_id: str | None = None, limit: int = 50,
               offset: int = 0) -> tuple[list[TaskRow], int]:
    query = visible_tasks(actor)
    if assignee:
        query = query.where(TaskRow.nip == assignee)
    if status:
        query = query.where(TaskRow.status == status)
    if period:
        start, end = month_range(period)
        query = query.where(TaskRow.due_date >= start, TaskRow.due_date < end)
    if rhk_id:
        query = query.where(TaskRow.rhk_id == rhk_id)
    total = session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    rows = session.execute(
        query.order_by(TaskRow.due_date, TaskRow.created_at, TaskRow.id).limit(limit).offset(offset)
    ).scalars().all()
    return list(rows), total
