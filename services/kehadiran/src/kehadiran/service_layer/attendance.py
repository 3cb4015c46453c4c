"""Attendance handlers: one transaction per command or event, rows and outbox events together."""
from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Iterable
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, func, select, text
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from kehadiran.adapters.calendar_orm import ClosingCursor, Leave, Shift, Tracking
from kehadiran.adapters.orm import DaySummaryRow, Device, Employee, PunchRow
from kehadiran.domain.discipline import Punch, summarize_day
from kehadiran.domain.schedule import ScheduleContext, close_time, owning_day
from kehadiran.domain.tracking import tracking_start
from kehadiran.service_layer.alerts import counts_as_tk, note_year
from kehadiran.service_layer.schedules import (daterange, employees_of, leave_on, load_unit_context,
                                               shifts_applied, track_from, tracked_since, with_shifts)
from kinerja.events import data_schema, make_event
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
    # the instant when it is not the device clock's: a phone's punch is the moment it arrived
    instant: datetime | None = None


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


# at most this many values in one IN (...) list
CHUNK = 500


def _in(name: str):
    return bindparam(name, expanding=True)


# the ingest's statements, built once: building one costs more CPU than running it on SQLite
_EMPLOYEES_BY_NIP = select(Employee).where(Employee.nip.in_(_in("nips")))
_EMPLOYEES_BY_PIN = select(Employee).where(Employee.agency == bindparam("agency"), Employee.pin.in_(_in("pins")),
                                           Employee.active.is_(True))
_SHIFTS = select(Shift).where(Shift.nip.in_(_in("nips")), Shift.day >= bindparam("lo"), Shift.day <= bindparam("hi"))
_STORED_KEYS = select(PunchRow.person_key, PunchRow.device_time).where(
    PunchRow.device_sn == bindparam("sn"), PunchRow.person_key.in_(_in("keys")),
    PunchRow.device_time.in_(_in("times")))
# populate_existing: what this session read of the days before they were locked may be stale
_SUMMARIES = select(DaySummaryRow).where(
    DaySummaryRow.nip.in_(_in("nips")), DaySummaryRow.day >= bindparam("lo"), DaySummaryRow.day <= bindparam("hi"),
).execution_options(populate_existing=True)
_LEAVES = select(Leave).where(Leave.nip.in_(_in("nips")), Leave.day >= bindparam("lo"), Leave.day <= bindparam("hi"))
_PUNCHES = select(PunchRow).where(PunchRow.nip.in_(_in("nips")), PunchRow.time >= bindparam("start"),
                                  PunchRow.time < bindparam("end"))
# one advisory lock per key, in the keys' order (days of ASN, PINs of an agency)
_LOCK_KEYS = text("SELECT pg_advisory_xact_lock(hashtextextended(k, 0)) FROM unnest(CAST(:keys AS text[])) AS k")
_INSERT_PUNCHES = {
    name: insert(PunchRow.__table__).on_conflict_do_nothing(index_elements=["device_sn", "person_key", "device_time"])
    .returning(PunchRow.__table__.c.id)
    for name, insert in (("postgresql", postgresql_insert), ("sqlite", sqlite_insert))
}
# up to this many punches, a batch is not checked for stored ones before the INSERT
SMALL_BATCH = 4


def _chunks(seq: list, size: int = CHUNK):
    for i in range(0, len(seq), size):
        yield seq[i:i + size]


def _find_employee(session: Session, agency: str, item: PunchInput) -> Employee | None:
    if item.by_nip:
        emp = session.get(Employee, item.person_key)
        return emp if emp is not None and emp.agency == agency else None
    return session.execute(
        select(Employee).where(Employee.agency == agency, Employee.pin == item.person_key, Employee.active.is_(True))
    ).scalars().first()


