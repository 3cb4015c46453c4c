"""Migration 0011's one-off fill: the month totals of every month scored before they existed, and
the policy version each stored score is read by.

It writes no score values: a stored row keeps the values and the ledger it was stored with
(``views.detail_of`` shows that ledger until the row is next recomputed), so the migration moves
no score and owes no ``penilaian.score.updated.v1``. Each month's sums are taken from its facts by
the policy in force on its first day in the agency the ASN then belonged to, as ``recompute_many``
takes them. Rows are read and written by the columns named here (Core statements), so a later
migration that adds columns does not break this one.
"""
from __future__ import annotations

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from penilaian.adapters.fact_queries import load_spans
from penilaian.adapters.orm import Employee, MonthTotalsRow, ScoreRow
from penilaian.domain import membership
from penilaian.domain.month_totals import totals_of
from penilaian.domain.periods import Period, parse_period
from penilaian.domain.score_policy import DEFAULT_POLICY
from penilaian.service_layer import memberships
from penilaian.service_layer.month_rows import values_of
from penilaian.service_layer.recompute import Policies


def backfill_month_totals(bind: Connection, chunk: int = 200) -> int:
    """Fill ``month_totals`` and ``scores.policy_id`` from the stored facts; returns the months
    written."""
    session = Session(bind=bind)
    try:
        policies = Policies(session)
        periods: dict[str, list[Period]] = {}
        filed: dict[str, str] = {}
        for nip, name, agency in session.execute(select(ScoreRow.nip, ScoreRow.period, ScoreRow.agency)):
            filed[nip] = agency
            periods.setdefault(nip, []).append(parse_period(name))
        nips = sorted(periods)
        written = 0
        for i in range(0, len(nips), chunk):
            part = nips[i:i + chunk]
            months = {nip: [p for p in periods[nip] if p.kind == "month"] for nip in part}
            facts = load_spans(session, [(nip, m.start, m.end) for nip in part for m in months[nip]])
            roster = dict(session.execute(select(Employee.nip, Employee.agency).where(Employee.nip.in_(part))).all())
            stated = memberships.statements_of(session, part)
            totals_rows, versions = [], []
            for nip in part:
                agency = roster.get(nip) or filed[nip]

                def version_for(period: Period):
                    return policies.version_for(membership.agency_at(stated.get(nip, ()), period.start) or agency,
                                                period)

                for m in months[nip]:
                    version = version_for(m)
                    days, tasks, innovations = facts[(nip, m.start, m.end)]
                    totals = totals_of(m, days=days, tasks=tasks, innovations=innovations,
                                       policy=version.policy if version is not None else DEFAULT_POLICY)
                    totals_rows.append({"nip": nip, "month": m.name, **values_of(totals)})
                for period in periods[nip]:
                    version = version_for(period)
                    if version is not None:
                        versions.append({"k_nip": nip, "k_period": period.name, "k_policy": version.policy_id})
            # one statement per chunk each (executemany), the columns named
            if totals_rows:
                session.execute(insert(MonthTotalsRow.__table__), totals_rows)
                written += len(totals_rows)
            if versions:
                scores = ScoreRow.__table__
                session.execute(update(scores).where(scores.c.nip == bindparam("k_nip"),
                                                     scores.c.period == bindparam("k_period"))
                                .values(policy_id=bindparam("k_policy")), versions)
        session.flush()
        return written
    finally:
        session.close()
