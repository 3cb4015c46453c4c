"""Attendance handlers: one transaction per command or event, rows and outbox events together."""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any, Iterable
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kehadiran.adapters.orm import DaySummaryRow, Device, Employee, PunchRow
from kehadiran.domain.discipline import Punch, default_window, summarize_day
from kinerja.events import make_event
from kinerja.events.kehadiran import DAY_SUMMARIZED, PUNCH_RECORDED
from kinerja.events.pegawai import EMPLOYEE_UPSERTED
from kinerja.events.envelope import Event
from kinerja.messaging.outbox import Outbox

SOURCE = "kinerja/kehadiran"


@dataclass
class PunchInput:
    """One punch as a device reported it, already validated for shape."""

    person_key: str  # PIN, or NIP when the caller names the person directly
    device_time: datetime  # naive, the device's own clock
    status: str | None = None
    by_nip: bool = False


@dataclass
class IngestResult:
    accepted: int = 0
    duplicates: int = 0
    quarantined: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"accepted": self.accepted, "duplicates": self.duplicates,
                "quarantined": self.quarantined, "rejected": self.rejected}


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def device_tz(device: Device) -> timezone:
    return timezone(timedelta(minutes=device.tz_offset_minutes))


def _find_employee(session: Session, agency: str, item: PunchInput) -> Employee | None:
    if item.by_nip:
        emp = session.get(Employee, item.person_key)
        return emp if emp is not None and emp.agency == agency else None
    return session.execute(
        select(Employee).where(Employee.agency == agency, Employee.pin == item.person_key, Employee.active.is_(True))
    ).scalars().first()


def record_punches(
    session: Session, outbox: Outbox, device: Device, items: Iterable[PunchInput], *,
    channel: str, agency_tz: str, now: datetime | None = None,
) -> IngestResult:
    """Store new punches with their events; a re-sent punch is counted as a duplicate, and a punch
    from an unknown PIN is kept in quarantine until the roster names it."""
    now = now or utcnow()
    result = IngestResult()
    touched: set[tuple[str, date]] = set()
    tz = ZoneInfo(agency_tz)
    for item in items:
        instant = item.device_time.replace(tzinfo=device_tz(device)).astimezone(timezone.utc)
        exists = session.execute(
            select(PunchRow.id).where(
                PunchRow.device_sn == device.sn,
                PunchRow.person_key == item.person_key,
                PunchRow.device_time == item.device_time,
            )
        ).first()
        if exists:
            result.duplicates += 1
            continue
        emp = _find_employee(session, device.agency, item)
        row = PunchRow(
            id=str(uuid.uuid4()), device_sn=device.sn, agency=device.agency, person_key=item.person_key,
            device_time=item.device_time, time=instant, nip=emp.nip if emp else None,
            status=item.status, channel=channel, received_at=now,
        )
        try:
            with session.begin_nested():
                session.add(row)
                session.flush()
        except IntegrityError:
            # the same punch arrived concurrently through another request
            result.duplicates += 1
            continue
        if emp is None:
            result.quarantined += 1
            continue
        _publish_punch(session, outbox, row, emp)
        touched.add((emp.nip, instant.astimezone(tz).date()))
        result.accepted += 1
    for nip, day in sorted(touched):
        recompute_day(session, outbox, nip, day, agency_tz=agency_tz, now=now)
    return result


def _publish_punch(session: Session, outbox: Outbox, row: PunchRow, emp: Employee) -> None:
    event = make_event(
        PUNCH_RECORDED, subject=emp.nip, agency=emp.agency, source=SOURCE,
        data={"punch_id": row.id, "nip": emp.nip, "device_sn": row.device_sn, "pin": row.person_key,
              "time": row.time, "status": row.status, "channel": row.channel},
    )
    row.event_id = event.id
    outbox.add(session, event)


