"""Event handlers: roster upserts, and inbox rows for the events people are told about.

Each call runs inside the consumer's transaction, which also records the event id, so an event is
applied once; the (event id, recipient) unique constraint is a second guard.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from kinerja.events.envelope import Event
from kinerja.events.kehadiran import DISCIPLINE_ALERT
from kinerja.events.pegawai import EMPLOYEE_UPSERTED
from kinerja.events.penilaian import SCORE_UPDATED
from kinerja.events import tugas
from notifikasi.adapters.orm import Employee, Notification
from notifikasi.domain import messages
from notifikasi.domain.messages import Draft, Person
from notifikasi.service_layer import email, webhooks

RULES: dict[str, Callable[..., list[Draft]]] = {
    SCORE_UPDATED: messages.score_updated,
    tugas.TASK_ASSIGNED: messages.task_assigned,
    tugas.TASK_SUBMITTED: messages.task_submitted,
    tugas.TASK_APPROVED: messages.task_approved,
    tugas.TASK_RETURNED: messages.task_returned,
    tugas.TASK_OVERDUE: messages.task_overdue,
    tugas.TASK_CANCELLED: messages.task_cancelled,
    tugas.SKP_APPROVED: messages.skp_approved,
    tugas.INNOVATION_APPROVED: messages.innovation_approved,
    tugas.FEEDBACK_POSTED: messages.feedback_posted,
    DISCIPLINE_ALERT: messages.discipline_alert,
}

#: every event type this service does something with; the consumer skips the rest without a
#: transaction (punches and day summaries are most of ``kehadiran.v1``)
HANDLED_TYPES = frozenset(RULES) | {EMPLOYEE_UPSERTED}


def wants(event_type: str) -> bool:
    return event_type in HANDLED_TYPES


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def handle_event(session: Session, event: Event, *, now: datetime | None = None) -> list[Notification]:
    """Apply one event; returns the inbox rows it added (none for roster and ignored events)."""
    if event.type == EMPLOYEE_UPSERTED:
        apply_roster_event(session, event)
        return []
    rule = RULES.get(event.type)
    if rule is None:
        return []
    data = event.data
    nip = data.get("nip") or event.subject
    asn = _person(session, nip)
    if event.type == tugas.FEEDBACK_POSTED:
        drafts = rule(data, asn, _person(session, data["author_nip"]))
    else:
        drafts = rule(data, asn)
    rows = store(session, event, messages.unique_recipients(drafts), subject_nip=nip, now=now)
    email.queue_immediate(session, rows, now=now)
    # the agency's integrations get the event itself, in this same transaction
    webhooks.enqueue(session, event, _jsonable(event.data), now=now)
    return rows


def store(session: Session, event: Event, drafts: list[Draft], *, subject_nip: str,
          now: datetime | None = None) -> list[Notification]:
    now = now or utcnow()
    payload = _jsonable(event.data)
    existing = set(session.execute(
        select(Notification.recipient_nip).where(Notification.event_id == event.id)
    ).scalars())
    rows = []
    for draft in drafts:
        if draft.recipient_nip in existing:
            continue
        row = Notification(
            recipient_nip=draft.recipient_nip, agency=event.agency, audience=draft.audience,
            kind=draft.kind, title=draft.title[:200], body=draft.body, subject_nip=subject_nip,
            event_id=event.id, event_type=event.type, payload=payload, created_at=now,
        )
        session.add(row)
        rows.append(row)
    session.flush()
    return rows


def apply_roster_event(session: Session, event: Event) -> None:
    d = event.data
    emp = session.get(Employee, d["nip"])
    if emp is None:
        emp = Employee(nip=d["nip"])
        session.add(emp)
    emp.nama, emp.agency, emp.unit = d["nama"], d["agency"], d["unit"]
    emp.atasan_nip, emp.active = d.get("atasan_nip"), d.get("active", True)
    session.flush()


def _person(session: Session, nip: str) -> Person:
    emp = session.get(Employee, nip)
    if emp is None:
        return Person(nip=nip)
    return Person(nip=nip, nama=emp.nama, atasan_nip=emp.atasan_nip)


def _jsonable(value: Any) -> Any:
    """Event data as loaded by its schema (dates, decimals) back to plain JSON values."""
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)
