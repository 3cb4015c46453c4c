"""The stored month totals (``month_totals``): read for the years a recompute folds, written when
a month's sums moved, a batch's in one statement (the migration's one-off fill is
``month_backfill``)."""
from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace

from sqlalchemy import select
from sqlalchemy.orm import Session

from penilaian.adapters.bulk_writes import Writes

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


_COLUMNS = tuple(getattr(MonthTotalsRow, c) for c in MonthTotalsRow.__table__.columns.keys())


def load_years(session: Session, years: dict[str, set[int]]) -> dict[MonthKey, object]:
    """The stored months of each ASN's years (rows with the table's columns as attributes), one
    query per 500 ASN."""
    out: dict[MonthKey, object] = {}
    nips = sorted(n for n, ys in years.items() if ys)
    if not nips:
        return out
    lo, hi = min(min(ys) for ys in years.values() if ys), max(max(ys) for ys in years.values() if ys)
    for i in range(0, len(nips), 500):
        for row in session.execute(select(*_COLUMNS).where(
                MonthTotalsRow.nip.in_(nips[i:i + 500]), MonthTotalsRow.month >= f"{lo:04d}-01",
                MonthTotalsRow.month <= f"{hi:04d}-12")):
            if int(row.month[:4]) in years[row.nip]:
                out[(row.nip, row.month)] = row
    return out


def put(stored: dict[MonthKey, object], writes: dict[MonthKey, dict], key: MonthKey, totals: MonthTotals) -> None:
    """Note the month's sums in ``stored`` and, when they moved, the row to write in ``writes``
    (``write``)."""
    values = values_of(totals)
    row = stored.get(key)
    if row is None or any(getattr(row, k) != v for k, v in values.items()):
        writes[key] = full = {"nip": key[0], "month": key[1], **values}
        stored[key] = SimpleNamespace(**full)


def write(gathered: Writes, writes: dict[MonthKey, dict]) -> None:
    """The months that moved, added to a transaction's gathered writes (``bulk_writes.Writes``)."""
    gathered.upsert(MonthTotalsRow.__table__, writes.values())
