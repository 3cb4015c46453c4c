"""The task lifecycle (PermenPANRB 6/2022 work results): who may move a task, and where to.

    (proposed ->) assigned -> in_progress -> submitted -> approved
                                                |  ^
                                                v  |
                                             returned
    any state but approved/cancelled -> cancelled

A task is assigned by the supervisor, or proposed by the ASN and accepted (-> assigned) or
rejected (-> cancelled) by the supervisor.

Pure rules over plain values; no I/O. The service layer loads a ``Task``, asks a rule for the
next ``Task`` (or gets ``NotAllowed`` / ``IllegalTransition`` / ``InvalidInput``) and stores it.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal

from tugas.domain.errors import IllegalTransition, InvalidInput, NotAllowed

PROPOSED = "proposed"
ASSIGNED = "assigned"
IN_PROGRESS = "in_progress"
SUBMITTED = "submitted"
APPROVED = "approved"
RETURNED = "returned"
CANCELLED = "cancelled"
STATUSES = (PROPOSED, ASSIGNED, IN_PROGRESS, SUBMITTED, APPROVED, RETURNED, CANCELLED)
FINISHED = (APPROVED, CANCELLED)

# action -> the states it may start from
ALLOWED_FROM: dict[str, tuple[str, ...]] = {
    "start": (ASSIGNED,),
    "submit": (IN_PROGRESS, RETURNED),
    "approve": (SUBMITTED,),
    "return": (SUBMITTED,),
    "cancel": (ASSIGNED, IN_PROGRESS, SUBMITTED, RETURNED),
    "accept": (PROPOSED,),
    "reject": (PROPOSED,),
    "reschedule": (ASSIGNED, IN_PROGRESS, SUBMITTED, RETURNED),
}

__all__ = ["IllegalTransition", "InvalidInput", "NotAllowed", "Task"]


@dataclass(frozen=True)
class Task:
    id: str
    nip: str  # the assignee
    atasan_nip: str | None  # the supervisor who assigned it (or approved it last)
    title: str
    due_date: date
    target_quantity: Decimal
    status: str = ASSIGNED
    rhk_id: str | None = None
    category: str | None = None
    realised_quantity: Decimal | None = None
    quality: int | None = None
    submitted_at: datetime | None = None  # the latest submission; the approved one once approved
    approved_at: datetime | None = None
    note: str | None = None  # the note of the latest change (submission note, approval note, feedback)
    links: tuple[str, ...] = field(default_factory=tuple)
    version: int = 1


def _check_from(task: Task, action: str) -> None:
    allowed = ALLOWED_FROM[action]
    if task.status not in allowed:
        raise IllegalTransition(
            f"cannot {action} a task that is {task.status}; allowed from: {', '.join(allowed)}")


def _positive_quantity(value: Decimal, name: str) -> Decimal:
    if not isinstance(value, Decimal):
        value = Decimal(str(value))
    if not value.is_finite() or value <= 0:
        raise InvalidInput(f"{name} must be greater than 0")
    return value


def assign(*, task_id: str, assignee_nip: str, assignee_atasan_nip: str | None, actor_nip: str,
           title: str, due_date: date, target_quantity: Decimal, today: date,
           rhk_id: str | None = None, category: str | None = None) -> Task:
    """A supervisor assigns a task to a direct subordinate, due today or later."""
    if assignee_atasan_nip is None or assignee_atasan_nip != actor_nip:
        raise NotAllowed("only the direct supervisor of the assignee may assign them a task")
    if assignee_nip == actor_nip:
        raise NotAllowed("a supervisor cannot assign a task to themselves")
    title = (title or "").strip()
    if not title:
        raise InvalidInput("title is required")
    if due_date < today:
        raise InvalidInput(f"due_date {due_date.isoformat()} is in the past (today is {today.isoformat()})")
    return Task(id=task_id, nip=assignee_nip, atasan_nip=actor_nip, title=title, due_date=due_date,
                target_quantity=_positive_quantity(target_quantity, "target_quantity"),
                rhk_id=rhk_id, category=category)


def propose(*, task_id: str, actor_nip: str, actor_atasan_nip: str | None, title: str, due_date: date,
            target_quantity: Decimal, today: date, rhk_id: str | None = None, category: str | None = None) -> Task:
    """The ASN proposes a task for themselves; it waits for their supervisor to accept it."""
    if actor_atasan_nip is None:
        raise NotAllowed("you have no supervisor on the roster to accept a proposal")
    task = assign(task_id=task_id, assignee_nip=actor_nip, assignee_atasan_nip=actor_atasan_nip,
                  actor_nip=actor_atasan_nip, title=title, due_date=due_date, target_quantity=target_quantity,
                  today=today, rhk_id=rhk_id, category=category)
    return replace(task, status=PROPOSED)


def accept(task: Task, *, actor_nip: str, supervisor_nip: str | None, today: date,
           due_date: date | None = None, target_quantity: Decimal | None = None) -> Task:
    """The supervisor accepts a proposal as an assigned task, optionally with another due date or target."""
    _require_supervisor(task, actor_nip, supervisor_nip, "accept")
    _check_from(task, "accept")
    due = due_date or task.due_date
    if due < today:
        raise InvalidInput(f"due_date {due.isoformat()} is in the past (today is {today.isoformat()})")
    target = task.target_quantity if target_quantity is None else _positive_quantity(target_quantity, "target_quantity")
    return replace(task, status=ASSIGNED, atasan_nip=actor_nip, due_date=due, target_quantity=target, note=None,
                   version=task.version + 1)


def reject(task: Task, *, actor_nip: str, supervisor_nip: str | None, reason: str) -> Task:
    _require_supervisor(task, actor_nip, supervisor_nip, "reject")
    _check_from(task, "reject")
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("a reason is required when rejecting a proposal")
    return replace(task, status=CANCELLED, atasan_nip=actor_nip, note=reason, version=task.version + 1)


def _require_assignee(task: Task, actor_nip: str, action: str) -> None:
    if actor_nip != task.nip:
        raise NotAllowed(f"only the assignee may {action} this task")


def _require_supervisor(task: Task, actor_nip: str, supervisor_nip: str | None, action: str) -> None:
    """``supervisor_nip`` is the assignee's supervisor as the roster says now."""
    if supervisor_nip is None or actor_nip != supervisor_nip:
        raise NotAllowed(f"only the assignee's supervisor may {action} this task")


