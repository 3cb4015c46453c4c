"""Leave requests (permohonan cuti, sakit, dinas luar): asked by the ASN, decided by their
supervisor or an admin of the agency, withdrawn by the ASN while they wait. Each step is one
transaction with its event (``kehadiran.leave.requested.v1`` / ``.decided.v1``) in the outbox, so
notifikasi tells the supervisor a request waits and the ASN how it was decided; an approval
records the days as excused and recomputes them, as leave entered by the supervisor is."""
from __future__ import annotations

import uuid
from datetime import date, datetime, timezone
from typing import Iterable
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.exceptions import Conflict, Forbidden, NotFound

from kehadiran.adapters.leave_requests_orm import LeaveRequest
from kehadiran.adapters.orm import Employee
from kehadiran.domain.leave_requests import APPROVED, PENDING, NotPending, decided, request_errors, withdrawn
from kehadiran.service_layer.working_time import set_leave
from kinerja.auth import Principal
from kinerja.events import make_event
from kinerja.events.kehadiran import LEAVE_DECIDED, LEAVE_REQUESTED
from kinerja.messaging.outbox import Outbox

SOURCE = "kinerja/kehadiran"


class Refused(ValueError):
    def __init__(self, errors: dict[str, list[str]]):
        super().__init__("the leave request cannot be made")
        self.errors = errors


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def ask(session: Session, outbox: Outbox, emp: Employee, *, kind: str, start: date, end: date, reason: str,
        requested_by: str, agency_tz: str, max_age_days: int, now: datetime | None = None) -> LeaveRequest:
    now = now or utcnow()
    errors = request_errors(start, end, today=now.astimezone(ZoneInfo(agency_tz)).date(), max_age_days=max_age_days)
    if errors:
        raise Refused(errors)
    overlapping = session.execute(select(LeaveRequest.id).where(
        LeaveRequest.nip == emp.nip, LeaveRequest.status == PENDING, LeaveRequest.start_date <= end,
        LeaveRequest.end_date >= start)).scalar()
    if overlapping is not None:
        raise Conflict(f"a request over these days is waiting for a decision already ({overlapping})")
    row = LeaveRequest(id=str(uuid.uuid4()), nip=emp.nip, agency=emp.agency, kind=kind, start_date=start,
                       end_date=end, reason=reason, status=PENDING, requested_by=requested_by, requested_at=now,
                       note="")
    session.add(row)
    session.flush()
    outbox.add(session, make_event(LEAVE_REQUESTED, subject=emp.nip, agency=emp.agency, source=SOURCE, time=now, data={
        "request_id": row.id, "nip": emp.nip, "atasan_nip": emp.atasan_nip, "kind": kind, "start_date": start,
        "end_date": end, "reason": reason, "requested_at": now}))
    return row


def decide(session: Session, outbox: Outbox, principal: Principal, request_id: str, *, approve: bool, note: str,
           agency_tz: str, now: datetime | None = None) -> LeaveRequest:
    """Approve or reject a waiting request, as the ASN's supervisor or an admin of the agency."""
    now = now or utcnow()
    row, emp = _visible(session, principal, request_id)
    if principal.nip == row.nip:
        raise Forbidden("nobody decides on their own leave request")
    if not (principal.role == "admin" or principal.supervises(emp.atasan_nip)):
        raise Forbidden(f"only the supervisor of {row.nip} or an admin of the agency decides on this request")
    session.refresh(row, with_for_update=True)
    try:
        row.status = decided(row.status, approve)
    except NotPending as exc:
        raise Conflict(str(exc)) from None
    row.decided_by, row.decided_at, row.note = principal.nip or principal.sub, now, note
    session.flush()
    if row.status == APPROVED:
        set_leave(session, outbox, emp, row.start_date, row.end_date, row.kind,
                  (row.reason + (f" — {note}" if note else ""))[:500], row.decided_by, agency_tz=agency_tz)
    _decided_event(session, outbox, row, emp)
    return row


def withdraw(session: Session, outbox: Outbox, principal: Principal, request_id: str, *,
             now: datetime | None = None) -> LeaveRequest:
    """The ASN takes back a request that still waits."""
    now = now or utcnow()
    row, emp = _visible(session, principal, request_id)
    if principal.nip != row.nip:
        raise Forbidden("only the ASN withdraws their own request")
    session.refresh(row, with_for_update=True)
    try:
        row.status = withdrawn(row.status)
    except NotPending as exc:
        raise Conflict(str(exc)) from None
    row.decided_by, row.decided_at = principal.nip, now
    session.flush()
    _decided_event(session, outbox, row, emp)
    return row


def _decided_event(session: Session, outbox: Outbox, row: LeaveRequest, emp: Employee) -> None:
    outbox.add(session, make_event(LEAVE_DECIDED, subject=row.nip, agency=row.agency, source=SOURCE,
                                   time=row.decided_at, data={
        "request_id": row.id, "nip": row.nip, "atasan_nip": emp.atasan_nip, "kind": row.kind,
        "start_date": row.start_date, "end_date": row.end_date, "status": row.status,
        "decided_by": row.decided_by, "note": row.note, "decided_at": row.decided_at}))


def _visible(session: Session, principal: Principal, request_id: str) -> tuple[LeaveRequest, Employee]:
    """The request and its ASN, if ``principal`` may see it: the ASN, their supervisor, an admin of
    the agency, an operator; another agency's request is as good as unknown."""
    row = session.get(LeaveRequest, request_id) if len(request_id) <= 36 else None
    emp = session.get(Employee, row.nip) if row is not None else None
    if row is None or emp is None or (principal.role != "operator" and row.agency != principal.agency):
        raise NotFound(f"no leave request {request_id} in your agency")
    if principal.role in ("operator", "admin") or principal.nip == row.nip or principal.supervises(emp.atasan_nip):
        return row, emp
    raise Forbidden(f"you may not see the leave requests of {row.nip}")


def get(session: Session, principal: Principal, request_id: str) -> LeaveRequest:
    return _visible(session, principal, request_id)[0]


def listed(session: Session, *, nips: Iterable[str] | None, agency: str | None, status: str | None,
           limit: int) -> list[LeaveRequest]:
    q = select(LeaveRequest)
    if nips is not None:
        q = q.where(LeaveRequest.nip.in_(sorted(set(nips))))
    if agency is not None:
        q = q.where(LeaveRequest.agency == agency)
    if status:
        q = q.where(LeaveRequest.status == status)
    q = q.order_by(LeaveRequest.requested_at.desc(), LeaveRequest.id).limit(limit)
    return list(session.execute(q).scalars())
