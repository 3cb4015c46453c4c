"""Correction requests (lupa absen): asked by the ASN, decided by their supervisor or an admin of
the agency. An approval stores each asked time as a punch marked with the request's id and
publishes it like any other punch, and marks the day for the day worker, whose record then says
it rests on a correction; all in the deciding transaction."""
from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta, timezone
from typing import Any, Iterable
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from kehadiran.adapters import markers, outbox_events, punch_store
from kehadiran.adapters.corrections_orm import CorrectionRequest
from kehadiran.adapters.orm import Employee
from kehadiran.domain.errors import Conflicting, NotAllowed, Refused, Unknown
from kehadiran.domain.corrections import APPROVED, MAX_AGE_DAYS, PENDING, NotPending, decided, request_errors
from kehadiran.service_layer import request_review
from kehadiran.service_layer.schedules import load_context
from kinerja.auth import Principal
from kinerja.events import make_event
from kinerja.events.kehadiran import CORRECTION_DECIDED, CORRECTION_REQUESTED
from kinerja.messaging.outbox import Outbox

# who sees and decides one, and the refusals in its words
REVIEW = request_review.Review(
    CorrectionRequest, NotPending, unknown=lambda request_id: Unknown(f"no correction {request_id} in your agency"),
    hidden=lambda nip: NotAllowed(f"you may not see the corrections of {nip}"),
    own=lambda: NotAllowed("nobody decides on their own correction"),
    not_decider=lambda nip: NotAllowed(f"only the supervisor of {nip} or an admin of the agency decides on this correction"))

SOURCE = outbox_events.SOURCE


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def device_sn_of(request_id: str) -> str:
    """The punches of a correction name it as their source; ':' is never in a device's serial."""
    return f"koreksi:{request_id}"


def ask(session: Session, emp: Employee, day: date, punches: list[dict[str, Any]], reason: str, *,
        requested_by: str, agency_tz: str, now: datetime | None = None,
        max_age_days: int = MAX_AGE_DAYS, outbox: Outbox | None = None) -> CorrectionRequest:
    """A pending request for ``punches`` (``time`` aware, ``status`` in/out/None) on ``day``; with
    ``outbox``, ``kehadiran.correction.requested.v1`` tells the supervisor it waits for them."""
    now = now or utcnow()
    tz = ZoneInfo(agency_tz)
    local = [p["time"].astimezone(tz).replace(tzinfo=None) for p in punches]
    ctx = load_context(session, emp, day - timedelta(days=2), day + timedelta(days=2))
    errors = request_errors(day, local, ctx, today=now.astimezone(tz).date(),
                            now_local=now.astimezone(tz).replace(tzinfo=None), max_age_days=max_age_days)
    if errors:
        raise Refused("the correction cannot be asked for", errors)
    waiting = session.execute(select(CorrectionRequest.id).where(
        CorrectionRequest.nip == emp.nip, CorrectionRequest.day == day, CorrectionRequest.status == PENDING)).scalar()
    if waiting is not None:
        raise Conflicting(f"a correction of {day} is waiting for a decision already ({waiting})")
    row = CorrectionRequest(
        id=str(uuid.uuid4()), nip=emp.nip, agency=emp.agency, day=day, reason=reason, status=PENDING,
        punches=[{"time": t.replace(tzinfo=tz).isoformat(), "status": p.get("status")} for t, p in zip(local, punches)],
        requested_by=requested_by, requested_at=now, note="", punch_ids=[])
    session.add(row)
    session.flush()
    if outbox is not None:
        outbox.add(session, make_event(CORRECTION_REQUESTED, subject=emp.nip, agency=emp.agency, source=SOURCE,
                                       time=now, data={
            "request_id": row.id, "nip": emp.nip, "atasan_nip": emp.atasan_nip, "date": day,
            "times": [datetime.fromisoformat(p["time"]) for p in row.punches], "reason": reason,
            "requested_at": now}))
    return row


def decide(session: Session, outbox: Outbox, principal: Principal, request_id: str, *, approve: bool, note: str,
           agency_tz: str, now: datetime | None = None) -> CorrectionRequest:
    """Approve or reject a pending request, as the ASN's supervisor or an admin of the agency."""
    now = now or utcnow()
    row, emp = REVIEW.decide(session, principal, request_id, lambda status: decided(status, approve), note=note,
                             now=now)
    if row.status == APPROVED:
        row.punch_ids = _punch(session, row, emp, now=now)
        # the day the request names, and the dates of its times (a night shift's departure)
        tz = ZoneInfo(agency_tz)
        markers.mark_days(session, [(emp.nip, row.day)] + [
            (emp.nip, datetime.fromisoformat(p["time"]).astimezone(tz).date()) for p in row.punches])
    session.flush()
    outbox.add(session, make_event(CORRECTION_DECIDED, subject=row.nip, agency=row.agency, source=SOURCE, time=now,
                                   data={"request_id": row.id, "nip": row.nip, "atasan_nip": emp.atasan_nip,
                                         "date": row.day, "status": row.status, "decided_by": row.decided_by,
                                         "note": row.note, "decided_at": now}))
    return row


def _punch(session: Session, row: CorrectionRequest, emp: Employee, *, now: datetime) -> list[str]:
    sn = device_sn_of(row.id)
    punches, events = [], []
    for p in row.punches:
        instant = datetime.fromisoformat(p["time"])
        device_time = instant.replace(tzinfo=None)
        if any(q["device_time"] == device_time for q in punches):
            continue  # the same time twice is one punch
        punch_id, event_id = outbox_events.punch_ids(sn, emp.nip, device_time)
        punches.append({"id": punch_id, "device_sn": sn, "agency": emp.agency, "person_key": emp.nip,
                        "device_time": device_time, "time": instant.astimezone(timezone.utc), "nip": emp.nip,
                        "status": p.get("status"), "channel": "json", "received_at": now, "event_id": event_id,
                        "correction_id": row.id})
        events.append(outbox_events.punch_recorded(
            event_id, punch_id=punch_id, nip=emp.nip, agency=emp.agency, device_sn=sn, pin=None,
            time=instant.astimezone(timezone.utc), status=p.get("status"), channel="json", correction_id=row.id,
            at=now))
    conn = session.connection()
    punch_store.insert_new(conn, punches)
    outbox_events.write(conn, events, at=now)
    return [p["id"] for p in punches]


def get(session: Session, principal: Principal, request_id: str) -> CorrectionRequest:
    return REVIEW.visible(session, principal, request_id)[0]


def listed(session: Session, principal: Principal, *, nips: Iterable[str] | None, agency: str | None,
           status: str | None, start: date | None, end: date | None, limit: int) -> list[CorrectionRequest]:
    """Requests of ``nips`` (or, when None, of the whole ``agency``), newest first."""
    between = (CorrectionRequest.day >= start, CorrectionRequest.day < end) if start is not None else ()
    return list(session.execute(REVIEW.listing(nips=nips, agency=agency, status=status, limit=limit,
                                               where=between)).scalars())


team_of = request_review.team_of
