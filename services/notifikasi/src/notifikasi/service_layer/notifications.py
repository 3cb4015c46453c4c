"""Event handlers: roster upserts, and inbox rows for the events people are told about.

Each call runs inside the consumer's transaction, which also records the event id, so an event is
applied once; the (event id, recipient) unique constraint is a second guard.

``handle_batch`` applies the events of one poll in order with a handful of statements for the
lot (the roster read once, the inbox rows, e-mails and webhook deliveries each inserted in one
go); ``handle_event`` is the same for one event, so the two give the same rows.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, Sequence

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from kinerja.db import planned_each_time

from kinerja.events.envelope import Event
from kinerja.events import kehadiran
from kinerja.events.kehadiran import DISCIPLINE_ALERT, DISCIPLINE_ALERT_WITHDRAWN
from kinerja.events.pegawai import EMPLOYEE_UPSERTED
from kinerja.events.penilaian import SCORE_UPDATED
from kinerja.events import tugas
from kinerja.roster_slice import upsert_roster_row
from notifikasi.adapters.orm import Employee, Notification
from notifikasi.adapters.audience import read_audience
from notifikasi.adapters.in_chunks import list_value, member_of_param, probe_each
from kinerja.fixed_inserts import insert_new
from notifikasi.domain import messages
from notifikasi.domain.messages import Draft, Person
from notifikasi.service_layer import webhooks
from notifikasi.service_layer.clock import utcnow
from notifikasi.service_layer.email_queue import queue_immediate

RULES: dict[str, Callable[..., list[Draft]]] = {
    SCORE_UPDATED: messages.score_updated,
    tugas.TASK_ASSIGNED: messages.task_assigned,
    tugas.TASK_SUBMITTED: messages.task_submitted,
    tugas.TASK_APPROVED: messages.task_approved,
    tugas.TASK_RETURNED: messages.task_returned,
    tugas.TASK_OVERDUE: messages.task_overdue,
    tugas.TASK_CANCELLED: messages.task_cancelled,
    tugas.TASK_RESCHEDULED: messages.task_rescheduled,
    tugas.SKP_APPROVED: messages.skp_approved,
    tugas.INNOVATION_APPROVED: messages.innovation_approved,
    tugas.FEEDBACK_POSTED: messages.feedback_posted,
    DISCIPLINE_ALERT: messages.discipline_alert,
    DISCIPLINE_ALERT_WITHDRAWN: messages.discipline_withdrawn,
    # what waits for someone, and its decision
    tugas.SKP_SUBMITTED: messages.skp_submitted,
    tugas.TASK_PROPOSED: messages.task_proposed,
    tugas.INNOVATION_PROPOSED: messages.innovation_proposed,
    kehadiran.CORRECTION_REQUESTED: messages.correction_requested,
    kehadiran.CORRECTION_DECIDED: messages.correction_decided,
    kehadiran.LEAVE_REQUESTED: messages.leave_requested,
    kehadiran.LEAVE_DECIDED: messages.leave_decided,
}

#: every event type this service does something with; the consumer skips the rest without a
#: transaction (punches and day summaries are most of ``kehadiran.v1``)
HANDLED_TYPES = frozenset(RULES) | {EMPLOYEE_UPSERTED}


def wants(event_type: str) -> bool:
    return event_type in HANDLED_TYPES


def handle_event(session: Session, event: Event, *, now: datetime | None = None) -> list[InboxRow]:
    """Apply one event; returns the inbox rows it added (none for roster and ignored events).
    The rows are ``InboxRow``s: the columns of the ``Notification`` just inserted, id included."""
    return handle_batch(session, [event], now=now)


def handle_batch(session: Session, events: Sequence[Event], *, now: datetime | None = None) -> list[InboxRow]:
    """Apply ``events`` in order, in the caller's transaction: the roster, inbox rows, e-mails
    and webhook deliveries ``handle_event`` gives for each in turn (a roster event is seen by
    the events after it), written with a few statements for the whole batch. Returns the inbox
    rows added, in order."""
    now = now or utcnow()
    roster = _Roster(session, events)
    planned: list[tuple[Event, str, list[Draft], dict]] = []  # event, its ASN, drafts, payload
    for event in events:
        if event.type == EMPLOYEE_UPSERTED:
            roster.upsert(event.data, now)
            continue
        rule = RULES.get(event.type)
        if rule is None:
            continue
        data = event.data
        nip = data.get("nip") or event.subject
        asn = roster.person(nip)
        if event.type == tugas.FEEDBACK_POSTED:
            drafts = rule(data, asn, roster.person(data["author_nip"]))
        else:
            drafts = rule(data, asn)
        planned.append((event, nip, messages.unique_recipients(drafts), _jsonable(data)))
    if not planned:
        session.flush()
        return []
    session.flush()  # the batch's roster changes, before the Core statements that read the roster
    rows = _store_many(session, planned, now)
    # e-mail preferences and webhooks in one statement, for the batch
    audience = read_audience(session, {r.recipient_nip for r in rows}, {event.agency for event, _, _, _ in planned})
    queue_immediate(session, rows, now=now, preferences=audience.preferences)
    # the agency's integrations get the event itself, in this same transaction
    webhooks.enqueue_many(session, [(event, payload) for event, _, _, payload in planned], now=now,
                          hooks=audience.webhooks)
    return rows


def store(session: Session, event: Event, drafts: list[Draft], *, subject_nip: str,
          now: datetime | None = None) -> list[InboxRow]:
    """Inbox rows for ``drafts`` of one event, but none a recipient already has for it."""
    return _store_many(session, [(event, subject_nip, drafts, _jsonable(event.data))], now or utcnow())


def _store_many(session: Session, planned: list[tuple[Event, str, list[Draft], dict]],
                now: datetime) -> list[InboxRow]:
    seen: set[tuple[str, str]] = set()
    values = []
    for event, subject_nip, drafts, payload in planned:
        for draft in drafts:
            if (event.id, draft.recipient_nip) in seen:
                continue
            seen.add((event.id, draft.recipient_nip))
            values.append(dict(
                recipient_nip=draft.recipient_nip, agency=event.agency, audience=draft.audience,
                kind=draft.kind, title=draft.title[:200], body=draft.body, subject_nip=subject_nip,
                event_id=event.id, event_type=event.type, payload=payload, created_at=now,
            ))
    # one statement for the lot, in the order the rows would have been added one by one, so
    # their ids, and the live stream, follow it; a row a recipient already has for the event is
    # skipped by the unique constraint, and the ids of the rest come back with it
    new_ids = {(event_id, recipient): row_id for row_id, event_id, recipient in insert_new(
        session, Notification.__table__, values, unique=("event_id", "recipient_nip"),
        returning=("id", "event_id", "recipient_nip"))}
    return [InboxRow(id=new_ids[key], **v) for v in values
            if (key := (v["event_id"], v["recipient_nip"])) in new_ids]


@dataclass(slots=True)
class InboxRow:
    """An inbox row just added (the columns of ``Notification``; ``inbox.as_dict`` takes it)."""

    id: int
    recipient_nip: str
    agency: str
    audience: str
    kind: str
    title: str
    body: str
    subject_nip: str
    event_id: str
    event_type: str
    payload: dict
    created_at: datetime
    read_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class _Named:
    """The roster columns a message names (when the batch changes no roster row)."""

    nip: str
    nama: str | None
    atasan_nip: str | None


_ROSTER_READS: dict[tuple[str, bool], Any] = {}


def _roster_statement(dialect: str, whole_rows: bool):
    """The roster read of a batch, built once (SQLAlchemy then finds it compiled at once)."""
    stmt = _ROSTER_READS.get((dialect, whole_rows))
    if stmt is None:
        table = Employee.__table__
        if dialect == "postgresql":  # an index probe a NIP, whatever the statistics (``in_chunks.probe_each``)
            probe = text(probe_each("employees", "nip", "employees.*" if whole_rows else
                                    "employees.nip, employees.nama, employees.atasan_nip", "nips"))
            stmt = select(Employee).from_statement(probe) if whole_rows else probe
        else:
            stmt = (select(Employee) if whole_rows else select(table.c.nip, table.c.nama, table.c.atasan_nip))
            stmt = stmt.where(member_of_param(table.c.nip, "nips", dialect))
        _ROSTER_READS[(dialect, whole_rows)] = stmt
    return stmt


class _Roster:
    """The employees a batch's events name, read with one query; roster events of the batch
    update them in place, so the events after see the new values. Without roster events only
    the columns the messages use are read (no ORM objects to build and track)."""

    def __init__(self, session: Session, events: Sequence[Event]):
        self.session = session
        nips: set[str] = set()
        upserts = False
        for event in events:
            data = event.data
            if event.type == EMPLOYEE_UPSERTED:
                nips.add(data["nip"])
                upserts = True
            elif event.type in RULES:
                nips.add(data.get("nip") or event.subject)
                if event.type == tugas.FEEDBACK_POSTED:
                    nips.add(data["author_nip"])
        self.employees: dict[str, Employee | _Named] = {}
        if not nips:
            return
        dialect = session.get_bind().dialect.name
        params = {"nips": list_value(sorted(nips), dialect)}
        with planned_each_time(session):  # no plan kept from a roster of another size
            if upserts:
                for emp in session.execute(_roster_statement(dialect, True), params).scalars():
                    self.employees[emp.nip] = emp
            else:
                for nip, nama, atasan in session.execute(_roster_statement(dialect, False), params):
                    self.employees[nip] = _Named(nip, nama, atasan)

    def upsert(self, d: dict, now: datetime) -> None:
        emp = upsert_roster_row(Employee, d, find=self.employees.get, add=self._add)
        emp.email = d.get("email") or None
        if emp.email and emp.last_digest_at is None:
            emp.last_digest_at = now  # a first digest to the roster's address covers from now on

    def _add(self, emp: Employee) -> None:
        self.employees[emp.nip] = emp
        self.session.add(emp)

    def person(self, nip: str) -> Person:
        emp = self.employees.get(nip)
        if emp is None:
            return Person(nip=nip)
        return Person(nip=nip, nama=emp.nama, atasan_nip=emp.atasan_nip)


def apply_roster_event(session: Session, event: Event) -> None:
    handle_batch(session, [event])


_PLAIN = frozenset({str, int, float, bool, type(None)})


def _jsonable(value: Any) -> Any:
    """Event data as loaded by its schema (dates, decimals) back to plain JSON values. Plain
    values are taken as they are without a call each (a score update holds ~40 of them)."""
    if isinstance(value, dict):
        return {k: v if type(v) in _PLAIN else _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [v if type(v) in _PLAIN else _jsonable(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)
