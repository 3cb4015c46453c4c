"""Everything a recompute of a chunk of ASN reads besides their facts, in ONE statement (one round
trip, not four): their roster entries, agency statements and supervisor's ratings, the stored
month totals of the years folded, the score rows of the periods recomputed, and the policy
versions' stamp (``recompute.Policies.check``).

A ``UNION ALL`` whose rows carry ``kind`` and a few columns of each type that the kinds share
(``s1``... text, ``i1``... integers, ``n1``... scores, a date, a time, a JSON value), NULL where a
kind has nothing: each column is typed in the first branch (the union's result types are the
first's), so each value comes back as its own table's column gives it.
"""
from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace

from sqlalchemy import Integer, String, bindparam, cast, func, literal, null, select, type_coerce, union_all
from sqlalchemy.orm import Session

from kinerja.db import planned_each_time
from penilaian.adapters.key_lists import both, on_postgres
from penilaian.adapters.orm import (
    Employee,
    MembershipRow,
    MonthTotalsRow,
    PolicyRow,
    RatingRow,
    ScoreRow,
)

_LO, _HI = bindparam("lo"), bindparam("hi")
_S, _I, _N = 5, 4, 7  # text, integer and score columns
_CENT = Decimal("0.01")


def _none(kind):
    return cast(null(), kind)


def _row(kind: str, nip, *, s=(), i=(), n=(), d=None, t=None, j=None):
    """One branch's columns: ``kind``, ``nip``, then the slots, unused ones NULL (typed)."""
    s = list(s) + [_none(String)] * (_S - len(s))
    i = list(i) + [_none(MonthTotalsRow.workdays.type)] * (_I - len(i))
    n = list(n) + [_none(Integer)] * (_N - len(n))
    return [literal(kind).label("kind"), nip.label("nip") if nip is not None else _none(String).label("nip"),
            *(c.label(f"s{k}") for k, c in enumerate(s, 1)), *(c.label(f"i{k}") for k, c in enumerate(i, 1)),
            *(c.label(f"n{k}") for k, c in enumerate(n, 1)),
            (d if d is not None else _none(MembershipRow.since.type)).label("d1"),
            (t if t is not None else _none(MembershipRow.stated_at.type)).label("t1"),
            (j if j is not None else _none(ScoreRow.detail.type)).label("j1")]


_INPUTS = both(lambda match: union_all(  # the NIPs and periods: ``key_lists``
    select(*_row("e", Employee.nip, s=(Employee.agency, Employee.atasan_nip))).where(match(Employee.nip, "nips")),
    select(*_row("m", MembershipRow.nip, s=(MembershipRow.agency, MembershipRow.event_id), d=MembershipRow.since,
                 t=MembershipRow.stated_at)).where(match(MembershipRow.nip, "nips")),
    select(*_row("r", RatingRow.nip, s=(RatingRow.period, RatingRow.rating_id), j=RatingRow.levels)).where(
        match(RatingRow.nip, "nips"), RatingRow.rater == "atasan"),
    select(*_row("o", MonthTotalsRow.nip,
                 s=(MonthTotalsRow.month, MonthTotalsRow.deductions, MonthTotalsRow.task_sum, MonthTotalsRow.penalty),
                 i=(MonthTotalsRow.workdays, MonthTotalsRow.task_count, MonthTotalsRow.late_tasks,
                    MonthTotalsRow.innovations))).where(
        match(MonthTotalsRow.nip, "nips"), MonthTotalsRow.month >= _LO, MonthTotalsRow.month <= _HI),
    # the scores as stored (hundredths, ``orm.Cents``), made Decimals for the score rows alone
    # (``_score``): the type's processor ran for each of the 7 slots of every row of the union
    select(*_row("s", ScoreRow.nip, s=(ScoreRow.period, ScoreRow.agency, ScoreRow.policy_id, ScoreRow.predikat),
                 n=tuple(type_coerce(c, Integer) for c in (
                     ScoreRow.disiplin, ScoreRow.produktivitas, ScoreRow.berakhlak, ScoreRow.perilaku,
                     ScoreRow.hasil_kerja, ScoreRow.total, ScoreRow.total_partial)),
                 j=ScoreRow.detail, t=ScoreRow.updated_at)).where(
        match(ScoreRow.nip, "nips"), match(ScoreRow.period, "periods")),
    # the policy versions' stamp: how many, the greatest id (one row, whatever the ASN)
    select(*_row("p", None, s=(func.max(PolicyRow.policy_id), cast(func.count(PolicyRow.policy_id), String)))),
))


