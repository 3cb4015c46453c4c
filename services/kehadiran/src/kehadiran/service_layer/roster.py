"""kehadiran's slice of the roster (``pegawai.v1``): who the ASN are, their unit, supervisor,
device PIN and TMT, and their agency's time zone. Applying a roster event changes no day itself: the days its TMT opens or moves
are marked for the day worker, and so is the PIN, whose quarantined punches the worker releases."""
from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from kehadiran.adapters import markers
from kehadiran.adapters.calendar_orm import ClosingCursor
from kehadiran.adapters.orm import AgencySettings, DaySummaryRow, Employee, pin_key
from kehadiran.domain.tracking import tracking_start
from kehadiran.service_layer.agencies import note_roster_zone
from kehadiran.service_layer.schedules import track_from, tracked_since
from kinerja.events.envelope import Event
from kinerja.events.pegawai import EMPLOYEE_UPSERTED
from kinerja.roster_slice import upsert_employee


def apply_roster_event(session: Session, event: Event, *, agency_tz: str) -> None:
    if event.type != EMPLOYEE_UPSERTED:
        return
    d = event.data
    old = session.get(Employee, d["nip"])
    old_tmt = old.tmt if old is not None else None
    emp = upsert_employee(session, Employee, d)
    emp.pin = d.get("pin")
    emp.pin_key = pin_key(emp.pin)
    emp.tmt = _as_date(d.get("tmt"))
    emp.tpp_base = d.get("tpp")
    # the agency's zone, when the roster names it (``agency_tz``: the deployment's default)
    note_roster_zone(session, emp.agency, d.get("timezone"))
    session.flush()
    known = session.get(AgencySettings, emp.agency)
    tz = d.get("timezone") or (known.timezone if known is not None else None) or agency_tz
    follow_tmt(session, emp, old_tmt, event.time.astimezone(ZoneInfo(tz)).date())
    if emp.pin and emp.active:
        # punches of this PIN waiting in quarantine are the worker's to release, whichever of
        # this event and their request commits first (see ``ingest``)
        markers.mark_pins(session, emp.agency, [emp.pin])


def _as_date(value) -> date | None:
    # a decoded event gives a date, one built in-process its ISO text
    return date.fromisoformat(value) if isinstance(value, str) else value


def follow_tmt(session: Session, emp: Employee, old_tmt: date | None, seen_on: date) -> None:
    """Workdays are closed (TK included) from the ASN's TMT, else from the day the roster first
    named them (``domain.tracking``). When that start moves earlier than the days the agency has
    closed, its closing cursor goes back, so the day closer closes them; when the TMT moves, the
    days already recorded between the old and the new one are marked for recomputing."""
    before = tracked_since(session, emp.nip)
    track_from(session, emp.nip, tracking_start(seen_on, emp.tmt))
    since = tracked_since(session, emp.nip)
    if before is None or since < before:
        cursor = session.get(ClosingCursor, emp.agency, with_for_update=True)
        if cursor is not None and since <= cursor.closed_through:
            cursor.closed_through = since - timedelta(days=1)
    if old_tmt != emp.tmt and before is not None:
        bounds = [d for d in (old_tmt, emp.tmt, before) if d is not None]
        days = session.execute(select(DaySummaryRow.day).where(
            DaySummaryRow.nip == emp.nip, DaySummaryRow.day >= min(bounds), DaySummaryRow.day < max(bounds)
        )).scalars().all()
        markers.mark_days(session, [(emp.nip, day) for day in days])
