"""One transaction's intake of a batch of events: every lock it needs taken up front in the one
order (``locks``), the fact rows the events name read in bulk, the roster's statements of agency
kept, and what the events made stale (``Touched``)."""
from __future__ import annotations

from datetime import date
from typing import Any, Iterable

from sqlalchemy import select, tuple_, update
from sqlalchemy.orm import Session

from kinerja.events.envelope import Event
from kinerja.events.kehadiran import DAY_SUMMARIZED
from kinerja.events.pegawai import EMPLOYEE_UPSERTED
from kinerja.events.penilaian import (
    DIALOG_RECORDED,
    MEMBERSHIP_RECORDED,
    ORGANISATION_RATED,
    POLICY_SET,
    RATING_RECORDED,
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
from penilaian.adapters.bulk_writes import upsert
from penilaian.adapters.day_fact_rows import stored_versions, write_day_facts
from penilaian.adapters.fact_queries import load_spans
from penilaian.adapters.orm import (
    DialogRow,
    Employee,
    FeedbackFactRow,
    InnovationFactRow,
    RatingRow,
    ScoreRow,
    SkpFactRow,
    TaskFactRow,
    TrainingRow,
)
from penilaian.domain import membership
from penilaian.domain.membership import Statement
from penilaian.domain.periods import parse_period, periods_containing
from penilaian.service_layer import memberships, span_facts
from penilaian.service_layer.locks import Claim, Locks, agency_key, asn_key, innovation_key, task_key

# a reschedule states the task's open state under its new terms: like any open state the latest
# wins, its due date decides the period the task counts in and its timeliness, and the period it
# left is recomputed too (``facts.store_task_fact``)
TASK_TYPES = frozenset({TASK_ASSIGNED, TASK_SUBMITTED, TASK_APPROVED, TASK_RETURNED, TASK_OVERDUE, TASK_CANCELLED,
                        TASK_RESCHEDULED})
# the types whose facts are stored under the ASN the event names (its ``nip``)
_ASN_TYPES = frozenset({DAY_SUMMARIZED, INNOVATION_APPROVED, EMPLOYEE_UPSERTED, MEMBERSHIP_RECORDED, RATING_RECORDED,
                        TRAINING_RECORDED, DIALOG_RECORDED, SKP_APPROVED, FEEDBACK_POSTED, *TASK_TYPES})
_AGENCY_TYPES = frozenset({POLICY_SET, ORGANISATION_RATED})
# facts kept as plain records (``FactRecord``), not ORM objects: read in bulk, merged in memory by
# the rules of ``facts``, and those that changed written in one statement a table (``write_facts``)
PLAIN_MODELS = (TaskFactRow, InnovationFactRow)


def _month(day: date):
    return periods_containing(day)[0]


class FactRecord:
    """One row of a plain-record table, its columns as attributes (all of them: None until set)."""

    def __init__(self, **columns) -> None:
        self.__dict__.update(columns)

    @classmethod
    def blank(cls, model: type, **columns) -> "FactRecord":
        return cls(**(dict.fromkeys(model.__table__.columns.keys()) | columns))

    def __repr__(self) -> str:
        return f"FactRecord({self.__dict__!r})"


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


class Batch:
    """What one transaction has already read or locked: its locks (``locks.Locks``, all taken by
    ``prepare``), and fact rows by primary key, fetched for a whole batch of events in one query
    per table (``prefetch``) instead of one ``session.get`` per event; a key fetched and not found
    is known to be absent until the batch adds it. Task and innovation facts are plain records
    (``PLAIN_MODELS``), day facts plain rows: the batch writes those that changed in one statement
    a table (``write_facts``); other rows stay in the session and are flushed together."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.locks = Locks(session)
        self.rows: dict[type, dict[Any, Any]] = {}
        self.read: dict[type, dict[Any, dict]] = {}  # plain records as read: written only if changed
        self.roster_moves: dict[str, str] = {}  # nip -> agency its score rows must follow
        self.statements: dict[str, list[Statement]] = {}  # nip -> its agency statements (read once)
        self.moved: dict[str, str] = {}  # nip -> the event whose statement changed its agency somewhere
        self.stated: list[tuple[str, Statement]] = []  # roster statements kept: published as recorded
        # day facts: (version, event id) stored per key, and the rows the batch's summaries won
        self.day_versions: dict[tuple[str, date], tuple | None] = {}
        self.day_rows: dict[tuple[str, date], dict] = {}
        # the facts of (nip, month start, month end) as read (``facts_of``), and the day rows won
        # but left for the transaction's last statement (``defer_days``)
        self.spans: dict[tuple[str, date, date], tuple[list, list, list]] = {}
        self.defer_days = False
        self.pending_days: dict[tuple[str, date], dict] = {}

    # -- locks -----------------------------------------------------------------------------------
    def prepare(self, events: list[Event], claim: Claim | None = None, *, read_months: bool = False) -> set[str] | None:
        """Take every lock the events call for, in the one order, then read their fact rows in
        bulk. First the FACT keys of the tasks and innovations named, then their rows (which name
        the ASN each belonged to until now: stable under its key), then in one pass the ASN keys
        of every NIP named and every previous owner, and the AGENCY keys of policy versions and the
        organisation's predikat. The set is then sealed (``locks``). ``claim``: a consumer's
        event ids, recorded before any key, in the statement of the first pass; returns the ids
        that were new (None without ``claim``). The keys and rows are those of all ``events``,
        new or not (a superset of what the new ones need). ``read_months``: the facts of the
        months the day summaries and task states name are read too, with the days' stored
        versions in the same statement (a recompute of the batch sums them, ``facts_of``)."""
        nips, agencies, days, tasks, innovations, employees = set(), set(), set(), set(), set(), set()
        ratings: set[tuple[str, str, str]] = set()
        recorded: dict[type, set] = {TrainingRow: set(), DialogRow: set(), FeedbackFactRow: set(), SkpFactRow: set()}
        for e in events:
            t, d = e.type, e.data
            if t in _ASN_TYPES:
                nips.add(d["nip"])
            elif t in _AGENCY_TYPES:
                agencies.add(d["agency"])
            if t == DAY_SUMMARIZED:
                days.add((d["nip"], d["date"]))
            elif t in TASK_TYPES:
                tasks.add(d["task_id"])
            elif t == INNOVATION_APPROVED:
                innovations.add(d["innovation_id"])
            elif t == EMPLOYEE_UPSERTED:
                employees.add(d["nip"])
            elif t == RATING_RECORDED:
                ratings.add((d["nip"], d["period"], d["rater"]))
            elif t == TRAINING_RECORDED:
                recorded[TrainingRow].add(d["training_id"])
            elif t == DIALOG_RECORDED:
                recorded[DialogRow].add(d["dialog_id"])
            elif t == FEEDBACK_POSTED:
                recorded[FeedbackFactRow].add(d["message_id"])
            elif t == SKP_APPROVED:
                recorded[SkpFactRow].add((d["nip"], d["year"]))
        fact_keys = [task_key(t) for t in tasks] + [innovation_key(i) for i in innovations]
        months = {(nip, _month(day)) for nip, day in days}
        if fact_keys:
            claimed = self.locks.take(fact_keys, claim)
            self.prefetch(TaskFactRow, tasks)
            self.prefetch(InnovationFactRow, innovations)
            owners = {row.nip for model in (TaskFactRow, InnovationFactRow) for row in self.rows[model].values()
                      if row is not None}
            # the months a task's fact may leave or join: its row's and each of its events'
            months.update((row.nip, _month(row.due_date)) for row in self.rows[TaskFactRow].values()
                          if row is not None)
            months.update((e.data["nip"], _month(e.data["due_date"])) for e in events if e.type in TASK_TYPES)
            self.locks.take([asn_key(n) for n in nips | owners] + [agency_key(a) for a in agencies])
        else:  # one pass: the ids' claim and every key in one statement
            claimed = self.locks.take([asn_key(n) for n in nips] + [agency_key(a) for a in agencies], claim)
        self.locks.seal()
        stated = employees | {e.data["nip"] for e in events if e.type == MEMBERSHIP_RECORDED}
        self.statements.update({nip: [] for nip in stated} | memberships.statements_of(self.session, stated))
        # the facts of the months the events name, read once: the days' stored versions come with
        # them, and the recompute sums them (``facts_of``) instead of reading them again
        if read_months:
            self.day_versions.update(dict.fromkeys(days))
            self.spans.update(load_spans(self.session, [(nip, m.start, m.end) for nip, m in months],
                                         versions=self.day_versions))
        else:
            self.prefetch_days(days)
        self.prefetch(Employee, employees)
        self.prefetch(RatingRow, ratings)
        for model, keys in recorded.items():
            self.prefetch(model, keys)
        return claimed

    def lock_all(self, nips: Iterable[str]) -> None:
        """The ASN keys of ``nips`` in one pass (a recompute on its own); in a prepared batch
        they are held already, and one that is not raises ``locks.LockOrderError``."""
        self.locks.take(asn_key(n) for n in nips)

    # -- rows ------------------------------------------------------------------------------------
    def prefetch(self, model: type, keys: Iterable[Any]) -> None:
        known = self.rows.setdefault(model, {})
        todo = sorted({k for k in keys if k not in known})
        if not todo:
            return
        pk = model.__mapper__.primary_key
        plain = model in PLAIN_MODELS
        what = select(*(getattr(model, c) for c in model.__table__.columns.keys())) if plain else select(model)
        read = self.read.setdefault(model, {})
        for i in range(0, len(todo), 500):
            chunk = todo[i:i + 500]
            if len(pk) == 1:
                where = pk[0].in_(chunk)
                key_of = lambda r: getattr(r, pk[0].key)  # noqa: E731
            else:
                where = tuple_(*pk).in_(chunk)
                key_of = lambda r: tuple(getattr(r, c.key) for c in pk)  # noqa: E731
            if plain:
                for r in self.session.execute(what.where(where)):
                    row = FactRecord(**r._mapping)
                    known[key_of(row)] = row
                    read[key_of(row)] = dict(r._mapping)
            else:
                for row in self.session.execute(what.where(where)).scalars():
                    known[key_of(row)] = row
            for k in chunk:
                known.setdefault(k, None)

    # -- day facts: plain rows, written together (``write_facts``) ------------------------------
    def prefetch_days(self, keys: Iterable[tuple[str, date]]) -> None:
        todo = [k for k in keys if k not in self.day_versions]
        if todo:
            self.day_versions.update(dict.fromkeys(todo) | stored_versions(self.session, todo))

    def day_version(self, key: tuple[str, date]) -> tuple | None:
        """(version, event id) of the day as it stands in this transaction (None: no fact)."""
        if key not in self.day_versions:
            self.prefetch_days([key])
        return self.day_versions[key]

    def put_day(self, key: tuple[str, date], row: dict) -> None:
        # a later summary of the same day in the batch replaces the row still to be written
        self.day_rows[key] = row
        self.day_versions[key] = (row["version"], row["event_id"])

    def write_facts(self) -> None:
        """The day facts the batch's summaries won and the task and innovation facts that changed,
        one statement a table (before any recompute: it reads them). With ``defer_days`` the day
        facts are kept in ``pending_days`` instead, for the caller to write with its last
        statement: the recompute reads them from there (``facts_of``)."""
        rows, self.day_rows = self.day_rows, {}
        if self.defer_days:
            self.pending_days.update(rows)
        else:
            write_day_facts(self.session, list(rows.values()))
        for model in PLAIN_MODELS:
            records, read = self.rows.get(model, {}), self.read.get(model, {})
            upsert(self.session, model.__table__, [vars(r) for k, r in records.items()
                                                   if r is not None and vars(r) != read.get(k)])
            read.update({k: dict(vars(r)) for k, r in records.items() if r is not None})

    write_days = write_facts  # the name the rebuild's batches call it by

    def facts_of(self, spans: list[tuple[str, date, date]]) -> dict[tuple[str, date, date], tuple[list, list, list]]:
        """The facts of each (nip, start, end) as they stand in this transaction: read once (at
        ``prepare``, or now) with what the batch stored over them (``span_facts``)."""
        todo = [span for span in spans if span not in self.spans]
        if todo:
            self.spans.update(load_spans(self.session, todo))
        return span_facts.overlaid(self.spans, spans, self.pending_days,
                                   {model: self.rows.get(model, {}) for model in PLAIN_MODELS})

    def take_pending_days(self) -> list[dict]:
        rows, self.pending_days = list(self.pending_days.values()), {}
        return rows

    def get(self, model: type, key: Any):
        known = self.rows.setdefault(model, {})
        if key in known:
            return known[key]
        if model in PLAIN_MODELS:
            self.prefetch(model, [key])
            return known[key]
        row = known[key] = self.session.get(model, key)
        return row

    def new_row(self, model: type, key: Any, **columns) -> Any:
        """A row not stored yet, added to the batch (a plain record for ``PLAIN_MODELS``)."""
        row = FactRecord.blank(model, **columns) if model in PLAIN_MODELS else model(**columns)
        self.added(model, key, row)
        return row

    def added(self, model: type, key: Any, row: Any) -> None:
        if model not in PLAIN_MODELS:
            self.session.add(row)
        self.rows.setdefault(model, {})[key] = row

    # -- the roster ------------------------------------------------------------------------------
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
        memberships.store(self.session, nip, statement, stored=any(s.since == statement.since for s in known))
        self.statements[nip] = after
        self.moved[nip] = cause
        if from_roster:
            self.stated.append((nip, statement))

    def touch_moved(self, touched: Touched, agency_of: dict[str, str]) -> None:
        """Every stored period of the ASN whose agency changed somewhere is recomputed (each by the
        policy of its agency on its first day); one query per 500 ASN. The stored months name them
        all: a month is recomputed with its quarter and year, and no quarter or year is stored
        without a month of it (a day touched stores all three), while a year's own first day would
        name January, which may never have been touched."""
        nips = sorted(self.moved)
        periods: dict[str, list[date]] = {}
        for i in range(0, len(nips), 500):
            for nip, name in self.session.execute(select(ScoreRow.nip, ScoreRow.period).where(
                    ScoreRow.nip.in_(nips[i:i + 500]))):
                period = parse_period(name)
                if period.kind == "month":
                    periods.setdefault(nip, []).append(period.start)
        for nip in nips:
            touched.add(nip, periods.get(nip, []), agency=agency_of.get(nip, "-"), cause=self.moved[nip])
        self.moved.clear()

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