def recompute_day(session: Session, outbox: Outbox, nip: str, day: date, *, agency_tz: str,
                  now: datetime | None = None) -> DaySummaryRow | None:
    """Recompute one ASN's day from every stored punch; publish a new version if it changed."""
    now = now or utcnow()
    tz = ZoneInfo(agency_tz)
    emp = session.get(Employee, nip)
    if emp is None:
        return None
    start = datetime.combine(day, datetime.min.time(), tzinfo=tz)
    end = start + timedelta(days=1)
    rows = session.execute(
        select(PunchRow).where(PunchRow.nip == nip, PunchRow.time >= start.astimezone(timezone.utc),
                               PunchRow.time < end.astimezone(timezone.utc))
    ).scalars().all()
    punches = [Punch(r.time.astimezone(tz).replace(tzinfo=None), r.status, r.event_id) for r in rows]
    window = default_window(day)
    day_over = now >= end
    result = summarize_day(day, window, punches, day_over=day_over)

    def aware(t: datetime | None) -> datetime | None:
        return t.replace(tzinfo=tz) if t else None

    data = {
        "nip": nip, "date": day, "final": day_over, "workday": result.workday, "excused": result.excused,
        "arrival": aware(result.arrival), "departure": aware(result.departure),
        "minutes_late": result.minutes_late, "minutes_early": result.minutes_early,
        "deductions": [{"code": d.code, "percent": d.percent, "minutes": d.minutes} for d in result.deductions],
        "punch_event_ids": list(result.punch_event_ids), "unit": emp.unit,
    }
    current = session.get(DaySummaryRow, (nip, day))
    probe = make_event(DAY_SUMMARIZED, subject=nip, agency=emp.agency, source=SOURCE, data={**data, "version": 1})
    comparable = {k: v for k, v in probe.data.items() if k != "version"}
    if current is not None and {k: v for k, v in current.payload.items() if k != "version"} == comparable:
        return current
    version = (current.version + 1) if current else 1
    event = make_event(DAY_SUMMARIZED, subject=nip, agency=emp.agency, source=SOURCE, data={**data, "version": version})
    if current is None:
        current = DaySummaryRow(nip=nip, day=day, version=version, final=day_over, payload=event.data, updated_at=now)
        session.add(current)
    else:
        current.version, current.final, current.payload, current.updated_at = version, day_over, event.data, now
    outbox.add(session, event)
    return current


# -- roster -----------------------------------------------------------------------------------
def apply_roster_event(session: Session, outbox: Outbox, event: Event, *, agency_tz: str) -> None:
    if event.type != EMPLOYEE_UPSERTED:
        return
    d = event.data
    emp = session.get(Employee, d["nip"])
    if emp is None:
        emp = Employee(nip=d["nip"])
        session.add(emp)
    emp.nama, emp.agency, emp.unit = d["nama"], d["agency"], d["unit"]
    emp.atasan_nip, emp.pin, emp.active = d.get("atasan_nip"), d.get("pin"), d.get("active", True)
    session.flush()
    if emp.pin and emp.active:
        release_quarantine(session, outbox, emp, agency_tz=agency_tz)


def release_quarantine(session: Session, outbox: Outbox, emp: Employee, *, agency_tz: str) -> int:
    """Punches kept from a PIN the roster did not know are applied once it does."""
    rows = session.execute(
        select(PunchRow).where(PunchRow.agency == emp.agency, PunchRow.person_key == emp.pin, PunchRow.nip.is_(None))
    ).scalars().all()
    tz = ZoneInfo(agency_tz)
    days = set()
    for row in rows:
        row.nip = emp.nip
        _publish_punch(session, outbox, row, emp)
        days.add(row.time.astimezone(tz).date())
    session.flush()
    for day in sorted(days):
        recompute_day(session, outbox, emp.nip, day, agency_tz=agency_tz)
    return len(rows)


def register_device(session: Session, *, sn: str, agency: str, tz_offset_minutes: int, name: str = "") -> Device:
    device = session.get(Device, sn)
    if device is None:
        device = Device(sn=sn, agency=agency, tz_offset_minutes=tz_offset_minutes, name=name, registered_at=utcnow())
        session.add(device)
    else:
        device.agency, device.tz_offset_minutes, device.name = agency, tz_offset_minutes, name or device.name
    return device
