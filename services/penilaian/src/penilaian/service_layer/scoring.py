"""Event handlers: store the fact an event states, then recompute the affected ASN's month,
quarter and year from all stored facts, in the consumer's transaction. Score rows and their
``penilaian.score.updated.v1`` events (outbox) are written together, and only when a value moved.
"""
from __future__ import annotations

import json
import uuid
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, Iterable
from zoneinfo import ZoneInfo

from sqlalchemy import JSON, bindparam, case, func, select, text, tuple_, type_coerce, update
from sqlalchemy.orm import Session

from kinerja.events import decode_event, make_event
from kinerja.events.envelope import Event
from kinerja.events.kehadiran import DAY_SUMMARIZED
from kinerja.events.pegawai import EMPLOYEE_UPSERTED
from kinerja.events.penilaian import (
    DIALOG_RECORDED,
    MEMBERSHIP_RECORDED,
    ORGANISATION_RATED,
    POLICY_SET,
    RATING_RECORDED,
    SCORE_UPDATED,
    TRAINING_RECORDED,
)
from kinerja.events.tugas import (
    FEEDBACK_POSTED,
    INNOVATION_APPROVED,
    SKP_APPROVED,
    TASK_APPROVED,
    TASK_ASSIGNED,
    TASK_CANCELLED,
    TASK_OVERDUE,
    TASK_RESCHEDULED,
    TASK_RETURNED,
    TASK_SUBMITTED,
)
from kinerja.messaging.outbox import Outbox
from penilaian.adapters.orm import (
    DayFactRow,
    DialogRow,
    Employee,
    FeedbackFactRow,
    InnovationFactRow,
    OrganisationRatingRow,
    PolicyRow,
    RatingRow,
    ScoreRow,
    SkpFactRow,
    TaskFactRow,
    TrainingRow,
)
from penilaian.service_layer import memberships, policy_recompute
from penilaian.domain import membership
from penilaian.domain.membership import Statement
from penilaian.domain.periods import Period, parse_period, periods_containing
from penilaian.domain.policy import PolicyVersion, make_policy, policy_in_force, policy_values
from penilaian.domain.scoring import (
    APPROVED,
    CANCELLED,
    DEFAULT_POLICY,
    STATUS_RANK,
    DayDeduction,
    DayFact,
    InnovationFact,
    Policy,
    Rating,
    Score,
    TaskFact,
    compute_score,
    task_state_key,
)

SOURCE = "kinerja/penilaian"
# a reschedule states the task's open state under its new terms: like any open state the latest
# wins, its due date decides the period the task counts in and its timeliness, and the period it
# left is recomputed too (``store_task_fact``)
TASK_TYPES = frozenset({TASK_ASSIGNED, TASK_SUBMITTED, TASK_APPROVED, TASK_RETURNED, TASK_OVERDUE, TASK_CANCELLED,
                        TASK_RESCHEDULED})
VALUE_FIELDS = ("disiplin", "produktivitas", "perilaku", "hasil_kerja", "total", "total_partial", "predikat")


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def as_utc(t: datetime) -> datetime:
    # SQLite hands back naive datetimes for timezone-aware columns; they were stored as UTC
    return t.replace(tzinfo=timezone.utc) if t.tzinfo is None else t.astimezone(timezone.utc)


def local_date(t: datetime | None, tz: ZoneInfo) -> date | None:
    return as_utc(t).astimezone(tz).date() if t is not None else None


