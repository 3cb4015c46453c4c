"""Recomputing scores from the stored facts: each touched ASN's month, quarter and year, each by
the policy in force on its first day in the agency the ASN then belonged to; the rows written and
their ``penilaian.score.updated.v1`` events (outbox) only when a value moved."""
from __future__ import annotations

import json
import weakref
from dataclasses import replace
from datetime import date
from typing import Callable, Iterable
from zoneinfo import ZoneInfo

import orjson
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from kinerja.events.envelope import Event
from kinerja.messaging.outbox import Outbox, outbox_row
from penilaian.adapters import bulk_writes, recompute_inputs
from penilaian.adapters.fact_queries import load_facts
from penilaian.adapters.orm import DayFactRow, Employee, PolicyRow, RatingRow, ScoreRow
from penilaian.domain import membership
from penilaian.domain.membership import Statement
from penilaian.domain.month_totals import MonthTotals, fold, score_of_totals, task_totals, totals_of
from penilaian.domain.periods import Period, months_of, periods_containing
from penilaian.domain.policy import PolicyVersion, make_policy, version_in_force
from penilaian.domain.scoring import DEFAULT_POLICY, Policy, Rating, Score, compute_score
from penilaian.service_layer import memberships, month_rows
from penilaian.service_layer.batch import Batch
from penilaian.service_layer.touched import Touched
from penilaian.service_layer.score_rows import VALUE_FIELDS, as_one_change, same_score, score_event, score_row
from penilaian.service_layer.times import utcnow

_POLICY_CACHE: dict[tuple[str, str], Policy] = {}
# per database (its engine): (the versions table's stamp, agency -> its versions), ``Policies``
_SHARED: "weakref.WeakKeyDictionary[Engine, tuple[tuple, dict[str, list[PolicyVersion]]]]" = weakref.WeakKeyDictionary()


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
    """The policy versions of each agency, read once per transaction (and again after a change).
    Given the table's stamp as this transaction reads it (``check``, read with the recompute's
    people: no statement of its own), versions are kept across transactions in the process: a
    version is never changed or removed once stored, so a stamp (how many versions, the greatest
    id) names one set of versions, and a new version (another process's, or a policy change
    mid-stream) changes it: the next transaction reads the agency's versions again."""

    def __init__(self, session: Session) -> None:
        self.session, self._by_agency = session, {}
        self._shared: dict[str, list[PolicyVersion]] | None = None  # the process's, for this stamp
        self._wrote = False  # a version stored in this transaction: its stamp is not a committed one

    def check(self, stamp: tuple) -> None:
        """The versions table's ``stamp`` as read in this transaction: versions cached under it
        are used (under another, they are dropped)."""
        if self._wrote:
            return
        engine = self.session.get_bind().engine
        cached = _SHARED.get(engine)
        if cached is None or cached[0] != stamp:
            cached = _SHARED[engine] = (stamp, {})
        self._shared = cached[1]

    def versions(self, agency: str) -> list[PolicyVersion]:
        if agency not in self._by_agency:
            shared = self._shared
            found = shared.get(agency) if shared is not None else None
            if found is None:
                found = [
                    PolicyVersion(r.policy_id, r.agency, r.version, r.effective_from, _policy_of(r.policy_id, r.values))
                    for r in self.session.execute(select(
                        PolicyRow.policy_id, PolicyRow.agency, PolicyRow.version, PolicyRow.effective_from,
                        PolicyRow.values).where(PolicyRow.agency == agency))]
                if shared is not None:
                    shared[agency] = found
            self._by_agency[agency] = found
        return self._by_agency[agency]

    def forget(self, agency: str) -> None:
        self._by_agency.pop(agency, None)
        self._wrote, self._shared = True, None

    def version_for(self, agency: str | None, period: Period) -> PolicyVersion | None:
        """The agency's version in force on the period's first day; None: the DESIGN defaults."""
        return version_in_force(self.versions(agency), period.start) if agency else None

    def for_period(self, agency: str | None, period: Period) -> Policy:
        version = self.version_for(agency, period)
        return version.policy if version is not None else DEFAULT_POLICY

    def by_id(self, policy_id: str | None) -> Policy:
        """The policy of a stored version (None, or a version no longer stored: the defaults)."""
        if policy_id is None:
            return DEFAULT_POLICY
        row = self.session.get(PolicyRow, policy_id)
        return _policy_of(row.policy_id, row.values) if row is not None else DEFAULT_POLICY


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
              zone: ZoneInfo, policies: Policies | None = None) -> list[dict]:
    """Recompute the month, quarter and year of each day from the stored facts, each by the policy
    in force on its first day; store the rows and publish ``penilaian.score.updated.v1`` for each
    whose values moved. ``cause`` names the event (or rating) that made us look; ``agency`` is used
    when the roster does not know the ASN yet."""
    touched = Touched()
    touched.add(nip, days, agency=agency, cause=cause)
    return recompute_many(session, outbox, touched, zone=zone, policies=policies)