class Inputs:
    """The rows of ``read``, sorted by kind: ``employees`` (nip -> agency, atasan_nip),
    ``statements`` (nip -> [(since, agency, stated_at, event_id)]), ``ratings`` ((nip, period)
    -> (levels, rating_id)), ``months`` ((nip, month) -> the month totals row), ``scores`` ((nip,
    period) -> the score row; both with their table's columns as attributes), ``stamp``."""

    def __init__(self) -> None:
        self.employees: dict[str, SimpleNamespace] = {}
        self.statements: dict[str, list[tuple]] = {}
        self.ratings: dict[tuple[str, str], tuple] = {}
        self.months: dict[tuple[str, str], SimpleNamespace] = {}
        self.scores: dict[tuple[str, str], SimpleNamespace] = {}
        self.stamp: tuple | None = None


def read(session: Session, nips: list[str], years: dict[str, set[int]], periods: set[tuple[str, str]]) -> Inputs:
    """The inputs of ``nips``: month totals of each one's ``years``, score rows of ``periods``
    ((nip, period name) pairs)."""
    out = Inputs()
    all_years = [y for ys in years.values() for y in ys] or [0]
    params = {"nips": nips, "periods": sorted({p for _, p in periods}) or [""],
              "lo": f"{min(all_years):04d}-01", "hi": f"{max(all_years):04d}-12"}
    # what the ORM's execute would do for this Core statement (the batch's pending roster entries and
    # ratings flushed first: they are read here), without its calls: the flush, then the statement on
    # the session's connection; .all(): the rows fetched in one call, not one a row
    session.flush()
    connection = session.connection()
    with planned_each_time(connection):  # arrays of keys (``key_lists``)
        rows = connection.execute(_INPUTS[on_postgres(connection)], params).all()
    for r in rows:
        kind = r.kind
        if kind == "o":
            if int(r.s1[:4]) in years.get(r.nip, ()):
                out.months[(r.nip, r.s1)] = SimpleNamespace(
                    nip=r.nip, month=r.s1, deductions=r.s2, task_sum=r.s3, penalty=r.s4, workdays=r.i1,
                    task_count=r.i2, late_tasks=r.i3, innovations=r.i4)
        elif kind == "s":
            if (r.nip, r.s1) in periods:
                n = [r.n1, r.n2, r.n3, r.n4, r.n5, r.n6, r.n7]
                for k, v in enumerate(n):  # as ``orm.Cents`` reads them, in a loop (no call a value)
                    if v is not None:
                        n[k] = (Decimal(v) / 100).quantize(_CENT)
                n1, n2, n3, n4, n5, n6, n7 = n
                out.scores[(r.nip, r.s1)] = SimpleNamespace(
                    nip=r.nip, period=r.s1, agency=r.s2, policy_id=r.s3, predikat=r.s4, disiplin=n1,
                    produktivitas=n2, berakhlak=n3, perilaku=n4, hasil_kerja=n5, total=n6,
                    total_partial=n7, detail=r.j1, updated_at=r.t1)
        elif kind == "e":
            out.employees[r.nip] = SimpleNamespace(nip=r.nip, agency=r.s1, atasan_nip=r.s2)
        elif kind == "m":
            out.statements.setdefault(r.nip, []).append((r.d1, r.s1, r.t1, r.s2))
        elif kind == "r":
            out.ratings[(r.nip, r.s1)] = (r.j1, r.s2)
        else:
            out.stamp = (r.s2, r.s1)
    return out