def lock_asn(session: Session, nip: str) -> None:
    """Serialise recomputes of one ASN: their events come from several topics, so two consumer
    processes may hold them at once. SQLite already serialises writers (BEGIN IMMEDIATE)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": "penilaian:" + nip})


class Batch:
    """What one transaction has already read or locked: the advisory locks it holds (taken once
    each), and fact rows by primary key, fetched for a whole batch of events in one query per table
    (``prefetch``) instead of one ``session.get`` per event; a key fetched and not found is known
    to be absent until the batch adds it. Rows stay in the session, so changes to them are flushed
    together (autoflush before the next query) rather than one statement per event."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.postgres = session.get_bind().dialect.name == "postgresql"
        self.locked: set[str] = set()
        self.rows: dict[type, dict[Any, Any]] = {}
        self.roster_moves: dict[str, str] = {}  # nip -> agency its score rows must follow
        self.statements: dict[str, list[Statement]] = {}  # nip -> its agency statements (read once)
        self.moved: dict[str, str] = {}  # nip -> the event whose statement changed its agency somewhere
        self.stated: list[tuple[str, Statement]] = []  # roster statements kept: published as recorded

    def statements_of(self, nip: str) -> list[Statement]:
        if nip not in self.statements:
            self.statements.update({nip: []} | memberships.statements_of(self.session, [nip]))
        return self.statements[nip]

    def note_statement(self, nip: str, statement: Statement, *, cause: str, from_roster: bool) -> None:
        """Keep a statement of the ASN's agency if it is news: a roster event's when it changes
        the agency of some month, a recorded one's whenever it is newer for its month."""
        known = self.statements_of(nip)
        if from_roster and not membership.changes_anything(known, statement):
            return
        after = membership.kept(known, statement)
        if after == known:
            return
        memberships.store(self.session, nip, statement)
        self.statements[nip] = after
        self.moved[nip] = cause
        if from_roster:
            self.stated.append((nip, statement))

    def touch_moved(self, touched: "Touched", agency_of: dict[str, str]) -> None:
        """Every stored period of the ASN whose agency changed somewhere is recomputed (each by the
        policy of its agency on its first day); one query per 500 ASN."""
        nips = sorted(self.moved)
        periods: dict[str, list[date]] = {}
        for i in range(0, len(nips), 500):
            for nip, name in self.session.execute(select(ScoreRow.nip, ScoreRow.period).where(
                    ScoreRow.nip.in_(nips[i:i + 500]))):
                periods.setdefault(nip, []).append(parse_period(name).start)
        for nip in nips:
            touched.add(nip, periods.get(nip, []), agency=agency_of.get(nip, "-"), cause=self.moved[nip])
        self.moved.clear()

    def lock(self, nip: str) -> None:
        if nip not in self.locked:
            self.locked.add(nip)
            if self.postgres:
                lock_asn(self.session, nip)

    def lock_all(self, nips: Iterable[str]) -> None:
        """The locks of several ASN in one statement, in a fixed (sorted) order, so two batches
        never wait on each other in a cycle."""
        todo = sorted(set(nips) - self.locked)
        if not todo:
            return
        self.locked.update(todo)
        if self.postgres:
            # unnest gives the array's elements in order, each lock taken as its row is produced
            self.session.execute(text("SELECT pg_advisory_xact_lock(hashtext(k)) FROM unnest(CAST(:keys AS text[])) AS k"),
                                 {"keys": ["penilaian:" + nip for nip in todo]}).all()

    def prefetch(self, model: type, keys: Iterable[Any]) -> None:
        known = self.rows.setdefault(model, {})
        todo = sorted({k for k in keys if k not in known})
        if not todo:
            return
        pk = model.__mapper__.primary_key
        for i in range(0, len(todo), 500):
            chunk = todo[i:i + 500]
            if len(pk) == 1:
                where = pk[0].in_(chunk)
                key_of = lambda r: getattr(r, pk[0].key)  # noqa: E731
            else:
                where = tuple_(*pk).in_(chunk)
                key_of = lambda r: tuple(getattr(r, c.key) for c in pk)  # noqa: E731
            for row in self.session.execute(select(model).where(where)).scalars():
                known[key_of(row)] = row
            for k in chunk:
                known.setdefault(k, None)

    def get(self, model: type, key: Any):
        known = self.rows.setdefault(model, {})
        if key in known:
            return known[key]
        row = known[key] = self.session.get(model, key)
        return row

    def added(self, model: type, key: Any, row: Any) -> None:
        self.session.add(row)
        self.rows.setdefault(model, {})[key] = row

    def follow_roster(self) -> None:
        """Score rows stored before the roster knew the ASN (or under its former agency) follow
        the roster's agency: one UPDATE per agency for the roster events of the batch so far."""
        by_agency: dict[str, list[str]] = {}
        for nip, agency in self.roster_moves.items():
            by_agency.setdefault(agency, []).append(nip)
        self.roster_moves.clear()
        for agency, nips in sorted(by_agency.items()):
            nips.sort()
            for i in range(0, len(nips), 500):
                self.session.execute(update(ScoreRow).where(ScoreRow.nip.in_(nips[i:i + 500]),
                                                            ScoreRow.agency != agency).values(agency=agency))

    def prepare(self, events: list[Event]) -> None:
        """Take the locks of every ASN the events name, then read their fact rows in bulk."""
        nips, days, tasks, innovations, employees = set(), set(), set(), set(), set()
        for e in events:
            t, d = e.type, e.data
            if t == DAY_SUMMARIZED:
                nips.add(d["nip"])
                days.add((d["nip"], d["date"]))
            elif t in TASK_TYPES:
                nips.add(d["nip"])
                tasks.add(d["task_id"])
            elif t == INNOVATION_APPROVED:
                nips.add(d["nip"])
                innovations.add(d["innovation_id"])
            elif t == EMPLOYEE_UPSERTED:
                employees.add(d["nip"])
                nips.add(d["nip"])  # its statement of the agency may call for a recompute
            elif t in (RATING_RECORDED, MEMBERSHIP_RECORDED):
                nips.add(d["nip"])
        self.lock_all(nips)
        stated = employees | {e.data["nip"] for e in events if e.type == MEMBERSHIP_RECORDED}
        self.statements.update({nip: [] for nip in stated} | memberships.statements_of(self.session, stated))
        self.prefetch(DayFactRow, days)
        self.prefetch(TaskFactRow, tasks)
        self.prefetch(InnovationFactRow, innovations)
        self.prefetch(Employee, employees)


# -- dispatch ----------------------------------------------------------------------------------
class Touched:
    """What a batch of events made stale: per NIP the days whose month, quarter and year must be
    recomputed, the agency to file them under if the roster does not know the ASN, and the event
    that last made us look (named as ``caused_by`` in the score updates)."""

    def __init__(self) -> None:
        self.days: dict[str, set[date]] = {}
        self.agency: dict[str, str] = {}
        self.cause: dict[str, str] = {}

    def add(self, nip: str, days: Iterable[date], *, agency: str, cause: str) -> None:
        days = [d for d in days if d is not None]
        if not days:
            return
        self.days.setdefault(nip, set()).update(days)
        self.agency[nip], self.cause[nip] = agency, cause


_POLICY_CACHE: dict[tuple[str, str], Policy] = {}


def _policy_of(policy_id: str, values: dict) -> Policy:
    """``make_policy`` of a stored version, built once per process (a version is never changed
    once stored; the key holds its numbers too, so another database's same id cannot mix in)."""
    key = (policy_id, json.dumps(values, sort_keys=True, default=str))
    policy = _POLICY_CACHE.get(key)
    if policy is None:
        if len(_POLICY_CACHE) > 10_000:
            _POLICY_CACHE.clear()
        policy = _POLICY_CACHE[key] = make_policy(values)
    return policy