RECOMPUTE_CHUNK = 200  # ASN whose facts are read in one query per table


def recompute_many(session: Session, outbox: Outbox | None, touched: Touched, *, zone: ZoneInfo,
                   policies: Policies | None = None, batch: Batch | None = None,
                   writes: bulk_writes.Writes | None = None) -> list[dict]:
    """``recompute`` for every ASN in ``touched``, in NIP order, with the same rows and events
    as one call each. Each touched month is summed once from its own facts and its totals stored
    (``month_rows``); its quarter and year are folds of their stored months
    (``domain.month_totals``), so no more than the touched months' facts are read. The facts,
    ratings, roster entries, month totals and score rows of a chunk of ASN are read with one query
    per table; the month totals and score rows that moved are written with one statement per
    table (``bulk_writes``), and the events go to the outbox together. Returns the score rows
    whose values moved (as written, by column)."""
    policies = policies or Policies(session)
    batch = batch or Batch(session)
    nips = sorted(nip for nip, days in touched.days.items() if days)
    batch.lock_all(nips)
    changed: list[dict] = []
    events: list[Event] = []
    month_writes: dict = {}
    score_writes: dict[tuple[str, str], dict] = {}
    for i in range(0, len(nips), RECOMPUTE_CHUNK):
        chunk = nips[i:i + RECOMPUTE_CHUNK]
        months = {nip: sorted({periods_containing(day)[0] for day in touched.days[nip]}) for nip in chunk}
        wanted = {nip: sorted({p for m in ms for p in periods_containing(m.start)}) for nip, ms in months.items()}
        facts = batch.facts_of([(nip, m.start, m.end) for nip, ms in months.items() for m in ms])
        inputs = recompute_inputs.read(session, chunk, {nip: {m.start.year for m in ms} for nip, ms in months.items()},
                                       {(nip, p.name) for nip in chunk for p in wanted[nip]})
        stored, scores = inputs.months, inputs.scores
        employees, stated, ratings = _people(inputs)
        policies.check(inputs.stamp)
        now = utcnow()
        for nip in chunk:
            mine: list[Event] = []
            emp = employees.get(nip)
            agency = emp.agency if emp is not None else touched.agency[nip]

            def version_for(period: Period) -> PolicyVersion | None:
                # the version of the agency the ASN belonged to on the period's first day
                return policies.version_for(membership.agency_at(stated.get(nip, ()), period.start) or agency, period)

            for m in months[nip]:
                days_f, tasks_f, innovations_f = facts[(nip, m.start, m.end)]
                month_rows.put(stored, month_writes, (nip, m.name), totals_of(
                    m, days=days_f, tasks=tasks_f, innovations=innovations_f, policy=_policy(version_for(m))))
            for period in wanted[nip]:
                version = version_for(period)
                policy, policy_id = _policy(version), version.policy_id if version is not None else None
                totals = _fold(session, nip, period, stored, policy)
                score = score_of_totals(period, totals, ratings.get((nip, period.name)), policy)
                row = scores.get((nip, period.name))
                after = score.values()
                written = None
                if row is None:
                    before = {f: None for f in VALUE_FIELDS} | {"predikat": "Belum dinilai"}
                    moved = any(after[f] is not None for f in VALUE_FIELDS if f != "predikat")
                    written = score_row(nip, period.name, score, agency=agency, policy_id=policy_id, now=now)
                else:
                    before = {f: getattr(row, f) for f in VALUE_FIELDS}
                    moved = before != after
                    if moved or not same_score(row, score, agency, policy_id):
                        written = score_row(nip, period.name, score, agency=agency, policy_id=policy_id, now=now)
                if written is not None:
                    score_writes[(nip, period.name)] = written
                if moved:
                    changed.append(written)
                    mine.append(score_event(nip, agency, period, score, before, emp, touched.cause[nip]))
            events.extend(as_one_change(mine))
    session.flush()  # the ORM rows of the batch (roster, ratings...) before the bulk writes
    gathered = writes if writes is not None else bulk_writes.Writes()
    gathered.upsert(DayFactRow.__table__, batch.take_pending_days())
    month_rows.write(gathered, month_writes)
    gathered.upsert(ScoreRow.__table__, score_writes.values())
    if outbox is not None and events:
        now = utcnow()
        # encoded in C (a score update's envelope holds only strings, floats, lists and None: the
        # same JSON ``Event.to_bytes`` writes, non-ASCII as UTF-8 rather than escaped)
        gathered.insert(outbox.table, [outbox_row(e.id, e.type, e.subject, orjson.dumps(e.to_dict(), default=str), now)
                                       for e in events])
    if writes is None:
        gathered.run(session)
    return changed


