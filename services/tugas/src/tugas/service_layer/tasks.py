"""Task handlers: one transaction per command, the row and its event (outbox) written together.

Every change is a conditional ``UPDATE tasks ... WHERE id = :id AND version = :read_version``: of
two racing approvals one updates the row and the other finds it changed and gets a conflict. That
holds on PostgreSQL (the second UPDATE waits for the first's row lock, then re-checks the version)
and on SQLite (writers are serialised by ``BEGIN IMMEDIATE``; the second reads the approved row).
"""
from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from kinerja.auth import SUPERVISING_ROLES
from kinerja.events.tugas import TASK_ASSIGNED, TASK_PROPOSED, TASK_RESCHEDULED, TASK_SUBMITTED
from kinerja.messaging.outbox import Outbox
from tugas.adapters.orm import Employee, RhkRow, SkpRow, TaskRow
from tugas.domain import tasks as rules
from tugas.domain.errors import RuleError
from tugas.domain.tasks import Task
from tugas.service_layer.context import Actor, utcnow
from tugas.service_layer.overdue import flag_overdue  # noqa: F401 - re-exported: a task's life and its sweep, one import
from tugas.service_layer.roster import supervisor_of
from tugas.service_layer.task_events import EVENT_OF_STATUS, evidence_listed, task_event, to_domain


class TaskNotFound(Exception):
    pass


class UnknownRhk(RuleError):
    pass


class ConcurrentUpdate(RuleError):
    """The row changed since it was read (another approval won, or the caller's version is stale)."""


# -- commands ---------------------------------------------------------------------------------
def assign_task(session: Session, outbox: Outbox, actor: Actor, *, assignee_nip: str, title: str,
                due_date: date, target_quantity: Decimal, today: date, rhk_id: str | None = None,
                category: str | None = None, description: str | None = None,
                now: datetime | None = None, task_id: str | None = None) -> TaskRow:
    """``task_id``: a caller-chosen id (a history loaded again finds its tasks), else a new one."""
    now = now or utcnow()
    task_id = task_id or str(uuid.uuid4())
    assignee = session.get(Employee, assignee_nip)
    if assignee is None or not assignee.active or assignee.agency != actor.agency:
        raise rules.NotAllowed("the assignee is not in your team")
    if rhk_id is not None:
        rhk = session.get(RhkRow, rhk_id)
        if rhk is None or rhk.nip != assignee_nip:
            raise UnknownRhk(f"unknown RHK {rhk_id!r} for {assignee_nip}")
        _check_rhk_year(session, rhk_id, due_date)
    if assignee_nip == actor.nip:
        # an ASN (or a supervisor for their own work) proposes; their supervisor accepts or rejects
        task = rules.propose(task_id=task_id, actor_nip=assignee_nip, actor_atasan_nip=assignee.atasan_nip,
                             title=title, due_date=due_date, target_quantity=target_quantity, today=today,
                             rhk_id=rhk_id, category=category)
    else:
        if actor.role not in SUPERVISING_ROLES:
            raise rules.NotAllowed("only a supervisor assigns tasks to others; propose your own instead")
        task = rules.assign(task_id=task_id, assignee_nip=assignee_nip,
                            assignee_atasan_nip=assignee.atasan_nip, actor_nip=actor.nip or "",
                            title=title, due_date=due_date, target_quantity=target_quantity, today=today,
                            rhk_id=rhk_id, category=category)
    row = TaskRow(
        id=task.id, agency=assignee.agency, nip=task.nip, atasan_nip=task.atasan_nip, assigned_by=actor.nip,
        title=task.title, description=description, category=task.category, rhk_id=task.rhk_id,
        status=task.status, due_date=task.due_date, target_quantity=task.target_quantity, links=[],
        created_at=now, updated_at=now, version=task.version,
    )
    session.add(row)
    session.flush()
    if task.status == rules.ASSIGNED:
        outbox.add(session, task_event(TASK_ASSIGNED, task, row.agency, now))
    elif task.status == rules.PROPOSED:  # the ASN's own: it waits for the supervisor to accept it
        outbox.add(session, task_event(TASK_PROPOSED, task, row.agency, now))
    return row


def _check_rhk_year(session: Session, rhk_id: str, due_date: date) -> None:
    """A task's RHK must be in the SKP of the year the task is due."""
    rhk = session.get(RhkRow, rhk_id)
    skp = session.get(SkpRow, rhk.skp_id) if rhk is not None else None
    if skp is not None and skp.year != due_date.year:
        raise UnknownRhk(f"RHK {rhk_id!r} belongs to the SKP of {skp.year}; the task is due in {due_date.year}")