class Policies:
    """The policy versions of each agency, read once per transaction (and again after a change)."""

    def __init__(self, session: Session, override: Policy | None = None) -> None:
        self.session, self.override, self._by_agency = session, override, {}

    def versions(self, agency: str) -> list[PolicyVersion]:
        if agency not in self._by_agency:
            self._by_agency[agency] = [
                PolicyVersion(r.policy_id, r.agency, r.version, r.effective_from, _policy_of(r.policy_id, r.values))
                for r in self.session.execute(select(
                    PolicyRow.policy_id, PolicyRow.agency, PolicyRow.version, PolicyRow.effective_from,
                    PolicyRow.values).where(PolicyRow.agency == agency))]
        return self._by_agency[agency]

    def forget(self, agency: str) -> None:
        self._by_agency.pop(agency, None)

    def for_period(self, agency: str | None, period: Period) -> Policy:
        if self.override is not None:
            return self.override
        return policy_in_force(self.versions(agency), period.start) if agency else DEFAULT_POLICY


def apply_event(session: Session, outbox: Outbox, event: Event, *, tz: str,
                policy: Policy | None = None) -> list[ScoreRow]:
    """Apply one event from ``kehadiran.v1``, ``tugas.v1``, ``pegawai.v1`` or ``penilaian.v1``;
    returns the score rows whose values changed. Types that do not bear on scores (and
    penilaian's own score updates) are accepted and ignored."""
    return apply_batch(session, outbox, [event], tz=tz, policy=policy)


def apply_batch(session: Session, outbox: Outbox | None, events: Iterable[Event], *, tz: str,
                policy: Policy | None = None) -> list[ScoreRow]:
    """Store the facts of several events, then recompute each affected ASN once. Gives the same
    rows as applying the events one by one (scores are a function of the stored facts); the score
    updates published are the net changes. ``outbox`` None publishes nothing (a rebuild)."""
    zone = ZoneInfo(tz)
    touched = Touched()
    policies = Policies(session, policy)
    events = list(events)
    batch = Batch(session)
    batch.prepare(events)
    agencies: dict[str, str] = {}
    for event in events:
        store_event(session, event, zone, touched, policies, batch)
        if event.type in (EMPLOYEE_UPSERTED, MEMBERSHIP_RECORDED):
            agencies[event.data["nip"]] = event.data["agency"]
    batch.follow_roster()
    batch.touch_moved(touched, agencies)
    if outbox is not None and batch.stated:
        outbox.add_many(session, [memberships.recorded_event(nip, st) for nip, st in batch.stated])
    batch.stated.clear()
    return recompute_many(session, outbox, touched, zone=zone, policies=policies, batch=batch)


def store_event(session: Session, event: Event, zone: ZoneInfo, touched: Touched, policies: Policies,
                batch: Batch | None = None) -> None:
    """Store the fact one event states; note in ``touched`` what must be recomputed. ``batch``
    (shared by the events of one transaction) holds the rows read and the locks taken; the caller
    calls its ``follow_roster`` once the events are stored."""
    if batch is None:
        batch = Batch(session)
        store_event(session, event, zone, touched, policies, batch)
        batch.follow_roster()
        batch.touch_moved(touched, {event.data["nip"]: event.data["agency"]} if event.type in (
            EMPLOYEE_UPSERTED, MEMBERSHIP_RECORDED) else {})
        return
    t = event.type
    if t == EMPLOYEE_UPSERTED:
        apply_roster(session, event, batch)
        batch.note_statement(event.data["nip"], memberships.from_roster(event, zone), cause=event.id,
                             from_roster=True)
    elif t == MEMBERSHIP_RECORDED:
        batch.note_statement(event.data["nip"], memberships.from_recorded(event), cause=event.id,
                             from_roster=False)
    elif t == DAY_SUMMARIZED:
        nip = event.data["nip"]
        batch.lock(nip)
        touched.add(nip, [store_day_fact(session, event, batch)], agency=event.agency, cause=event.id)
    elif t in TASK_TYPES:
        for nip, days in sorted(store_task_fact(session, event, zone, batch).items()):
            touched.add(nip, days, agency=event.agency, cause=event.id)
    elif t == INNOVATION_APPROVED:
        nip = event.data["nip"]
        batch.lock(nip)
        touched.add(nip, store_innovation(session, event, zone, batch), agency=event.agency, cause=event.id)
    elif t == RATING_RECORDED:
        batch.lock(event.data["nip"])
        row = store_rating(session, event)
        if row is not None and row.rater == "atasan":
            touched.add(row.nip, [parse_period(row.period).start], agency=event.agency, cause=row.rating_id)
    elif t == TRAINING_RECORDED:
        store_training(session, event)
    elif t == DIALOG_RECORDED:
        store_dialog(session, event)
    elif t == POLICY_SET:
        # the version is stored; its agency's ASN are recomputed by the consumer in bounded batches
        # (``policy_recompute``), not in this transaction
        row = store_policy(session, event)
        if row is not None:
            policies.forget(row.agency)
        policy_recompute.queue(session, event.data["policy_id"], event.data["agency"],
                               event.data["effective_from"].replace(day=1))
    elif t == ORGANISATION_RATED:
        store_organisation_rating(session, event)
    elif t == SKP_APPROVED:
        store_skp(session, event)
    elif t == FEEDBACK_POSTED:
        store_feedback(session, event)


# -- facts -------------------------------------------------------------------------------------
def apply_roster(session: Session, event: Event, batch: Batch | None = None) -> Employee:
    d = event.data
    own = batch is None
    batch = batch or Batch(session)
    emp = batch.get(Employee, d["nip"])
    if emp is None:
        emp = Employee(nip=d["nip"])
        batch.added(Employee, d["nip"], emp)
    emp.nama, emp.agency, emp.unit = d["nama"], d["agency"], d["unit"]
    emp.atasan_nip, emp.active = d.get("atasan_nip"), d.get("active", True)
    emp.jabatan = (d.get("jabatan") or "")[:200]
    # scores stored before the roster knew the ASN carry the agency of their events: follow the
    # roster (the batch does it for all its roster events at once, before any recompute)
    batch.roster_moves[emp.nip] = emp.agency
    if own:
        batch.follow_roster()
    return emp


