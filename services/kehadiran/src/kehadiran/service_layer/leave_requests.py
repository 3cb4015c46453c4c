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

from kehadiran.adapters.leave_requests_orm import LeaveRequest
from kehadiran.adapters.orm import Employee
from kehadiran.domain.errors import Conflicting, NotAllowed, Refused, Unknown
from kehadiran.domain.leave_requests import APPROVED, PENDING, NotPending, decided, request_errors, withdrawn
from kehadiran.service_layer import request_review
from kehadiran.service_layer.working_time import set_leave
from kinerja.auth import Principal
from kinerja.events import make_event
from kinerja.events.kehadiran import LEAVE_DECIDED, LEAVE_REQUESTED
from kinerja.messaging.outbox import Outbox

# who sees and decides one, and the refusals in its words
REVIEW = request_review.Review(
    LeaveRequest, NotPending, unknown=lambda request_id: Unknown(f"no leave request {request_id} in your agency"),
    hidden=lambda nip: NotAllowed(f"you may not see the leave requests of {nip}"),
    own=lambda: NotAllowed("nobody decides on their own leave request"),
    not_decider=lambda nip: NotAllowed(f"only the supervisor of {nip} or an admin of the agency decides on this request"))

SOURCE = "kinerja/kehadiran"


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def ask(session: Session, outbox: Outbox, emp: Employee, *, kind: str, start: date, end: date, reason: str,
        requested_by: str, agency_tz: str, max_age_days: int, now: datetime | None = None) -> LeaveRequest:
    now = now or utcnow()
    errors = request_errors(start, end, today=now.astimezone(ZoneInfo(agency_tz)).date(), max_age_days=max_age_days)
    if errors:
        raise Refused("the leave request cannot be made", errors)
    overlapping = session.execute(select(LeaveRequest.id).where(
        LeaveRequest.nip == emp.nip, LeaveRequest.status == PENDING, LeaveRequest.start_date <= end,
        LeaveRequest.end_date >= start)).scalar()
    if overlapping is not None:
        raise Conflicting(f"a request over these days is waiting for a decision already ({overlapping})")
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
    row, emp = REVIEW.decide(session, principal, request_id, lambda status: decided(status, approve), note=note,
                             now=now or utcnow())
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
    row, emp = REVIEW.visible(session, principal, request_id)
    if principal.nip != row.nip:
        raise NotAllowed("only the ASN withdraws their own request")
    REVIEW.settle(session, row, withdrawn)
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


def get(session: Session, principal: Principal, request_id: str) -> LeaveRequest:
    return REVIEW.visible(session, principal, request_id)[0]


def listed(session: Session, *, nips: Iterable[str] | None, agency: str | None, status: str | None,
           limit: int) -> list[LeaveRequest]:
    return list(session.execute(REVIEW.listing(nips=nips, agency=agency, status=status, limit=limit)).scalars())