def _find_employees(session: Session, agency: str,
                    items: list[PunchInput]) -> dict[tuple[str, bool], Employee | None]:
    """``_find_employee`` for every person of a batch, in a few queries: keyed by (key, by_nip)."""
    found: dict[tuple[str, bool], Employee | None] = {}
    nips = sorted({it.person_key for it in items if it.by_nip})
    for chunk in _chunks(nips):
        for emp in session.execute(_EMPLOYEES_BY_NIP, {"nips": chunk}).scalars():
            found[(emp.nip, True)] = emp if emp.agency == agency else None
    pins = sorted({it.person_key for it in items if not it.by_nip})
    by_pin: dict[str, list[Employee]] = defaultdict(list)
    for chunk in _chunks(pins):
        for emp in session.execute(_EMPLOYEES_BY_PIN, {"agency": agency, "pins": chunk}).scalars():
            by_pin[emp.pin].append(emp)
    for pin, emps in by_pin.items():
        # a PIN two active ASN share: whichever the single lookup picks, as before
        found[(pin, False)] = emps[0] if len(emps) == 1 else _find_employee(session, agency, PunchInput(pin, None))
    for it in items:
        found.setdefault((it.person_key, it.by_nip), None)
    return found


def _local(instant: datetime, tz: ZoneInfo) -> datetime:
    return instant.astimezone(tz).replace(tzinfo=None)


def _day_windows(days: Iterable[date], span: int = 7) -> list[tuple[date, date]]:
    """Sorted dates grouped into ranges of at most ``span`` days, so a batch's bulk queries cover
    its dates without reading the years between two far-apart ones."""
    windows: list[tuple[date, date]] = []
    for day in sorted(set(days)):
        if windows and (day - windows[-1][0]).days < span:
            windows[-1] = (windows[-1][0], day)
        else:
            windows.append((day, day))
    return windows


class _Contexts:
    """Schedule contexts loaded once per command: the unit-wide part once per (unit, date), the
    ASN's shifts once per (ASN, date)."""

    def __init__(self, session: Session):
        self.session = session
        self.units: dict[tuple[str, str, date], ScheduleContext] = {}
        self.cache: dict[tuple[str, date], ScheduleContext] = {}

    def _unit(self, emp: Employee, day: date) -> ScheduleContext:
        unit_key = (emp.agency, emp.unit, day)
        if unit_key not in self.units:
            start, end = day - timedelta(days=2), day + timedelta(days=2)
            self.units[unit_key] = load_unit_context(self.session, emp.agency, emp.unit, start, end)
        return self.units[unit_key]

    def around(self, emp: Employee, day: date) -> ScheduleContext:
        key = (emp.nip, day)
        if key not in self.cache:
            start, end = day - timedelta(days=2), day + timedelta(days=2)
            self.cache[key] = with_shifts(self.session, self._unit(emp, day), emp.nip, start, end, starts=emp.tmt)
        return self.cache[key]

    def preload(self, pairs: Iterable[tuple[Employee, date]]) -> None:
        """What ``around`` would load for each (ASN, date), the shifts of all of them in a few queries."""
        missing: dict[tuple[str, date], Employee] = {}
        for emp, day in pairs:
            if (emp.nip, day) not in self.cache:
                missing[(emp.nip, day)] = emp
        if not missing:
            return
        for lo, hi in _day_windows(day for _, day in missing):
            nips = sorted({nip for nip, day in missing if lo <= day <= hi})
            shifts: dict[str, list[Shift]] = defaultdict(list)
            for chunk in _chunks(nips):
                for shift in self.session.execute(
                    _SHIFTS, {"nips": chunk, "lo": lo - timedelta(days=2), "hi": hi + timedelta(days=2)}
                ).scalars():
                    shifts[shift.nip].append(shift)
            for (nip, day), emp in missing.items():
                if not lo <= day <= hi:
                    continue
                start, end = day - timedelta(days=2), day + timedelta(days=2)
                self.cache[(nip, day)] = shifts_applied(
                    self._unit(emp, day), [s for s in shifts.get(nip, ()) if start <= s.day <= end], starts=emp.tmt)