def store_day_fact(session: Session, event: Event, batch: Batch | None = None) -> date | None:
    """Keep the highest version of the day (ties: the greater event id). Returns the day when
    the stored fact changed, else None."""
    d = event.data
    key = (d["nip"], d["date"])
    batch = batch or Batch(session)
    row = batch.get(DayFactRow, key)
    if row is not None and (row.version, row.event_id) >= (d["version"], event.id):
        return None
    if row is None:
        row = DayFactRow(nip=d["nip"], day=d["date"])
        batch.added(DayFactRow, key, row)
    row.version, row.event_id, row.agency = d["version"], event.id, event.agency
    row.workday, row.excused = bool(d.get("workday", True)), d.get("excused")
    row.deductions = [{"code": x["code"], "percent": str(Decimal(x["percent"])), "minutes": x.get("minutes")}
                      for x in d.get("deductions") or []]
    row.punch_event_ids = list(d.get("punch_event_ids") or [])
    row.corrected = bool(d.get("corrected"))
    return d["date"]


def _open_on(event: Event, zone: ZoneInfo) -> date | None:
    d = event.data
    if event.type == TASK_OVERDUE:
        return max(local_date(event.time, zone), d["due_date"] + timedelta(days=1))
    if d["status"] in (APPROVED, CANCELLED):
        return None
    return local_date(event.time, zone)


def store_task_fact(session: Session, event: Event, zone: ZoneInfo,
                    batch: Batch | None = None) -> dict[str, list[date]]:
    """Merge one task event into the task's fact: the state with the greatest
    ``task_state_key`` wins, and ``last_open_on`` is a running maximum. Both are order-independent.
    Returns the due dates to recompute per NIP (old and new, if the task moved)."""
    d = event.data
    batch = batch or Batch(session)
    batch.lock(d["nip"])
    row = batch.get(TaskFactRow, d["task_id"])
    if row is not None and row.nip != d["nip"]:
        batch.lock(row.nip)  # the task moved to another ASN
    open_on = _open_on(event, zone)
    key = task_state_key(d["status"], as_utc(event.time), event.id)
    touched: dict[str, list[date]] = {}
    if row is None:
        row = TaskFactRow(task_id=d["task_id"], last_open_on=None)
        batch.added(TaskFactRow, d["task_id"], row)
        wins = True
    else:
        touched.setdefault(row.nip, []).append(row.due_date)
        wins = key > task_state_key(row.status, as_utc(row.event_time), row.event_id)
    before = (row.last_open_on, row.event_id)
    if open_on is not None and (row.last_open_on is None or open_on > row.last_open_on):
        row.last_open_on = open_on
    if wins:
        row.nip, row.agency, row.title = d["nip"], event.agency, d["title"]
        row.status, row.status_rank = d["status"], STATUS_RANK.get(d["status"], 1)
        row.event_time, row.event_id, row.due_date = as_utc(event.time), event.id, d["due_date"]
        row.target_quantity = str(Decimal(d["target_quantity"]))
        rq = d.get("realised_quantity")
        row.realised_quantity = str(Decimal(rq)) if rq is not None else None
        row.quality, row.category, row.rhk_id = d.get("quality"), d.get("category"), d.get("rhk_id")
        row.submitted_on = local_date(d.get("submitted_at"), zone)
        row.approved_on = local_date(d.get("approved_at"), zone)
    if not wins and before == (row.last_open_on, row.event_id):
        return {}
    touched.setdefault(row.nip, []).append(row.due_date)
    return touched


def store_innovation(session: Session, event: Event, zone: ZoneInfo, batch: Batch | None = None) -> list[date]:
    """One approval per innovation; if it is stated twice, the greater event id is kept."""
    d = event.data
    batch = batch or Batch(session)
    row = batch.get(InnovationFactRow, d["innovation_id"])
    if row is not None and row.event_id >= event.id:
        return []
    days = []
    if row is None:
        row = InnovationFactRow(innovation_id=d["innovation_id"])
        batch.added(InnovationFactRow, d["innovation_id"], row)
    else:
        days.append(row.approved_on)
    row.nip, row.title, row.event_id = d["nip"], d["title"], event.id
    row.approved_on = local_date(d["approved_at"], zone)
    return days + [row.approved_on]


# -- recompute ---------------------------------------------------------------------------------
def load_facts(session: Session, nip: str, start: date, end: date):
    days = [
        DayFact(day=r.day, event_id=r.event_id, workday=r.workday, excused=r.excused,
                deductions=tuple(DayDeduction(x["code"], Decimal(x["percent"]), x.get("minutes"))
                                 for x in r.deductions),
                punch_event_ids=tuple(r.punch_event_ids), corrected=bool(r.corrected))
        for r in session.execute(select(DayFactRow).where(
            DayFactRow.nip == nip, DayFactRow.day >= start, DayFactRow.day <= end)).scalars()
    ]
    tasks = [
        TaskFact(task_id=r.task_id, title=r.title, status=r.status, due_date=r.due_date,
                 target_quantity=Decimal(r.target_quantity), event_id=r.event_id,
                 realised_quantity=Decimal(r.realised_quantity) if r.realised_quantity is not None else None,
                 quality=r.quality, submitted_on=r.submitted_on, approved_on=r.approved_on,
                 overdue=r.last_open_on is not None and r.last_open_on > r.due_date)
        for r in session.execute(select(TaskFactRow).where(
            TaskFactRow.nip == nip, TaskFactRow.due_date >= start, TaskFactRow.due_date <= end)).scalars()
    ]
    innovations = [
        InnovationFact(r.innovation_id, r.title, r.approved_on, r.event_id)
        for r in session.execute(select(InnovationFactRow).where(
            InnovationFactRow.nip == nip, InnovationFactRow.approved_on >= start,
            InnovationFactRow.approved_on <= end)).scalars()
    ]
    return days, tasks, innovations


