"""The stored month totals (``month_totals``): read with a recompute's other inputs
(``adapters.recompute_inputs``), written when a month's sums moved, a batch's in one statement
(the migration's one-off fill is ``month_backfill``)."""
from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace

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


def put(stored: dict[MonthKey, object], writes: dict[MonthKey, dict], key: MonthKey, totals: MonthTotals) -> None:
    """Note the month's sums in ``stored`` and, when they moved, the row to write in ``writes``
    (``write``)."""
    full = {"nip": key[0], "month": key[1], **values_of(totals)}
    row = stored.get(key)
    # a stored row has exactly these attributes (``recompute_inputs``, or this function): compared
    # as dicts, in C (a generator was a call for each column)
    if row is None or vars(row) != full:
        writes[key] = full
        stored[key] = SimpleNamespace(**full)


def write(gathered: Writes, writes: dict[MonthKey, dict]) -> None:
    """The months that moved, added to a transaction's gathered writes (``bulk_writes.Writes``)."""
    gathered.upsert(MonthTotalsRow.__table__, writes.values())
