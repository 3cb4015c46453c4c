"""The facts of an ASN's month as they stand in a transaction that has stored some and not written
them all yet: the rows read (once, ``batch.Batch.prepare``) with the batch's own over them. Its day
facts wait for the transaction's last statement (``Batch.pending_days``); its task and innovation
records may be written already or not: a record replaces its fact by id either way, so a read that
has them already changes nothing."""
from __future__ import annotations

from datetime import date

from penilaian.adapters.fact_queries import day_fact_of, task_fact
from penilaian.adapters.orm import InnovationFactRow, TaskFactRow
from penilaian.domain.scoring import InnovationFact

Span = tuple[str, date, date]  # (nip, first day, last day)


def overlaid(read: dict[Span, tuple[list, list, list]], spans: list[Span], pending_days: dict[tuple[str, date], dict],
             records: dict[type, dict]) -> dict[Span, tuple[list, list, list]]:
    """(days, tasks, innovations) of each of ``spans``: ``read`` (the rows as read), the days of
    ``pending_days`` (day rows by (nip, day)) in place of the ones read, and the task and
    innovation ``records`` (by model, by id; None: known absent) in place of those with their id,
    each in the span its ASN and date put it in now."""
    days_of: dict[str, list[dict]] = {}
    for (nip, _), row in pending_days.items():
        days_of.setdefault(nip, []).append(row)
    tasks_of: dict[str, list] = {}
    innovations_of: dict[str, list] = {}
    for r in records.get(TaskFactRow, {}).values():
        if r is not None:
            tasks_of.setdefault(r.nip, []).append(r)
    for r in records.get(InnovationFactRow, {}).values():
        if r is not None:
            innovations_of.setdefault(r.nip, []).append(r)
    task_ids, innovation_ids = set(records.get(TaskFactRow, ())), set(records.get(InnovationFactRow, ()))
    out = {}
    for span in spans:
        nip, lo, hi = span
        days, tasks, innovations = read[span]
        mine = [row for row in days_of.get(nip, ()) if lo <= row["day"] <= hi]
        if mine:
            replaced = {row["day"] for row in mine}
            days = [d for d in days if d.day not in replaced] + [day_fact_of(row) for row in mine]
        if task_ids:
            tasks = [t for t in tasks if t.task_id not in task_ids] + [
                task_fact(r) for r in tasks_of.get(nip, ()) if lo <= r.due_date <= hi]
        if innovation_ids:
            innovations = [i for i in innovations if i.innovation_id not in innovation_ids] + [
                InnovationFact(r.innovation_id, r.title, r.approved_on, r.event_id)
                for r in innovations_of.get(nip, ()) if lo <= r.approved_on <= hi]
        out[span] = (days, tasks, innovations)
    return out