def _day_fact(r) -> DayFact:
    corrected = bool(r.corrected)
    if not r.deductions:
        return DayFact(day=r.day, event_id=r.event_id, workday=r.workday, excused=r.excused, corrected=corrected,
                       punch_event_ids=tuple(r.punch_event_ids or ()))
    return DayFact(day=r.day, event_id=r.event_id, workday=r.workday, excused=r.excused,
                   deductions=tuple(DayDeduction(x["code"], Decimal(x["percent"]), x.get("minutes"))
                                    for x in r.deductions),
                   punch_event_ids=tuple(r.punch_event_ids), corrected=corrected)


def task_fact(r) -> TaskFact:
    return TaskFact(task_id=r.task_id, title=r.title, status=r.status, due_date=r.due_date,
                    target_quantity=Decimal(r.target_quantity), event_id=r.event_id,
                    realised_quantity=Decimal(r.realised_quantity) if r.realised_quantity is not None else None,
                    quality=r.quality, submitted_on=r.submitted_on, approved_on=r.approved_on,
                    overdue=r.last_open_on is not None and r.last_open_on > r.due_date)


# Most days have no deductions; for those the two JSON columns are not read (nor decoded): a day's
# punch ids appear in a score only beside its deductions or its correction (the ledger), so a day
# with neither is loaded with none. The rows loaded give exactly the scores the full rows give.
_DEDUCTED = func.json_array_length(DayFactRow.deductions) > 0
_DAY_COLUMNS = (DayFactRow.nip, DayFactRow.day, DayFactRow.event_id, DayFactRow.workday, DayFactRow.excused,
                DayFactRow.corrected,
                type_coerce(case((_DEDUCTED, DayFactRow.deductions), else_=None), JSON).label("deductions"),
                type_coerce(case((_DEDUCTED | DayFactRow.corrected, DayFactRow.punch_event_ids), else_=None),
                            JSON).label("punch_event_ids"))
_TASK_COLUMNS = (TaskFactRow.nip, TaskFactRow.task_id, TaskFactRow.title, TaskFactRow.status, TaskFactRow.due_date,
                 TaskFactRow.target_quantity, TaskFactRow.event_id, TaskFactRow.realised_quantity,
                 TaskFactRow.quality, TaskFactRow.submitted_on, TaskFactRow.approved_on, TaskFactRow.last_open_on)
_INNOVATION_COLUMNS = (InnovationFactRow.nip, InnovationFactRow.innovation_id, InnovationFactRow.title,
                       InnovationFactRow.approved_on, InnovationFactRow.event_id)
# built once (a statement costs about as much to build as to run): the NIPs and the date range bound
_NIPS, _LO, _HI = bindparam("nips", expanding=True), bindparam("lo"), bindparam("hi")
_DAYS_OF = select(*_DAY_COLUMNS).where(DayFactRow.nip.in_(_NIPS), DayFactRow.day >= _LO, DayFactRow.day <= _HI)
_TASKS_OF = select(*_TASK_COLUMNS).where(TaskFactRow.nip.in_(_NIPS), TaskFactRow.due_date >= _LO,
                                         TaskFactRow.due_date <= _HI)
_INNOVATIONS_OF = select(*_INNOVATION_COLUMNS).where(InnovationFactRow.nip.in_(_NIPS), InnovationFactRow.approved_on >= _LO,
                                                     InnovationFactRow.approved_on <= _HI)


def load_facts_many(session: Session, ranges: dict[str, tuple[date, date]]):
    """``load_facts`` for several ASN, each over its own [start, end], with one query per table
    (the union of the ranges, then each ASN's own kept). Their order does not matter:
    ``compute_score`` sorts what it reads."""
    out: dict[str, tuple[list, list, list]] = {nip: ([], [], []) for nip in ranges}
    if not ranges:
        return out
    nips = sorted(ranges)
    bound = {"nips": nips, "lo": min(a for a, _ in ranges.values()), "hi": max(b for _, b in ranges.values())}
    for r in session.execute(_DAYS_OF, bound):
        start, end = ranges[r.nip]
        if start <= r.day <= end:
            out[r.nip][0].append(_day_fact(r))
    for r in session.execute(_TASKS_OF, bound):
        start, end = ranges[r.nip]
        if start <= r.due_date <= end:
            out[r.nip][1].append(task_fact(r))
    for r in session.execute(_INNOVATIONS_OF, bound):
        start, end = ranges[r.nip]
        if start <= r.approved_on <= end:
            out[r.nip][2].append(InnovationFact(r.innovation_id, r.title, r.approved_on, r.event_id))
    return out


def rating_for(session: Session, nip: str, period: Period) -> Rating | None:
    """The supervisor's BerAKHLAK rating given for exactly this period (a month's rating does
    not carry into its quarter or year: those are rated on their own)."""
    row = session.get(RatingRow, (nip, period.name, "atasan"))
    return Rating(row.levels, row.rating_id) if row is not None else None


def score_of(session: Session, nip: str, period: Period, policy: Policy | None = None) -> Score:
    """The score of a period, straight from the facts (what the stored row must equal), by the
    policy in force for it in the ASN's agency."""
    days, tasks, innovations = load_facts(session, nip, period.start, period.end)
    if policy is None:
        policy = Policies(session).for_period(policy_agency(session, nip, period), period)
    return compute_score(period, days=days, tasks=tasks, innovations=innovations,
                         rating=rating_for(session, nip, period), policy=policy)