def _people(inputs: recompute_inputs.Inputs):
    """Roster entries by NIP (agency and supervisor), agency statements in month order
    (``memberships.statements_of``), and the supervisor's ratings by (NIP, period)."""
    stated = {nip: sorted((Statement(since, agency, memberships.as_utc(at), event_id)
                           for since, agency, at, event_id in rows), key=lambda st: st.since)
              for nip, rows in inputs.statements.items()}
    ratings = {key: Rating(levels, rating_id) for key, (levels, rating_id) in inputs.ratings.items()}
    return inputs.employees, stated, ratings


def _policy(version: PolicyVersion | None) -> Policy:
    return version.policy if version is not None else DEFAULT_POLICY


def _fold(session: Session, nip: str, period: Period, stored: dict, policy: Policy) -> MonthTotals:
    """The period's totals: the sum of its stored months."""
    # the months stored, looked up by a dict's own ``get`` (a lambda was a call for each of a
    # year's twelve months, stored or not)
    months = {m.name: month_rows.as_totals(row) for m in months_of(period)
              if (row := stored.get((nip, m.name))) is not None}
    return fold_months(session, nip, period, policy, months.get)


def fold_months(session: Session, nip: str, period: Period, policy: Policy,
                month: Callable[[str], MonthTotals | None]) -> MonthTotals:
    """The period's totals: the sum of its months' totals (``month(name)``, None for a month
    without any). A month whose late tasks were scored under another timeliness penalty (a policy
    that took effect within the quarter or year) has its task sums taken again from its facts
    under ``policy``. The live recompute and the rebuild both fold through here."""
    parts = []
    for m in months_of(period):
        t = month(m.name)
        if t is None:
            continue
        if t.needs_tasks_for(policy):
            _, tasks, _ = load_facts(session, nip, m.start, m.end)
            task_sum, task_count, late = task_totals(m, tasks, policy)
            t = replace(t, task_sum=task_sum, task_count=task_count, late_tasks=late,
                        penalty=policy.timeliness_penalty_per_day)
        parts.append(t)
    return fold(parts)
