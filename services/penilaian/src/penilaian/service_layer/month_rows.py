"""The stored month totals (``month_totals``): read for the years a recompute folds, written when
a month's sums moved (the migration's one-off fill is ``month_backfill``)."""
from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from penilaian.adapters.orm import MonthTotalsRow
from penilaian.domain.month_totals import MonthTotals

MonthKey = tuple[str, str]  # (nip, "2026-11")


def as_totals(row: MonthTotalsRow) -> MonthTotals:
    return MonthTotals(row.workdays, Decimal(row.deductions), Decimal(row.task_sum), row.task_count, row.late_tasks,
                       Decimal(row.penalty), row.innovations)


def values_of(t: MonthTotals) -> dict:
    return {"workdays": t.workdays, "deductions": str(t.deductions), "task_sum": str(t.task_sum),
            "task_count": t.task_count, "late_tasks": t.late_tasks, "penalty": str(t.penalty),
            "innovations": t.innovations}


def load_years(session: Session, years: dict[str, set[int]]) -> dict[MonthKey, MonthTotalsRow]:
    """The stored months of each ASN's years, one query per 500 ASN."""
    out: dict[MonthKey, MonthTotalsRow] = {}
    nips = sorted(n for n, ys in years.items() if ys)
    if not nips:
        return out
    lo, hi = min(min(ys) for ys in years.values() if ys), max(max(ys) for ys in years.values() if ys)
    for i in range(0, len(nips), 500):
        for row in session.execute(select(MonthTotalsRow).where(
                MonthTotalsRow.nip.in_(nips[i:i + 500]), MonthTotalsRow.month >= f"{lo:04d}-01",
                MonthTotalsRow.month <= f"{hi:04d}-12")).scalars():
            if int(row.month[:4]) in years[row.nip]:
                out[(row.nip, row.month)] = row
    return out


def put(session: Session, stored: dict[MonthKey, MonthTotalsRow], key: MonthKey, totals: MonthTotals) -> None:
    """Store the month's sums (in the session: flushed with the batch's other rows)."""
    values = values_of(totals)
    row = stored.get(key)
    if row is None:
        row = stored[key] = MonthTotalsRow(nip=key[0], month=key[1], **values)
        session.add(row)
    elif any(getattr(row, k) != v for k, v in values.items()):
        for k, v in values.items():
            setattr(row, k, v)
