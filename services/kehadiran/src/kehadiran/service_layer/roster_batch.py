"""A poll's roster events (``pegawai.v1``) applied together: what ``roster.apply_roster_event``
does for each in turn, with the reads and writes of the whole batch set-based.

One at a time, an event cost about eleven statements and a transaction of its own (its employee,
tracking and agency rows read, written, the closing cursor locked when the tracking start moved,
its PIN marked), so a 10,000-ASN roster took ~90 s quiet and ~10 min on a loaded machine. Here the
employees, tracking rows and agency settings the batch names are read with one query per 500,
the events applied to them in memory in offset order (the last event of a NIP wins, each event
sees what the ones before it left, as one at a time), and written with one flush; the closing
cursors, the days a TMT move marks and the PIN markers follow once per agency at the end.

The same rows as one at a time, because nothing an event reads is written by anything but the
events before it in the batch: the day summaries a TMT move marks are written by the day worker,
never by a roster event, so they are read once for the whole batch; a closing cursor only ever
goes back to the earliest tracking start that moved before it (sequentially, ``min`` of them)."""
from __future__ import annotations

from datetime import date, timedelta
from typing import Iterable, Sequence
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from kehadiran.adapters import markers
from kehadiran.adapters.calendar_orm import ClosingCursor, Tracking
from kehadiran.adapters.orm import AgencySettings, DaySummaryRow, Employee, pin_key
from kehadiran.domain.tracking import tracking_start
from kehadiran.service_layer.agencies import note_roster_zone
from kehadiran.service_layer.roster import _as_date
from kinerja.events.envelope import Event
from kinerja.events.pegawai import EMPLOYEE_UPSERTED
from kinerja.roster_slice import upsert_roster_row
from kinerja.zones import ZONES

CHUNK = 500  # keys a read


def _read(session: Session, model, column, keys: Iterable[str]) -> dict:
    """The rows of ``model`` whose ``column`` is one of ``keys``, by key: one query per CHUNK."""
    keys = sorted(set(keys))
    rows = {}
    for i in range(0, len(keys), CHUNK):
        for row in session.execute(select(model).where(column.in_(keys[i:i + CHUNK]))).scalars():
            rows[getattr(row, column.key)] = row
    return rows


class _Applied:
    """What the batch leaves to do once its events are applied in memory."""

    def __init__(self) -> None:
        self.earliest: dict[str, date] = {}  # agency -> earliest tracking start that moved back
        self.tmt_moves: dict[str, list[tuple[date, date]]] = {}  # nip -> [lo, hi) days to mark
        self.pins: dict[str, set[str]] = {}  # agency -> PINs named (quarantine to release)


def apply_roster_batch(session: Session, events: Sequence[Event], *, agency_tz: str) -> None:
    """``events`` applied in order, in the caller's transaction, as ``apply_roster_event`` applies
    each one in turn (events of other types are passed over)."""
    upserts = [e for e in events if e.type == EMPLOYEE_UPSERTED]
    if not upserts:
        return
    employees = _read(session, Employee, Employee.nip, (e.data["nip"] for e in upserts))
    tracking = _read(session, Tracking, Tracking.nip, (e.data["nip"] for e in upserts))
    settings = _read(session, AgencySettings, AgencySettings.agency, (e.data["agency"] for e in upserts))

    def add(row: Employee) -> None:
        session.add(row)
        employees[row.nip] = row

    todo = _Applied()
    for event in upserts:
        d = event.data
        old = employees.get(d["nip"])
        old_tmt = old.tmt if old is not None else None
        emp = upsert_roster_row(Employee, d, find=employees.get, add=add)
        emp.pin = d.get("pin")
        emp.pin_key = pin_key(emp.pin)
        emp.tmt = _as_date(d.get("tmt"))
        emp.tpp_base = d.get("tpp")
        zone = d.get("timezone")
        known = settings.get(emp.agency)
        if zone in ZONES and (known is None or known.timezone != zone):
            # an agency's zone set or changed (rare): the one-event path's row lock and insert
            note_roster_zone(session, emp.agency, zone)
            session.flush()
            known = settings[emp.agency] = session.get(AgencySettings, emp.agency)
        tz = zone or (known.timezone if known is not None else None) or agency_tz
        _follow_tmt(session, tracking, todo, emp, old_tmt, event.time.astimezone(ZoneInfo(tz)).date())
        if emp.pin and emp.active:
            todo.pins.setdefault(emp.agency, set()).add(emp.pin)
    session.flush()
    _finish(session, todo)


def _follow_tmt(session: Session, tracking: dict[str, Tracking], todo: _Applied, emp: Employee,
                old_tmt: date | None, seen_on: date) -> None:
    """``roster.follow_tmt`` on the batch's rows; what it writes beyond them noted in ``todo``."""
    row = tracking.get(emp.nip)
    before = row.since if row is not None else None
    start = tracking_start(seen_on, emp.tmt)
    if row is None:
        row = tracking[emp.nip] = Tracking(nip=emp.nip, since=start)
        session.add(row)
    elif start < row.since:
        row.since = start
    since = row.since
    if before is None or since < before:
        earliest = todo.earliest.get(emp.agency)
        todo.earliest[emp.agency] = since if earliest is None else min(earliest, since)
    if old_tmt != emp.tmt and before is not None:
        bounds = [d for d in (old_tmt, emp.tmt, before) if d is not None]
        todo.tmt_moves.setdefault(emp.nip, []).append((min(bounds), max(bounds)))


def _finish(session: Session, todo: _Applied) -> None:
    """The closing cursors moved back (locked in agency order), the days between an old and a new
    TMT marked, and the PINs named marked: a statement or two per agency, not per event."""
    for agency in sorted(todo.earliest):
        since = todo.earliest[agency]
        cursor = session.get(ClosingCursor, agency, with_for_update=True)
        if cursor is not None and since <= cursor.closed_through:
            cursor.closed_through = since - timedelta(days=1)
    keys: list[tuple[str, date]] = []
    nips = sorted(todo.tmt_moves)
    for i in range(0, len(nips), CHUNK):
        chunk = nips[i:i + CHUNK]
        spans = [span for nip in chunk for span in todo.tmt_moves[nip]]
        lo, hi = min(s[0] for s in spans), max(s[1] for s in spans)
        for nip, day in session.execute(select(DaySummaryRow.nip, DaySummaryRow.day).where(
                DaySummaryRow.nip.in_(chunk), DaySummaryRow.day >= lo, DaySummaryRow.day < hi)):
            if any(a <= day < b for a, b in todo.tmt_moves[nip]):
                keys.append((nip, day))
    markers.mark_days(session, keys)
    for agency in sorted(todo.pins):
        markers.mark_pins(session, agency, todo.pins[agency])