def policy_agency(session: Session, nip: str, period: Period) -> str | None:
    """The agency whose policy scores the ASN's period: the one they belonged to on its first day
    (``domain.membership``), else the roster's, else the one their scores are filed under."""
    agency = membership.agency_at(memberships.statements_of(session, [nip]).get(nip, ()), period.start)
    if agency is None:
        emp = session.get(Employee, nip)
        agency = emp.agency if emp is not None else session.execute(
            select(ScoreRow.agency).where(ScoreRow.nip == nip).limit(1)).scalar()
    return agency


def recompute(session: Session, outbox: Outbox | None, nip: str, days: Iterable[date], *, cause: str, agency: str,
              zone: ZoneInfo, policies: Policies | None = None) -> list[ScoreRow]:
    """Recompute the month, quarter and year of each day from the stored facts, each by the policy
    in force on its first day; store the rows and publish ``penilaian.score.updated.v1`` for each
    whose values moved. ``cause`` names the event (or rating) that made us look; ``agency`` is used
    when the roster does not know the ASN yet."""
    touched = Touched()
    touched.add(nip, days, agency=agency, cause=cause)
    return recompute_many(session, outbox, touched, zone=zone, policies=policies)


RECOMPUTE_CHUNK = 200  # ASN whose facts are read in one query per table


def recompute_many(session: Session, outbox: Outbox | None, touched: Touched, *, zone: ZoneInfo,
                   policies: Policies | None = None, batch: Batch | None = None) -> list[ScoreRow]:
    """``recompute`` for every ASN in ``touched``, in NIP order, with the same rows and events
    as one call each: the facts, ratings, roster entries and score rows of a chunk of ASN are read
    with one query per table instead of several per ASN, and the events go to the outbox together."""
    policies = policies or Policies(session)
    batch = batch or Batch(session)
    nips = sorted(nip for nip, days in touched.days.items() if days)
    batch.lock_all(nips)
    changed: list[ScoreRow] = []
    events: list[Event] = []
    for i in range(0, len(nips), RECOMPUTE_CHUNK):
        chunk = nips[i:i + RECOMPUTE_CHUNK]
        wanted = {nip: sorted({p for day in touched.days[nip] for p in periods_containing(day)}) for nip in chunk}
        ranges = {nip: (min(p.start for p in ps), max(p.end for p in ps)) for nip, ps in wanted.items()}
        facts = load_facts_many(session, ranges)
        employees = {e.nip: e for e in session.execute(select(Employee).where(Employee.nip.in_(chunk))).scalars()}
        stated = memberships.statements_of(session, chunk)
        ratings = {(r.nip, r.period): Rating(r.levels, r.rating_id) for r in session.execute(
            select(RatingRow.nip, RatingRow.period, RatingRow.levels, RatingRow.rating_id).where(
                RatingRow.nip.in_(chunk), RatingRow.rater == "atasan"))}
        keys = [(nip, p.name) for nip in chunk for p in wanted[nip]]
        scores = {}
        for j in range(0, len(keys), 500):
            scores.update({(r.nip, r.period): r for r in session.execute(
                select(ScoreRow).where(tuple_(ScoreRow.nip, ScoreRow.period).in_(keys[j:j + 500]))).scalars()})
        now = utcnow()
        for nip in chunk:
            mine: list[Event] = []
            emp = employees.get(nip)
            agency = emp.agency if emp is not None else touched.agency[nip]
            days_f, tasks_f, innovations_f = facts[nip]
            for period in wanted[nip]:
                # the policy of the agency the ASN belonged to on the period's first day
                policy_agency = membership.agency_at(stated.get(nip, ()), period.start) or agency
                score = compute_score(period, days=days_f, tasks=tasks_f, innovations=innovations_f,
                                      rating=ratings.get((nip, period.name)),
                                      policy=policies.for_period(policy_agency, period))
                row = scores.get((nip, period.name))
                before = {f: getattr(row, f) for f in VALUE_FIELDS} if row is not None else None
                if row is None:
                    row = ScoreRow(nip=nip, period=period.name)
                    session.add(row)
                write_score(row, score, agency=agency, now=now)
                after = score.values()
                if before is None:
                    before = {f: None for f in VALUE_FIELDS} | {"predikat": "Belum dinilai"}
                    moved = any(after[f] is not None for f in VALUE_FIELDS if f != "predikat")
                else:
                    moved = before != after
                if moved:
                    changed.append(row)
                    mine.append(score_event(nip, agency, period, score, before, emp, touched.cause[nip]))
            events.extend(as_one_change(mine))
    session.flush()
    if outbox is not None:
        outbox.add_many(session, events)
    return changed


# -- facts penilaian records itself (ratings, training, dialogs, policy, the organisation's predikat)
# The API builds the event, applies it here like the consumer would, and puts it in the outbox in
# the same transaction; the consumer later finds the fact already stored (a no-op), and a rebuild
# from the topics stores it again.
def store_rating(session: Session, event: Event) -> RatingRow | None:
    """Keep the latest rating per (ASN, period, rater) by (rated_at, rating_id); the row when it
    changed, else None."""
    d = event.data
    lock_asn(session, d["nip"])
    row = session.get(RatingRow, (d["nip"], d["period"], d["rater"]))
    if row is not None and (as_utc(row.rated_at), row.rating_id) >= (as_utc(d["rated_at"]), d["rating_id"]):
        return None
    if row is None:
        row = RatingRow(nip=d["nip"], period=d["period"], rater=d["rater"])
        session.add(row)
    row.rating_id, row.rated_by, row.levels = d["rating_id"], d["rated_by"], dict(d["levels"])
    row.rated_at = as_utc(d["rated_at"])
    session.flush()
    return row


def store_training(session: Session, event: Event) -> TrainingRow | None:
    d = event.data
    if session.get(TrainingRow, d["training_id"]) is not None:
        return None
    row = TrainingRow(id=d["training_id"], nip=d["nip"], title=d["title"], jp=d["jp"], day=d["date"],
                      provider=d.get("provider") or "", recorded_by=d["recorded_by"], recorded_at=as_utc(d["recorded_at"]))
    session.add(row)
    session.flush()
    return row


