"""The overdue sweep: ``tugas.task.overdue.v1`` once for each task past its due date and not finished."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from kinerja.db import planned_each_time
from kinerja.events.tugas import TASK_OVERDUE
from kinerja.messaging.outbox import Outbox
from tugas.adapters.orm import TaskRow
from tugas.domain import tasks as rules
from tugas.domain.tasks import FINISHED
from tugas.service_layer.context import utcnow
from tugas.service_layer.task_events import task_event, to_domain

NOT_DUE = (*FINISHED, rules.PROPOSED)  # never overdue: finished, or not accepted yet
# the statuses that may fall due, named (not as "not one of NOT_DUE"): the sweep's read is then a
# range of the open tasks' index (``ix_tasks_open_due``: status, due date) per status, the tasks
# open and past due; as ``status NOT IN NOT_DUE`` it could only walk every task ever made
# (finished ones never leave the table), once a minute (``test_consumer_plans``)
MAY_FALL_DUE = tuple(s for s in rules.STATUSES if s not in NOT_DUE)


def flag_overdue(session: Session, outbox: Outbox, *, today: date, now: datetime | None = None,
                 limit: int = 500) -> int:
    """Publish ``tugas.task.overdue.v1`` once for each task past its due date and not finished."""
    now = now or utcnow()
    # planned with its values each time: an idle consumer runs it every minute, and a plan kept
    # from an empty table's (psycopg prepares it after five runs) walks the table once it has rows
    with planned_each_time(session):
        rows = session.execute(
            select(TaskRow)
            .where(TaskRow.status.in_(MAY_FALL_DUE), TaskRow.due_date < today, TaskRow.overdue_at.is_(None))
            .order_by(TaskRow.due_date, TaskRow.id)
            .limit(limit)
        ).scalars().all()
    flagged = 0
    for row in rows:
        task = to_domain(row)
        if not rules.is_overdue(task, today=today):
            continue
        # conditional: an approval, a reschedule or a second flagger committing meanwhile makes this
        # a no-op (the event carries the task as read: a stale due date must never be published)
        result = session.execute(
            update(TaskRow)
            .where(TaskRow.id == row.id, TaskRow.version == row.version, TaskRow.overdue_at.is_(None),
                   TaskRow.status.not_in(NOT_DUE))
            .values(overdue_at=now)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:
            continue
        outbox.add(session, task_event(TASK_OVERDUE, task, row.agency, now))
        flagged += 1
    return flagged
