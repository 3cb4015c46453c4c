"""Hand-written queries of the facts a score is computed from: an ASN's days, tasks and innovations
over a date range, as the domain's fact types, for one ASN or many at once."""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from types import SimpleNamespace

from sqlalchemy import JSON, Boolean, Date, Integer, String, bindparam, case, cast, func, literal, null, select, type_coerce, union_all
from sqlalchemy.orm import Session

from kinerja.db import planned_each_time
from penilaian.adapters.key_lists import both, on_postgres
from penilaian.adapters.orm import DayFactRow, InnovationFactRow, TaskFactRow
from penilaian.domain.scoring import DayDeduction, DayFact, InnovationFact, TaskFact


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


def _day(day, event_id, workday, excused, corrected, deductions, punch_event_ids) -> DayFact:
    if not deductions:
        return DayFact.of(day, event_id, workday, excused, bool(corrected), (), tuple(punch_event_ids or ()))
    return DayFact.of(day, event_id, workday, excused, bool(corrected),
                      tuple([DayDeduction(x["code"], Decimal(x["percent"]), x.get("minutes")) for x in deductions]),
                      tuple(punch_event_ids))


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
_DAY_JSON = (type_coerce(case((_DEDUCTED, DayFactRow.deductions), else_=None), JSON).label("deductions"),
             type_coerce(case((_DEDUCTED | DayFactRow.corrected, DayFactRow.punch_event_ids), else_=None),
                         JSON).label("punch_event_ids"))
# built once (a statement costs about as much to build as to run): the NIPs and the date range bound
_LO, _HI = bindparam("lo"), bindparam("hi")  # the NIPs: ``key_lists``


# the three in one statement (one round trip, not three: a live transaction's reads are most of
# its time), each row in its table's columns and NULL in the others', ``kind`` telling which;
# every column is typed in the first branch (the union's result types are the first's)
def _none(kind):
    return cast(null(), kind)


_FACTS_OF = both(lambda match: union_all(
    select(literal("d").label("kind"), DayFactRow.nip, DayFactRow.event_id, _none(String).label("id"),
           _none(String).label("title"), _none(String).label("status"), DayFactRow.day.label("d0"),
           _none(Date).label("d1"), _none(Date).label("d2"), _none(Date).label("d3"), _none(String).label("q0"),
           _none(String).label("q1"), DayFactRow.version.label("quality"), DayFactRow.workday, DayFactRow.excused,
           DayFactRow.corrected, *_DAY_JSON).where(
        match(DayFactRow.nip, "nips"), DayFactRow.day >= _LO, DayFactRow.day <= _HI),
    select(literal("t"), TaskFactRow.nip, TaskFactRow.event_id, TaskFactRow.task_id, TaskFactRow.title,
           TaskFactRow.status, TaskFactRow.due_date, TaskFactRow.submitted_on, TaskFactRow.approved_on,
           TaskFactRow.last_open_on, TaskFactRow.target_quantity, TaskFactRow.realised_quantity,
           TaskFactRow.quality, _none(Boolean), _none(String), _none(Boolean), _none(JSON), _none(JSON)).where(
        match(TaskFactRow.nip, "nips"), TaskFactRow.due_date >= _LO, TaskFactRow.due_date <= _HI),
    select(literal("i"), InnovationFactRow.nip, InnovationFactRow.event_id, InnovationFactRow.innovation_id,
           InnovationFactRow.title, _none(String), InnovationFactRow.approved_on, _none(Date), _none(Date),
           _none(Date), _none(String), _none(String), _none(Integer), _none(Boolean), _none(String),
           _none(Boolean), _none(JSON), _none(JSON)).where(
        match(InnovationFactRow.nip, "nips"), InnovationFactRow.approved_on >= _LO, InnovationFactRow.approved_on <= _HI),
))


def _fact(r):
    if r.kind == "d":  # most rows: built without an intermediate object
        return 0, _day(r.d0, r.event_id, r.workday, r.excused, r.corrected, r.deductions, r.punch_event_ids)
    if r.kind == "t":
        return 1, task_fact(SimpleNamespace(task_id=r.id, title=r.title, status=r.status, due_date=r.d0,
                                            target_quantity=r.q0, event_id=r.event_id, realised_quantity=r.q1,
                                            quality=r.quality, submitted_on=r.d1, approved_on=r.d2,
                                            last_open_on=r.d3))
    return 2, InnovationFact(r.id, r.title, r.d0, r.event_id)


def load_facts_many(session: Session, ranges: dict[str, tuple[date, date]]):
    """``load_facts`` for several ASN, each over its own [start, end] (``load_spans``)."""
    spans = load_spans(session, [(nip, lo, hi) for nip, (lo, hi) in ranges.items()])
    return {nip: spans[(nip, lo, hi)] for nip, (lo, hi) in ranges.items()}


def day_fact_of(row: dict) -> DayFact:
    """A day fact's row (as ``day_summaries.day_values`` makes it) as the query above loads it."""
    deducted = bool(row["deductions"])
    return _day(row["day"], row["event_id"], row["workday"], row["excused"], row["corrected"],
                row["deductions"] if deducted else None,
                row["punch_event_ids"] if deducted or row["corrected"] else None)


def load_spans(session: Session, spans: list[tuple[str, date, date]], versions: dict | None = None):
    """The facts of each (nip, start, end), with one query for each distinct range (a batch's ASN
    mostly share one month; one reaching back to another month does not widen the others' reads).
    Their order does not matter: ``compute_score`` and ``month_totals`` sort or sum what they
    read. ``versions``: filled with (version, event id) of each day fact read, by (nip, day)."""
    out: dict[tuple[str, date, date], tuple[list, list, list]] = {k: ([], [], []) for k in spans}
    by_range: dict[tuple[date, date], list[str]] = {}
    for nip, lo, hi in out:
        by_range.setdefault((lo, hi), []).append(nip)
    connection = session.connection()
    statement = _FACTS_OF[on_postgres(connection)]
    for (lo, hi), nips in sorted(by_range.items()):
        nips.sort()
        for i in range(0, len(nips), 500):
            # on the session's connection: the ORM's execute adds nothing to a Core statement of three
            # plain-row tables (no ORM object is ever pending in them: they are written by statements)
            # but its own calls; .all(): the rows fetched in one call, not one a row
            with planned_each_time(connection):  # an array of keys (``key_lists``)
                rows = connection.execute(statement, {"nips": nips[i:i + 500], "lo": lo, "hi": hi}).all()
            for r in rows:
                which, fact = _fact(r)
                out[(r.nip, lo, hi)][which].append(fact)
                if which == 0 and versions is not None:
                    versions[(r.nip, r.d0)] = (r.quality, r.event_id)
    return out