def store_dialog(session: Session, event: Event) -> DialogRow | None:
    d = event.data
    if session.get(DialogRow, d["dialog_id"]) is not None:
        return None
    row = DialogRow(id=d["dialog_id"], nip=d["nip"], atasan_nip=d["atasan_nip"], period=d["period"], day=d["date"],
                    notes=d["notes"], follow_up=d.get("follow_up") or "", values=list(d.get("values") or []),
                    recorded_by=d["recorded_by"], recorded_at=as_utc(d["recorded_at"]))
    session.add(row)
    session.flush()
    return row


def store_policy(session: Session, event: Event) -> PolicyRow | None:
    d = event.data
    if session.get(PolicyRow, d["policy_id"]) is not None:
        return None
    values = policy_values(make_policy(d))
    row = PolicyRow(policy_id=d["policy_id"], agency=d["agency"], version=d["version"],
                    effective_from=d["effective_from"].replace(day=1), values=values, set_by=d["set_by"],
                    set_at=as_utc(d["set_at"]))
    session.add(row)
    session.flush()
    return row


def store_organisation_rating(session: Session, event: Event) -> OrganisationRatingRow | None:
    d = event.data
    row = session.get(OrganisationRatingRow, (d["agency"], d["period"]))
    if row is not None and (as_utc(row.set_at), row.rating_id) >= (as_utc(d["set_at"]), d["rating_id"]):
        return None
    if row is None:
        row = OrganisationRatingRow(agency=d["agency"], period=d["period"])
        session.add(row)
    row.rating_id, row.predikat, row.set_by, row.set_at = d["rating_id"], d["predikat"], d["set_by"], as_utc(d["set_at"])
    session.flush()
    return row


# -- facts of tugas the evaluation document shows (no score depends on them) ---------------------
def store_skp(session: Session, event: Event) -> SkpFactRow | None:
    """Keep the latest approved revision of an ASN's SKP of a year (ties: the greater event id)."""
    d = event.data
    row = session.get(SkpFactRow, (d["nip"], d["year"]))
    if row is not None and (row.revision, row.event_id) >= (d.get("revision", 1), event.id):
        return None
    if row is None:
        row = SkpFactRow(nip=d["nip"], year=d["year"])
        session.add(row)
    row.skp_id, row.revision, row.event_id = d["skp_id"], d.get("revision", 1), event.id
    row.atasan_nip = d.get("atasan_nip")
    row.approved_at = as_utc(d["approved_at"]) if d.get("approved_at") else None
    row.rhk = [{"id": r["id"], "kind": r["kind"], "text": r["text"],
                "indicators": [{k: str(v) if k == "target_quantity" else v for k, v in i.items()}
                               for i in r.get("indicators") or []]} for r in d.get("rhk") or []]
    session.flush()
    return row


def store_feedback(session: Session, event: Event) -> FeedbackFactRow | None:
    d = event.data
    if session.get(FeedbackFactRow, d["message_id"]) is not None:
        return None
    row = FeedbackFactRow(message_id=d["message_id"], nip=d["nip"], author_nip=d["author_nip"],
                          task_id=d.get("task_id"), rhk_id=d.get("rhk_id"), text=d["text"][:5000],
                          posted_at=as_utc(d.get("posted_at") or event.time))
    session.add(row)
    session.flush()
    return row


def _record(session: Session, outbox: Outbox, event: Event, zone: ZoneInfo) -> None:
    # apply the event as the consumer will see it (encoded, then decoded with its schema)
    apply_batch(session, outbox, [decode_event(event.to_bytes())], tz=zone.key)
    outbox.add(session, event)


def agency_of(session: Session, nip: str, default: str) -> str:
    emp = session.get(Employee, nip)
    return emp.agency if emp is not None else default


def record_rating(session: Session, outbox: Outbox, *, nip: str, period: Period, rater: str, rated_by: str,
                  levels: dict[str, str], zone: ZoneInfo, now: datetime | None = None,
                  agency: str = "-") -> RatingRow:
    """Store (or replace) a rating and publish it; the supervisor's moves perilaku kerja, so the
    period is recomputed and published like any other change."""
    if rater not in ("atasan", "self"):
        raise ValueError(rater)
    event = make_event(RATING_RECORDED, subject=nip, agency=agency_of(session, nip, agency), source=SOURCE,
                       data={"rating_id": str(uuid.uuid4()), "nip": nip, "period": period.name, "rater": rater,
                             "rated_by": rated_by, "levels": dict(levels), "rated_at": now or utcnow()})
    _record(session, outbox, event, zone)
    return session.get(RatingRow, (nip, period.name, rater))


def record_training(session: Session, outbox: Outbox, *, nip: str, title: str, jp: int, day: date, provider: str,
                    recorded_by: str, zone: ZoneInfo, now: datetime | None = None, agency: str = "-") -> TrainingRow:
    event = make_event(TRAINING_RECORDED, subject=nip, agency=agency_of(session, nip, agency), source=SOURCE,
                       data={"training_id": str(uuid.uuid4()), "nip": nip, "title": title, "jp": jp, "date": day,
                             "provider": provider, "recorded_by": recorded_by, "recorded_at": now or utcnow()})
    _record(session, outbox, event, zone)
    return session.get(TrainingRow, event.data["training_id"])