def load_task(session: Session, actor: Actor, task_id: str) -> TaskRow:
    """The task, if it belongs to the caller's agency (another agency's tasks do not exist for them)."""
    row = session.get(TaskRow, task_id)
    if row is None or row.agency != actor.agency:
        raise TaskNotFound(task_id)
    return row


def change_task(session: Session, outbox: Outbox, actor: Actor, task_id: str, action: str, *,
                expected_version: int | None = None, now: datetime | None = None, **args: Any) -> TaskRow:
    """Apply one lifecycle action (start, submit, approve, return, cancel; accept or reject a
    proposal; reschedule: the supervisor changes due date, title or target) and publish its event."""
    now = now or utcnow()
    row = load_task(session, actor, task_id)
    if expected_version is not None and expected_version != row.version:
        raise ConcurrentUpdate(f"task changed since version {expected_version} (now at version {row.version})")
    task = to_domain(row)
    nip = actor.nip or ""
    if action == "start":
        new = rules.start(task, actor_nip=nip)
    elif action == "submit":
        new = rules.submit(task, actor_nip=nip, at=now, note=args.get("note"), links=tuple(args.get("links") or ()))
    elif action == "approve":
        new = rules.approve(task, actor_nip=nip, supervisor_nip=supervisor_of(session, task.nip), at=now,
                            realised_quantity=args["realised_quantity"], quality=args["quality"],
                            note=args.get("note"))
    elif action == "return":
        new = rules.return_for_revision(task, actor_nip=nip, supervisor_nip=supervisor_of(session, task.nip),
                                        feedback=args.get("feedback") or "")
    elif action == "accept":
        new = rules.accept(task, actor_nip=nip, supervisor_nip=supervisor_of(session, task.nip), today=args["today"],
                           due_date=args.get("due_date"), target_quantity=args.get("target_quantity"))
    elif action == "reject":
        new = rules.reject(task, actor_nip=nip, supervisor_nip=supervisor_of(session, task.nip),
                           reason=args.get("reason") or "")
    elif action == "cancel":
        new = rules.cancel(task, actor_nip=nip, supervisor_nip=supervisor_of(session, task.nip),
                           reason=args.get("reason"))
    elif action == "reschedule":
        new = rules.reschedule(task, actor_nip=nip, supervisor_nip=supervisor_of(session, task.nip),
                               due_date=args.get("due_date"), title=args.get("title"),
                               target_quantity=args.get("target_quantity"))
        if new.rhk_id is not None and new.due_date.year != task.due_date.year:
            _check_rhk_year(session, new.rhk_id, new.due_date)
    else:  # pragma: no cover - the API only routes the actions above
        raise ValueError(action)
    # a new due date is judged afresh by the overdue sweep (flagged again if it has passed too)
    _save(session, row, task.version, new, now, reset_overdue=new.due_date != task.due_date)
    extra: dict[str, Any] = {}
    if action == "reschedule":
        # what happened, said as such: the task's state under its new terms, and the terms before
        event_type = TASK_RESCHEDULED
        extra = {"previous_due_date": task.due_date, "previous_title": task.title,
                 "previous_target_quantity": task.target_quantity, "rescheduled_by": actor.nip}
    else:
        event_type = EVENT_OF_STATUS.get(new.status)
        if event_type == TASK_SUBMITTED:
            extra = {"evidence": evidence_listed(session, row.id)}
    if event_type:
        outbox.add(session, task_event(event_type, new, row.agency, now, **extra))
    return row


def _save(session: Session, row: TaskRow, read_version: int, new: Task, now: datetime, *,
          reset_overdue: bool = False) -> None:
    values: dict[str, Any] = dict(
        status=new.status, atasan_nip=new.atasan_nip, title=new.title, due_date=new.due_date,
        target_quantity=new.target_quantity, realised_quantity=new.realised_quantity,
        quality=new.quality, submitted_at=new.submitted_at, approved_at=new.approved_at,
        note=new.note, links=list(new.links), version=new.version, updated_at=now)
    if reset_overdue:
        values["overdue_at"] = None
    result = session.execute(
        update(TaskRow)
        .where(TaskRow.id == row.id, TaskRow.version == read_version)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise ConcurrentUpdate("the task was changed by someone else at the same time; reload it and try again")
    session.refresh(row)
