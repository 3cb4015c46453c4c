"""One transaction's intake of a batch of events (``Batch``): every lock it needs taken up front in
the one order (``locks``), then the rows the events name read in bulk. What it holds is kept by
three parts of one idea each: the fact rows (``batch_rows``), the day facts and the months' facts
(``batch_days``), the roster's statements of agency (``batch_roster``)."""
from __future__ import annotations

from datetime import date
from typing import Iterable

from sqlalchemy.orm import Session

from kinerja.events.envelope import Event
from penilaian.adapters.orm import Employee, InnovationFactRow, RatingRow, TaskFactRow
from penilaian.domain.periods import periods_containing
from penilaian.service_layer.batch_days import BatchDays
from penilaian.service_layer.batch_keys import TASK_TYPES, named
from penilaian.service_layer.batch_roster import BatchRoster
from penilaian.service_layer.batch_rows import BatchRows
from penilaian.service_layer.locks import Claim, Locks, agency_key, asn_key, innovation_key, task_key


def _month(day: date):
    return periods_containing(day)[0]


class Batch(BatchRows, BatchDays, BatchRoster):
    """What one transaction has already read or locked: its locks (``locks.Locks``, all taken by
    ``prepare``), its fact rows (``BatchRows``), day facts (``BatchDays``) and the roster's
    statements (``BatchRoster``)."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.locks = Locks(session)
        self.init_rows()
        self.init_days()
        self.init_roster()

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
        keys = named(events)
        fact_keys = [task_key(t) for t in keys.tasks] + [innovation_key(i) for i in keys.innovations]
        months = {(nip, _month(day)) for nip, day in keys.days}
        agencies = [agency_key(a) for a in keys.agencies]
        if fact_keys:
            claimed = self.locks.take(fact_keys, claim)
            self.prefetch(TaskFactRow, keys.tasks)
            self.prefetch(InnovationFactRow, keys.innovations)
            owners = {row.nip for model in (TaskFactRow, InnovationFactRow) for row in self.rows[model].values()
                      if row is not None}
            # the months a task's fact may leave or join: its row's and each of its events'
            months.update((row.nip, _month(row.due_date)) for row in self.rows[TaskFactRow].values()
                          if row is not None)
            months.update((e.data["nip"], _month(e.data["due_date"])) for e in events if e.type in TASK_TYPES)
            self.locks.take([asn_key(n) for n in keys.nips | owners] + agencies)
        else:  # one pass: the ids' claim and every key in one statement
            claimed = self.locks.take([asn_key(n) for n in keys.nips] + agencies, claim)
        self.locks.seal()
        self.read_statements(keys.stated)
        if read_months:
            self.read_months(keys.days, [(nip, m.start, m.end) for nip, m in months])
        else:
            self.prefetch_days(keys.days)
        self.prefetch(Employee, keys.employees)
        self.prefetch(RatingRow, keys.ratings)
        for model, ids in keys.recorded.items():
            self.prefetch(model, ids)
        return claimed

    def lock_all(self, nips: Iterable[str]) -> None:
        """The ASN keys of ``nips`` in one pass (a recompute on its own); in a prepared batch
        they are held already, and one that is not raises ``locks.LockOrderError``."""
        self.locks.take(asn_key(n) for n in nips)