def record_dialog(session: Session, outbox: Outbox, *, nip: str, atasan_nip: str, period: Period, day: date,
                  notes: str, follow_up: str, values: list[str], recorded_by: str, zone: ZoneInfo,
                  now: datetime | None = None, agency: str = "-") -> DialogRow:
    event = make_event(DIALOG_RECORDED, subject=nip, agency=agency_of(session, nip, agency), source=SOURCE,
                       data={"dialog_id": str(uuid.uuid4()), "nip": nip, "atasan_nip": atasan_nip,
                             "period": period.name, "date": day, "notes": notes, "follow_up": follow_up,
                             "values": list(values), "recorded_by": recorded_by, "recorded_at": now or utcnow()})
    _record(session, outbox, event, zone)
    return session.get(DialogRow, event.data["dialog_id"])


def set_policy(session: Session, outbox: Outbox, *, agency: str, effective_from: date, values: dict[str, Any],
               set_by: str, zone: ZoneInfo, now: datetime | None = None) -> PolicyRow:
    """A new version of the agency's policy from ``effective_from``'s month (raises BadPolicy for
    numbers that make no sense): stored and published, and its recompute queued. The agency's
    periods from then on are recomputed by the consumer in bounded batches, not in this request
    (``policy_recompute``), so the request costs the same for 10 ASN or 100,000."""
    policy = make_policy(values)
    if session.get_bind().dialect.name == "postgresql":  # serialise version numbers per agency
        session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": "penilaian-policy:" + agency})
    version = (session.execute(select(func.max(PolicyRow.version)).where(PolicyRow.agency == agency)).scalar() or 0) + 1
    event = make_event(POLICY_SET, subject=agency, agency=agency, source=SOURCE,
                       data={"policy_id": str(uuid.uuid4()), "agency": agency, "version": version,
                             "effective_from": effective_from.replace(day=1), **policy_values(policy),
                             "set_by": set_by, "set_at": now or utcnow()})
    _record(session, outbox, event, zone)
    return session.get(PolicyRow, event.data["policy_id"])


def rate_organisation(session: Session, outbox: Outbox, *, agency: str, period: Period, predikat: str, set_by: str,
                      zone: ZoneInfo, now: datetime | None = None) -> OrganisationRatingRow:
    event = make_event(ORGANISATION_RATED, subject=agency, agency=agency, source=SOURCE,
                       data={"rating_id": str(uuid.uuid4()), "agency": agency, "period": period.name,
                             "predikat": predikat, "set_by": set_by, "set_at": now or utcnow()})
    _record(session, outbox, event, zone)
    return session.get(OrganisationRatingRow, (agency, period.name))


def write_score(row: ScoreRow, score: Score, *, agency: str, now: datetime) -> None:
    row.agency = agency
    row.disiplin, row.produktivitas, row.berakhlak = score.disiplin, score.produktivitas, score.berakhlak
    row.perilaku, row.hasil_kerja, row.total, row.predikat = score.perilaku, score.hasil_kerja, score.total, score.predikat
    row.total_partial = score.total_partial
    row.detail = score_detail(score)
    row.updated_at = now


def _num(x: Decimal | None) -> str | None:
    return None if x is None else str(x)


def score_detail(score: Score) -> dict[str, Any]:
    """The explaining parts of a score, JSON-ready (numbers as exact decimal strings)."""
    return {
        "deductions": [{"date": day.isoformat(), "code": d.code, "percent": _num(d.percent), "minutes": d.minutes}
                       for day, d in score.deductions],
        "tasks": [{"task_id": t.task_id, "title": t.title, "due_date": t.due_date.isoformat(), "status": t.status,
                   "score": _num(t.score), "quantity": _num(t.quantity), "quality": _num(t.quality),
                   "timeliness": _num(t.timeliness), "event_id": t.event_id} for t in score.tasks],
        "ledger": [{"component": e.component, "points": _num(e.points), "rule": e.rule,
                    "event_ids": list(e.event_ids), "date": e.date.isoformat() if e.date else None,
                    **({"correction": True} if e.correction else {})}
                   for e in score.ledger],
    }


def _float(x: Decimal | None) -> float | None:
    return None if x is None else float(x)


_KIND_RANK = {"month": 0, "quarter": 1, "year": 2}


def _period_rank(name: str) -> tuple:
    kind = "year" if len(name) == 4 else "quarter" if "-Q" in name else "month"
    return (_KIND_RANK[kind], [-ord(c) for c in name])  # months first, the latest first


def as_one_change(events: list[Event]) -> list[Event]:
    """The score updates one change made to one ASN (its month, quarter and year, or more when it
    reached back into another month) say they belong together: the first (the latest month moved)
    carries the others' values in ``also``, each of the others names it in ``part_of``, so whoever
    tells people about it tells them once. Additive fields; every period still has its event."""
    if len(events) < 2:
        return events
    events = sorted(events, key=lambda e: _period_rank(e.data["period"]))
    lead, rest = events[0], events[1:]
    lead.data["also"] = [{k: e.data[k] for k in ("period", "disiplin", "produktivitas", "perilaku", "hasil_kerja",
                                                   "total", "total_partial", "predikat", "changes")} for e in rest]
    for e in rest:
        e.data["part_of"] = lead.id
    return events


def score_event(nip: str, agency: str, period: Period, score: Score, before: dict, emp: Employee | None,
                cause: str) -> Event:
    after = score.values()
    changes = [{"component": f, "before": _float(before[f]), "after": _float(after[f])}
               for f in VALUE_FIELDS if f != "predikat" and before[f] != after[f]]
    return make_event(
        SCORE_UPDATED, subject=nip, agency=agency, source=SOURCE,
        data={"nip": nip, "period": period.name, "disiplin": _float(score.disiplin),
              "produktivitas": _float(score.produktivitas), "perilaku": _float(score.perilaku),
              "hasil_kerja": _float(score.hasil_kerja), "total": _float(score.total),
              "total_partial": _float(score.total_partial),
              "predikat": score.predikat, "changes": changes, "caused_by": [cause],
              "atasan_nip": emp.atasan_nip if emp is not None else None},
    )
