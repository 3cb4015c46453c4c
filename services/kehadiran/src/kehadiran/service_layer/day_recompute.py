"""Recomputing days from the stored facts: the day worker's one idea.

A dirty marker (NIP, date) says something dated that date changed for the ASN. The recompute
takes the ASN's lock, reads the facts of the marked dates (schedule, calendar, leave, TMT, the
stored day records, and the punches each date can own: ``day_facts``) a few statements for the
whole batch, and recomputes the marked date and the days owning the punches dated it (a night
shift's departure after midnight belongs to the day before), whose facts it reads then. A day
whose record changed gets a new version and a ``kehadiran.day.summarized.v1`` event; an
unchanged one gets nothing. Which (ASN, year)'s PP 94/2021 alerts need reconciling (a closed
workday became TK or stopped being), and which only where an alert stands (an ordinary workday
closed), is returned.

Everything is a function of the stored facts, read under the ASN's lock, so recomputing the same
key twice, or keys in any order, gives the same records.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Callable
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from kehadiran.adapters import day_store, day_write, outbox_events
from kehadiran.adapters.day_store import Asn, StoredDay, StoredPunch
from kehadiran.domain.alerts import only_withdraws
from kehadiran.domain.discipline import Punch, summarize_day
from kehadiran.domain.schedule import ScheduleContext, close_time, owning_day
from kehadiran.service_layer.alerts import counts_as_tk
from kehadiran.service_layer.day_facts import DayFacts
from kehadiran.service_layer.round_contexts import RoundContexts

ZoneOf = Callable[[str], ZoneInfo]
BurstOf = Callable[[str], timedelta]


def no_burst(agency: str) -> timedelta:
    return timedelta(0)
_ONE_DAY = timedelta(days=1)
_NOT_TK = counts_as_tk(None)  # (a closed workday, TK) of a day with no record yet
# ``only_withdraws`` of every (before, after) pair of (a closed workday, TK), looked up per changed day
_STATES = ((False, False), (True, False), (True, True), (False, True))
_ONLY_WITHDRAWS = {(b, a): only_withdraws(b, a) for b in _STATES for a in _STATES}
_make = tuple.__new__  # a Punch from all its fields without its Python ``__new__``: one per punch and day


@dataclass
class Outcome:
    published: int = 0  # day records with a new version
    alert_years: set[tuple[str, int]] = field(default_factory=set)
    # (ASN, year)s whose change can only withdraw an alert: reconciled only where one stands
    alert_maybe: set[tuple[str, int]] = field(default_factory=set)
    events: list[dict[str, Any]] = field(default_factory=list)
    # the records to insert and to update (``write=False``: for the caller's ``write_outcome``)
    new: list[dict[str, Any]] = field(default_factory=list)
    changed: list[dict[str, Any]] = field(default_factory=list)


def recompute(session: Session, marked: list[tuple[str, date]], *, zone_of: ZoneOf, now: datetime,
              burst_of: BurstOf = no_burst, locked: bool = False, write: bool = True,
              after_reads: Callable[[], None] | None = None) -> Outcome:
    """Recompute what the markers name; the day records and their outbox rows are written in
    ``session``'s transaction. ``locked``: the transaction holds every marked ASN's lock already
    (``markers.claim`` took them with the markers). ``write=False``: only read and computed (the
    SQLite round's snapshot, ``day_round_sqlite``), written later by ``write_outcome``;
    ``after_reads``: called once the facts are read, before the computing (that round ends its
    read transaction there)."""
    conn = session.connection()
    day_store.fast_json(conn)
    nips = sorted({nip for nip, _ in marked})
    if not locked:
        day_store.lock_asn(conn, nips)  # before any fact is read
    people, since = day_store.asns_tracked(conn, nips)
    marked = [(nip, day) for nip, day in marked if nip in people]
    contexts = RoundContexts(conn, [people[nip] for nip in {nip for nip, _ in marked}], [day for _, day in marked])
    # per agency once a round, not per day
    zones = {agency: zone_of(agency) for agency in {emp.agency for emp in people.values()}}
    bursts = {agency: burst_of(agency) for agency in zones}
    ctx_of = {nip: contexts.around(people[nip]) for nip in {nip for nip, _ in marked}}
    facts = DayFacts(conn, ctx_of, {nip: zones[emp.agency] for nip, emp in people.items()})
    facts.read(marked)
    dated = _dated(facts.punches, people, zones)
    # the marked days, and the days their punches belong to (a night shift's departure is dated the
    # day after its shift): each punch's owning day worked out once a round
    owners: dict[str, date] = {}
    targets = set(marked)
    for nip, day in marked:
        per_date = dated.get(nip)
        if per_date:
            for moment, p in per_date.get(day, ()):
                found = owners.get(p.id)
                if found is None:
                    found = owners[p.id] = owning_day(moment, ctx_of[nip])
                targets.add((nip, found))
    extra = targets - facts.covered
    if extra:
        # the few days a punch of a marked day belongs to: their own facts, and their ASN's punches
        # dated again (only theirs: the second read asked for no one else's)
        facts.read(extra)
        again = {nip for nip, _ in extra}
        dated.update(_dated({nip: facts.punches[nip] for nip in again}, people, zones))
    stored, leaves = facts.stored, facts.leaves
    if after_reads is not None:
        after_reads()
    # whether a day is over (its close, ``close_time``, passed): once per context and date, not per ASN
    overs: dict[tuple[int, date], bool] = {}
    at = now.isoformat()  # the events' time, written once
    out = Outcome()
    new, changed = [], []
    for nip, day in sorted(targets):
        emp = people[nip]
        ctx = ctx_of[nip]
        per_date = dated.get(nip)
        owned = []
        if per_date:
            for d in (day - _ONE_DAY, day, day + _ONE_DAY):
                for moment, p in per_date.get(d, ()):
                    found = owners.get(p.id)
                    if found is None:
                        found = owners[p.id] = owning_day(moment, ctx)
                    if found == day:
                        owned.append(_make(Punch, (moment, p.status, p.event_id, p.correction_id)))
        tz = zones[emp.agency]
        over = overs.get((id(ctx), day))
        if over is None:
            over = overs[(id(ctx), day)] = now >= close_time(day, ctx).replace(tzinfo=tz)
        current = stored.get((nip, day))
        record = day_record(emp, day, ctx, owned, leaves.get((nip, day)), current, since.get(nip),
                            tz=tz, now=now, burst=bursts[emp.agency], day_over=over)
        if record is None:
            continue
        row = {"nip": nip, "day": day, "version": record["version"], "final": record["final"], "payload": record}
        (changed if current is not None else new).append(row)
        out.events.append(outbox_events.day_summarized(nip=nip, agency=emp.agency, data=record, at=at))
        before = counts_as_tk(current.payload) if current is not None else _NOT_TK
        after = counts_as_tk(record)
        if before != after:
            (out.alert_maybe if _ONLY_WITHDRAWS[before, after] else out.alert_years).add((nip, day.year))
    out.new, out.changed = new, changed
    out.published = len(out.events)
    if write:
        write_outcome(session, out)
    return out


def _dated(punches: dict[str, dict[str, StoredPunch]], people: dict[str, Asn], zones: dict[str, ZoneInfo]
           ) -> dict[str, dict[date, list[tuple[datetime, StoredPunch]]]]:
    """Each ASN's punches by local date, in time order, with their local times."""
    dated: dict[str, dict[date, list[tuple[datetime, StoredPunch]]]] = {}
    for nip, by_id in punches.items():
        tz = zones[people[nip].agency]
        per_date: dict[date, list[tuple[datetime, StoredPunch]]] = defaultdict(list)
        local = []  # a loop, not a comprehension: that is a function called per ASN
        for p in by_id.values():
            local.append((p.time.astimezone(tz).replace(tzinfo=None), p))
        for moment, p in sorted(local):
            per_date[moment.date()].append((moment, p))
        dated[nip] = per_date
    return dated


def write_outcome(session: Session, out: Outcome) -> None:
    """``out``'s records and their outbox rows, in ``session``'s (write) transaction."""
    # written at: when the records went in (the round's clock, ``now``, decides what is over)
    written = datetime.now(timezone.utc)
    for row in out.new + out.changed:
        row["updated_at"] = written
    day_write.write_days(session.connection(), out.new, out.changed, out.events, at=written)


def local_iso(t: datetime, tz: ZoneInfo) -> str:
    """``t.replace(tzinfo=tz).isoformat()`` (``t`` naive, local), the zone's offset looked up
    once per date (a fifth of the cost): a date whose offset is the same at its start and its
    end is taken to keep it all day; another one (a change of offset that day) per time."""
    suffix = _day_offset(tz, t.date())
    return t.isoformat() + suffix if suffix is not None else t.replace(tzinfo=tz).isoformat()


@lru_cache(maxsize=4096)
def _day_offset(tz: ZoneInfo, day: date) -> str | None:
    start = datetime.combine(day, time(0), tzinfo=tz).utcoffset()
    end = datetime.combine(day, time.max, tzinfo=tz).utcoffset()
    if start != end:
        return None
    return datetime(2000, 1, 1, tzinfo=timezone(start)).isoformat()[19:]


# a deduction's percent as the record writes it, per value (a Decimal's format is ~1.5 us, a few a day)
_PERCENT_TEXT: dict = {}


def _percent_text(percent) -> str:
    text = f"{percent:.2f}"
    if len(_PERCENT_TEXT) < 256:  # a deduction table's few values
        _PERCENT_TEXT[percent] = text
    return text


def day_record(emp: Asn, day: date, ctx: ScheduleContext, punches: list[Punch], leave: str | None,
               current: StoredDay | None, since: date | None, *, tz: ZoneInfo, now: datetime,
               burst: timedelta = timedelta(0), day_over: bool | None = None) -> dict[str, Any] | None:
    """The day's record (the ``kehadiran.day.summarized.v1`` data, JSON-ready) when it is new or
    differs from ``current``; None when there is nothing (new) to say. ``day_over``: whether
    ``now`` is past the day's close (``close_time``), when the caller knows it already."""
    window = ctx.window(day)
    if day_over is None:
        day_over = now >= close_time(day, ctx).replace(tzinfo=tz)
    if current is None and not punches:
        # nothing to say about a day off, a day before the ASN was tracked, or a day still
        # running with no punch; an excused workday is recorded, so the recap shows it
        if window is None or (since is not None and day < since) or (not day_over and leave is None):
            return None
    result = summarize_day(day, window, punches, excused=leave, day_over=day_over, burst=burst)

    arrival, departure = result.arrival, result.departure
    deductions = []  # a loop, not a comprehension: that is a function called per day
    for d in result.deductions:
        deductions.append({"code": d.code, "percent": _PERCENT_TEXT.get(d.percent) or _percent_text(d.percent),
                           "minutes": d.minutes})
    data = {
        "nip": emp.nip, "date": day.isoformat(), "version": 0, "final": day_over, "workday": result.workday,
        "excused": result.excused, "arrival": local_iso(arrival, tz) if arrival else None,
        "departure": local_iso(departure, tz) if departure else None,
        "minutes_late": result.minutes_late, "minutes_early": result.minutes_early,
        "deductions": deductions,
        "punch_event_ids": list(result.punch_event_ids), "unit": emp.unit,
    }
    if result.correction_ids:
        # only on corrected days, so the records of the others compare equal to their stored ones
        data.update(corrected=True, correction_ids=list(result.correction_ids))
    if current is not None:
        data["version"] = current.version
        if current.payload == data:
            return None
    data["version"] = current.version + 1 if current is not None else 1
    return data