class _OutboxBuffer:
    """Collects a command's events in order and writes them in one statement at the end."""

    def __init__(self, outbox: Outbox):
        self.outbox = outbox
        self.events: list[Event] = []

    def add(self, session: Session, event: Event) -> None:
        self.events.append(event)

    def add_many(self, session: Session, events: list[Event]) -> None:
        self.events.extend(events)

    def write(self, session: Session) -> None:
        self.outbox.add_many(session, self.events)
        self.events = []


def _existing_keys(session: Session, device: Device, items: list[PunchInput]) -> set[tuple[str, datetime]]:
    """The (PIN, device time) pairs of ``items`` this device already stored, in a few queries."""
    found: set[tuple[str, datetime]] = set()
    for i in range(0, len(items), 500):
        chunk = items[i:i + 500]
        rows = session.execute(_STORED_KEYS, {"sn": device.sn, "keys": list({it.person_key for it in chunk}),
                                              "times": list({it.device_time for it in chunk})}).all()
        found.update((k, t) for k, t in rows)
    return found


def _store_rows(session: Session, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Insert the batch at once, skipping a punch a concurrent request stored first (same device,
    PIN and device time: ``ON CONFLICT DO NOTHING``, which waits for that request to finish).
    Returns the rows stored, in the batch's order."""
    if not rows:
        return []
    stmt = _INSERT_PUNCHES[session.get_bind().dialect.name]
    stored: set[str] = set()
    for chunk in _chunks(rows):
        stored.update(session.execute(stmt, chunk).scalars())
    return [row for row in rows if row["id"] in stored]


def record_punches(
    session: Session, outbox: Outbox, device: Device, items: Iterable[PunchInput], *,
    channel: str, agency_tz: str, now: datetime | None = None,
) -> IngestResult:
    """Store new punches with their events; a re-sent punch is counted as a duplicate, and a punch
    from an unknown PIN is kept in quarantine until the roster names it. Each ASN-day the batch
    touches is recomputed once; the batch's reads and writes are a few statements each, not one
    a punch."""
    now = now or utcnow()
    items = list(items)
    result = IngestResult()
    tz = ZoneInfo(agency_tz)
    contexts = _Contexts(session)
    # a few punches (a phone's one, a terminal pushing as it goes) skip the look-up: the INSERT
    # skips those stored already; for a re-sent batch the look-up spares building their events
    seen = _existing_keys(session, device, items) if len(items) > SMALL_BATCH else set()
    fresh: list[PunchInput] = []
    for item in items:
        key = (item.person_key, item.device_time)
        if key in seen:
            result.duplicates += 1
            continue
        seen.add(key)
        fresh.append(item)
    employees = _find_employees(session, device.agency, fresh)
    offset = device_tz(device)
    rows: list[dict[str, Any]] = []
    events: dict[str, Event] = {}
    for item in fresh:
        emp = employees[(item.person_key, item.by_nip)]
        row = dict(
            id=str(uuid.uuid4()), device_sn=device.sn, agency=device.agency, person_key=item.person_key,
            device_time=item.device_time,
            time=item.instant or item.device_time.replace(tzinfo=offset).astimezone(timezone.utc),
            nip=emp.nip if emp else None, status=item.status, channel=channel, received_at=now, event_id=None,
        )
        if emp is not None:
            event = events[row["id"]] = _punch_event(row, emp)
            row["event_id"] = event.id
        rows.append(row)
    stored = _store_rows(session, rows)
    # rows a concurrent request stored first are duplicates
    result.duplicates += len(rows) - len(stored)
    by_nip = {e.nip: e for e in employees.values() if e is not None}
    buffer = _OutboxBuffer(outbox)
    buffer.add_many(session, [events[row["id"]] for row in stored if row["nip"] is not None])
    placed = []
    for row in stored:
        if row["nip"] is None:
            result.quarantined += 1
            continue
        local = _local(row["time"], tz)
        placed.append((by_nip[row["nip"]], local))
        result.accepted += 1
    contexts.preload((emp, local.date()) for emp, local in placed)
    touched = {(emp.nip, owning_day(local, contexts.around(emp, local.date()))) for emp, local in placed}
    _recompute_days(session, buffer, sorted(touched), by_nip, tz=tz, now=now, contexts=contexts)
    buffer.write(session)
    unknown = sorted({row["person_key"] for row in stored if row["nip"] is None} - {it.person_key for it in fresh if it.by_nip})
    if unknown and _lock_pins(session, device.agency, unknown):
        # a roster event committed since the look-up above released what it saw, not these rows
        # (uncommitted then): with the PIN's lock held, whoever comes second releases them
        for pin in unknown:
            emp = _find_employee(session, device.agency, PunchInput(pin, None))
            if emp is not None and emp.active:
                released = release_quarantine(session, outbox, emp, agency_tz=agency_tz)
                result.quarantined -= released
                result.accepted += released
    return result


def _lock_pins(session: Session, agency: str, pins: list[str]) -> bool:
    """On PostgreSQL, a transaction-scoped lock per (agency, PIN), taken by a request that
    quarantines punches of that PIN and by the roster event that releases them, so the second
    sees the first's committed rows; True when taken. SQLite serialises writers already."""
    if session.get_bind().dialect.name != "postgresql":
        return False
    session.execute(_LOCK_KEYS, {"keys": [f"kehadiran.pin:{agency}:{pin}" for pin in sorted(pins)]}).all()
    return True


def _punch_event(row: dict[str, Any], emp: Employee) -> Event:
    return make_event(
        PUNCH_RECORDED, subject=emp.nip, agency=emp.agency, source=SOURCE,
        data={"punch_id": row["id"], "nip": emp.nip, "device_sn": row["device_sn"], "pin": row["person_key"],
              "time": row["time"], "status": row["status"], "channel": row["channel"]},
    )


def _publish_punch(session: Session, outbox: Outbox, row: PunchRow, emp: Employee) -> None:
    event = _punch_event({"id": row.id, "device_sn": row.device_sn, "person_key": row.person_key,
                          "time": row.time, "status": row.status, "channel": row.channel}, emp)
    row.event_id = event.id
    outbox.add(session, event)


def _day_span(day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The instants whose punches may belong to ``day`` (a night shift's departure is on the next date)."""
    start = datetime.combine(day - timedelta(days=1), time(0), tzinfo=tz)
    end = datetime.combine(day + timedelta(days=2), time(0), tzinfo=tz)
    return start.astimezone(timezone.utc), end.astimezone(timezone.utc)


def _owned(rows: Iterable[PunchRow], day: date, ctx: ScheduleContext, tz: ZoneInfo) -> list[Punch]:
    punches = []
    for r in rows:
        local = _local(r.time, tz)
        if owning_day(local, ctx) == day:
            punches.append(Punch(local, r.status, r.event_id, r.correction_id))
    return punches


def punches_of_day(session: Session, emp: Employee, day: date, ctx: ScheduleContext, tz: ZoneInfo) -> list[Punch]:
    """The punches whose owning day is ``day`` (a night shift's departure is on the next date)."""
    start, end = _day_span(day, tz)
    rows = session.execute(
        select(PunchRow).where(PunchRow.nip == emp.nip, PunchRow.time >= start, PunchRow.time < end)
    ).scalars().all()
    return _owned(rows, day, ctx, tz)


def recompute_day(session: Session, outbox: Outbox, nip: str, day: date, *, agency_tz: str,
                  now: datetime | None = None, contexts: _Contexts | None = None) -> DaySummaryRow | None:
    """Recompute one ASN's day from every stored fact (punches, schedule, calendar, leave) and
    publish a new version when it changed."""
    now = now or utcnow()
    tz = ZoneInfo(agency_tz)
    emp = session.get(Employee, nip)
    if emp is None:
        return None
    _lock_day(session, nip, day)
    ctx = (contexts or _Contexts(session)).around(emp, day)
    punches = punches_of_day(session, emp, day, ctx, tz)
    leave = leave_on(session, nip, day)
    current = session.get(DaySummaryRow, (nip, day))
    return _summarize(session, outbox, emp, day, ctx, punches, leave, current, tz=tz, now=now)


def _recompute_days(session: Session, outbox: Outbox | _OutboxBuffer, keys: list[tuple[str, date]],
                    employees: dict[str, Employee], *, tz: ZoneInfo, now: datetime, contexts: _Contexts) -> None:
    """``recompute_day`` for many (NIP, date) keys, sorted, with the facts of all of them read in
    a few statements after every day is locked; the day records are written when all are done."""
    keys = [(nip, day) for nip, day in keys if nip in employees]
    if not keys:
        return
    _lock_days(session, keys)
    contexts.preload((employees[nip], day) for nip, day in keys)
    current: dict[tuple[str, date], DaySummaryRow] = {}
    leaves: dict[tuple[str, date], Leave] = {}
    rows: dict[str, dict[str, PunchRow]] = defaultdict(dict)  # NIP → id → row (windows' spans overlap)
    for lo, hi in _day_windows(day for _, day in keys):
        nips = sorted({nip for nip, day in keys if lo <= day <= hi})
        start, end = _day_span(lo, tz)[0], _day_span(hi, tz)[1]
        for chunk in _chunks(nips):
            for row in session.execute(_SUMMARIES, {"nips": chunk, "lo": lo, "hi": hi}).scalars():
                current[(row.nip, row.day)] = row
            for row in session.execute(_LEAVES, {"nips": chunk, "lo": lo, "hi": hi}).scalars():
                leaves[(row.nip, row.day)] = row
            for row in session.execute(_PUNCHES, {"nips": chunk, "start": start, "end": end}).scalars():
                rows[row.nip].setdefault(row.id, row)
    for nip, day in keys:
        emp = employees[nip]
        ctx = contexts.around(emp, day)
        start, end = _day_span(day, tz)
        punches = _owned((r for r in rows[nip].values() if start <= r.time < end), day, ctx, tz)
        _summarize(session, outbox, emp, day, ctx, punches, leaves.get((nip, day)), current.get((nip, day)),
                   tz=tz, now=now, flush=False)
    session.flush()


def _summarize(session: Session, outbox: Outbox | _OutboxBuffer, emp: Employee, day: date, ctx: ScheduleContext,
               punches: list[Punch], leave: Leave | None, current: DaySummaryRow | None, *, tz: ZoneInfo,
               now: datetime, flush: bool = True) -> DaySummaryRow | None:
    """The day record from its facts; a new version is published when it changed."""
    nip = emp.nip
    window = ctx.window(day)
    day_over = now >= close_time(day, ctx).replace(tzinfo=tz)
    if current is None and not punches:
        since = tracked_since(session, nip)
        # nothing to say about a day off, a day before the ASN was tracked, or a day still
        # running with no punch; an excused workday is recorded, so the recap shows it
        if window is None or (since is not None and day < since) or (not day_over and leave is None):
            return None
    result = summarize_day(day, window, punches, excused=leave.kind if leave else None, day_over=day_over)

    def aware(t: datetime | None) -> datetime | None:
        return t.replace(tzinfo=tz) if t else None

    data = {
        "nip": nip, "date": day, "final": day_over, "workday": result.workday, "excused": result.excused,
        "arrival": aware(result.arrival), "departure": aware(result.departure),
        "minutes_late": result.minutes_late, "minutes_early": result.minutes_early,
        "deductions": [{"code": d.code, "percent": d.percent, "minutes": d.minutes} for d in result.deductions],
        "punch_event_ids": list(result.punch_event_ids), "unit": emp.unit,
    }
    if result.correction_ids:
        # only on corrected days, so the records of the others compare equal to their stored ones
        data.update(corrected=True, correction_ids=list(result.correction_ids))
    if current is not None:
        # (a first version has nothing to compare with: no need to dump the data twice)
        comparable = {k: v for k, v in data_schema(DAY_SUMMARIZED).dump({**data, "version": 1}).items()
                      if k != "version"}
        if {k: v for k, v in current.payload.items() if k != "version"} == comparable:
            return current
    version = (current.version + 1) if current else 1
    before = counts_as_tk(current.payload if current is not None else None)
    event = make_event(DAY_SUMMARIZED, subject=nip, agency=emp.agency, source=SOURCE, data={**data, "version": version})
    if current is None:
        current = DaySummaryRow(nip=nip, day=day, version=version, final=day_over, payload=event.data, updated_at=now)
        session.add(current)
    else:
        current.version, current.final, current.payload, current.updated_at = version, day_over, event.data, now
    outbox.add(session, event)
    if flush:
        session.flush()
    if counts_as_tk(event.data) != before:
        # whether this closed workday is TK changed: the year's PP 94/2021 alerts follow at commit
        note_year(session, getattr(outbox, "outbox", outbox), nip, day.year, agency_tz=tz.key)
    return current


def _lock_key(nip: str, day: date) -> str:
    return f"kehadiran.day:{nip}:{day.isoformat()}"


def _lock_day(session: Session, nip: str, day: date) -> None:
    """Serialise recomputing one ASN-day across concurrent requests (two terminals, a device and
    the day closer): on PostgreSQL a transaction-scoped advisory lock, after which this
    transaction reads the other's committed punches and version. Callers take days in (NIP, date)
    order, so two batches cannot deadlock. SQLite writers are serialised by BEGIN IMMEDIATE."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"), {"key": _lock_key(nip, day)})
        # what this session read of the day before the lock may be stale
        current = session.get(DaySummaryRow, (nip, day))
        if current is not None:
            session.refresh(current)


def _lock_days(session: Session, keys: list[tuple[str, date]]) -> None:
    """``_lock_day``'s lock for each of ``keys`` (sorted), in that order, in one statement; the
    caller reads the days after this, with ``populate_existing``."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(_LOCK_KEYS, {"keys": [_lock_key(nip, day) for nip, day in keys]}).all()


CLOSE_CHUNK = 100  # ASN whose days one round of ``recompute_days`` recomputes together


def recompute_days(session: Session, outbox: Outbox, employees: Iterable[Employee], days: Iterable[date], *,
                   agency_tz: str, now: datetime | None = None) -> int:
    """``recompute_day`` for every (ASN, day) pair; the days of a chunk of ASN are recomputed
    together (their facts read in a few statements a week of days, as for a batch of punches).
    Returns the day records published."""
    now = now or utcnow()
    tz = ZoneInfo(agency_tz)
    contexts = _Contexts(session)
    employees = sorted(employees, key=lambda e: e.nip)
    days = sorted(set(days))
    published = 0
    for i in range(0, len(employees), CLOSE_CHUNK):
        chunk = {e.nip: e for e in employees[i:i + CLOSE_CHUNK]}
        buffer = _OutboxBuffer(outbox)
        _recompute_days(session, buffer, [(nip, day) for nip in sorted(chunk) for day in days], chunk,
                        tz=tz, now=now, contexts=contexts)
        published += sum(1 for e in buffer.events if e.type == DAY_SUMMARIZED)
        buffer.write(session)
    return published


def close_days(session: Session, outbox: Outbox, agency: str, start: date, end: date, *, agency_tz: str,
               now: datetime | None = None) -> int:
    """Finalise every active ASN's workdays from ``start`` to ``end``: a day nobody punched on
    becomes TK. Returns how many day records were published."""
    return recompute_days(session, outbox, employees_of(session, agency), daterange(start, end),
                          agency_tz=agency_tz, now=now)


def close_due_days(session: Session, outbox: Outbox, *, agency_tz: str, now: datetime | None = None) -> int:
    """Close, per agency, the days from its cursor up to yesterday (local); yesterday is visited
    again next time, since a night shift that began then may still be running."""
    now = now or utcnow()
    tz = ZoneInfo(agency_tz)
    yesterday = now.astimezone(tz).date() - timedelta(days=1)
    published = 0
    agencies = session.execute(select(Employee.agency).distinct()).scalars().all()
    for agency in agencies:
        # locked: a roster event may move it back meanwhile (an earlier TMT)
        cursor = session.get(ClosingCursor, agency, with_for_update=True)
        if cursor is None:
            first = session.execute(
                select(func.min(Tracking.since)).join(Employee, Employee.nip == Tracking.nip)
                .where(Employee.agency == agency)
            ).scalar()
            if first is None:
                continue
            cursor = ClosingCursor(agency=agency, closed_through=first - timedelta(days=1))
            session.add(cursor)
        start = min(cursor.closed_through + timedelta(days=1), yesterday)
        if start > yesterday:
            continue
        published += close_days(session, outbox, agency, start, yesterday, agency_tz=agency_tz, now=now)
        cursor.closed_through = max(cursor.closed_through, yesterday - timedelta(days=1))
    return published


# -- roster -----------------------------------------------------------------------------------
def apply_roster_event(session: Session, outbox: Outbox, event: Event, *, agency_tz: str) -> None:
    if event.type != EMPLOYEE_UPSERTED:
        return
    d = event.data
    emp = session.get(Employee, d["nip"])
    if emp is None:
        emp = Employee(nip=d["nip"])
        session.add(emp)
    old_tmt = emp.tmt
    emp.nama, emp.agency, emp.unit = d["nama"], d["agency"], d["unit"]
    emp.atasan_nip, emp.pin, emp.active = d.get("atasan_nip"), d.get("pin"), d.get("active", True)
    emp.tmt = _as_date(d.get("tmt"))
    emp.tpp_base = d.get("tpp")
    session.flush()
    follow_tmt(session, outbox, emp, old_tmt, event.time.astimezone(ZoneInfo(agency_tz)).date(), agency_tz=agency_tz)
    if emp.pin and emp.active:
        _lock_pins(session, emp.agency, [emp.pin])
        release_quarantine(session, outbox, emp, agency_tz=agency_tz)


def _as_date(value) -> date | None:
    # a decoded event gives a date, one built in-process its ISO text
    return date.fromisoformat(value) if isinstance(value, str) else value


def follow_tmt(session: Session, outbox: Outbox, emp: Employee, old_tmt: date | None, seen_on: date, *,
               agency_tz: str) -> None:
    """Workdays are closed (TK included) from the ASN's TMT, else from the day the roster first
    named them (``domain.tracking``). When that start moves earlier than the days the agency has
    closed, its closing cursor goes back, so the day closer closes them; when the TMT moves, the
    days already recorded between the old and the new one are recomputed."""
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
        ).order_by(DaySummaryRow.day)).scalars().all()
        for day in days:
            recompute_day(session, outbox, emp.nip, day, agency_tz=agency_tz)


def release_quarantine(session: Session, outbox: Outbox, emp: Employee, *, agency_tz: str) -> int:
    """Punches kept from a PIN the roster did not know are applied once it does."""
    rows = session.execute(
        select(PunchRow).where(PunchRow.agency == emp.agency, PunchRow.person_key == emp.pin, PunchRow.nip.is_(None))
    ).scalars().all()
    tz = ZoneInfo(agency_tz)
    contexts = _Contexts(session)
    days = set()
    for row in rows:
        row.nip = emp.nip
        _publish_punch(session, outbox, row, emp)
        local = _local(row.time, tz)
        days.add(owning_day(local, contexts.around(emp, local.date())))
    session.flush()
    for day in sorted(days):
        recompute_day(session, outbox, emp.nip, day, agency_tz=agency_tz, contexts=contexts)
    return len(rows)


def register_device(session: Session, *, sn: str, agency: str, tz_offset_minutes: int, name: str = "",
                    actor: str = "kinerja") -> Device:
    """Register ``sn`` for ``agency`` (see ``registry.register``: another agency's serial is refused)."""
    from kehadiran.service_layer import registry

    return registry.register(session, sn=sn, agency=agency, tz_offset_minutes=tz_offset_minutes, name=name,
                             actor=actor)