def reschedule(task: Task, *, actor_nip: str, supervisor_nip: str | None, due_date: date | None = None,
               title: str | None = None, target_quantity: Decimal | None = None) -> Task:
    """The supervisor changes the due date, title or target of an open task (not a proposal: that is
    accepted with its terms). A due date in the past is allowed here, unlike on assignment: the
    supervisor records a deadline that has already passed, and the task is late or overdue by it."""
    _require_supervisor(task, actor_nip, supervisor_nip, "reschedule")
    _check_from(task, "reschedule")
    if due_date is None and title is None and target_quantity is None:
        raise InvalidInput("give at least one of due_date, title, target_quantity")
    if title is not None:
        title = title.strip()
        if not title:
            raise InvalidInput("title must not be blank")
    target = task.target_quantity if target_quantity is None else _positive_quantity(target_quantity, "target_quantity")
    return replace(task, due_date=due_date or task.due_date, title=title or task.title, target_quantity=target,
                   atasan_nip=actor_nip, version=task.version + 1)


def start(task: Task, *, actor_nip: str) -> Task:
    _require_assignee(task, actor_nip, "start")
    _check_from(task, "start")
    return replace(task, status=IN_PROGRESS, note=None, version=task.version + 1)


def submit(task: Task, *, actor_nip: str, at: datetime, note: str | None = None,
           links: tuple[str, ...] = ()) -> Task:
    _require_assignee(task, actor_nip, "submit")
    _check_from(task, "submit")
    return replace(task, status=SUBMITTED, submitted_at=at, note=note or None, links=tuple(links),
                   version=task.version + 1)


def approve(task: Task, *, actor_nip: str, supervisor_nip: str | None, at: datetime,
            realised_quantity: Decimal, quality: int, note: str | None = None) -> Task:
    """The supervisor records the realised quantity and a quality rating (0–100). The submission
    being approved keeps its time: that is what timeliness is measured by."""
    _require_supervisor(task, actor_nip, supervisor_nip, "approve")
    _check_from(task, "approve")
    if not isinstance(realised_quantity, Decimal):
        realised_quantity = Decimal(str(realised_quantity))
    if not realised_quantity.is_finite() or realised_quantity < 0:
        raise InvalidInput("realised_quantity must be 0 or more")
    if isinstance(quality, bool) or not isinstance(quality, int) or not 0 <= quality <= 100:
        raise InvalidInput("quality must be a whole number from 0 to 100")
    return replace(task, status=APPROVED, realised_quantity=realised_quantity, quality=quality,
                   approved_at=at, atasan_nip=actor_nip, note=note or None, version=task.version + 1)


def return_for_revision(task: Task, *, actor_nip: str, supervisor_nip: str | None, feedback: str) -> Task:
    _require_supervisor(task, actor_nip, supervisor_nip, "return")
    _check_from(task, "return")
    feedback = (feedback or "").strip()
    if not feedback:
        raise InvalidInput("feedback is required when returning a task")
    return replace(task, status=RETURNED, atasan_nip=actor_nip, note=feedback, version=task.version + 1)


def cancel(task: Task, *, actor_nip: str, supervisor_nip: str | None, reason: str | None = None) -> Task:
    _require_supervisor(task, actor_nip, supervisor_nip, "cancel")
    _check_from(task, "cancel")
    return replace(task, status=CANCELLED, atasan_nip=actor_nip, note=reason or None, version=task.version + 1)


def is_overdue(task: Task, *, today: date) -> bool:
    """Past its due date (the whole due day counts, in the agency's time zone) and not finished."""
    return task.status not in FINISHED and task.status != PROPOSED and task.due_date < today
