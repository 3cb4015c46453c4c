"""The components that come from facts: disiplin (the period's day deductions) and produktivitas
(the tasks due in the period, plus innovation points), each with its ledger entries."""
from __future__ import annotations

from decimal import Decimal
from typing import Iterable

from penilaian.domain.decimals import HUNDRED, ZERO, fmt, q2, signed
from penilaian.domain.periods import Period
from penilaian.domain.score import DISIPLIN, PRODUKTIVITAS, LedgerEntry, TaskScore
from penilaian.domain.score_facts import APPROVED, CANCELLED, DayFact, InnovationFact, TaskFact
from penilaian.domain.score_policy import DEFAULT_POLICY, Policy


def disiplin(period: Period, days: Iterable[DayFact]) -> tuple[Decimal | None, list, list[LedgerEntry]]:
    """100 − the period's deductions, not below 0; None when no workday is known in the period."""
    facts = sorted((d for d in days if d.day in period and d.workday), key=lambda d: d.day)
    if not facts:
        return None, [], []
    ledger = [LedgerEntry(DISIPLIN, HUNDRED, f"Nilai awal disiplin {period}: 100")]
    deductions = []
    total = ZERO
    for fact in facts:
        ids = (fact.event_id, *fact.punch_event_ids)
        mark = " (koreksi lupa absen)" if fact.corrected else ""
        for ded in sorted(fact.deductions, key=lambda x: x.code):
            deductions.append((fact.day, ded))
            total += ded.percent
            ledger.append(LedgerEntry(
                DISIPLIN, -ded.percent, f"{ded.code} pada {fact.day.isoformat()}: −{fmt(ded.percent)} %{mark}",
                ids, fact.day, fact.corrected))
        if fact.corrected and not fact.deductions:
            # a corrected day without deductions still shows in the ledger: what made it clean
            ledger.append(LedgerEntry(DISIPLIN, ZERO, f"Koreksi lupa absen pada {fact.day.isoformat()} "
                                                      "disetujui atasan: tanpa potongan", ids, fact.day, True))
    score = HUNDRED - total
    if score < 0:
        ledger.append(LedgerEntry(DISIPLIN, -score, "Nilai disiplin tidak di bawah 0"))
        score = ZERO
    return q2(score), deductions, ledger


def score_task(task: TaskFact, policy: Policy = DEFAULT_POLICY) -> TaskScore | None:
    """A task's score, or None while it does not count (open and not past due, or cancelled)."""
    if task.status == CANCELLED:
        return None
    if task.status != APPROVED:
        if not task.overdue:
            return None
        return TaskScore(task.task_id, task.title, task.due_date, task.status, q2(ZERO), None, None, None,
                         task.event_id, "lewat jatuh tempo dan belum disetujui: 0")
    if task.target_quantity <= 0 or task.realised_quantity is None:
        quantity = HUNDRED
    else:
        quantity = min(HUNDRED, q2(task.realised_quantity / task.target_quantity * HUNDRED))
    quality = Decimal(task.quality) if task.quality is not None else None
    handed_in = task.submitted_on or task.approved_on
    days_late = max(0, (handed_in - task.due_date).days) if handed_in else 0
    timeliness = max(ZERO, HUNDRED - policy.timeliness_penalty_per_day * days_late)
    parts = [p for p in (quantity, quality, timeliness) if p is not None]
    score = q2(sum(parts, ZERO) / len(parts))
    reason = (f"kuantitas {fmt(quantity)}, kualitas {fmt(quality) if quality is not None else 'belum dinilai'}, "
              f"ketepatan waktu {fmt(timeliness)}" + (f" (terlambat {days_late} hari)" if days_late else ""))
    return TaskScore(task.task_id, task.title, task.due_date, task.status, score, quantity, quality, timeliness,
                     task.event_id, reason)


def produktivitas(period: Period, tasks: Iterable[TaskFact], innovations: Iterable[InnovationFact],
                  policy: Policy = DEFAULT_POLICY) -> tuple[Decimal | None, list[TaskScore], list[LedgerEntry]]:
    """Mean score of the tasks due in the period, plus innovation points (capped), not above 100;
    None when no task counts in the period."""
    due = sorted((t for t in tasks if t.due_date in period), key=lambda t: (t.due_date, t.task_id))
    scored = [s for s in (score_task(t, policy) for t in due) if s is not None]
    if not scored:
        return None, [], []
    n = Decimal(len(scored))
    base = q2(sum((s.score for s in scored), ZERO) / n)
    ledger: list[LedgerEntry] = []
    for s in scored:
        ledger.append(LedgerEntry(
            PRODUKTIVITAS, q2(s.score / n),
            f"Tugas \"{s.title}\" (jatuh tempo {s.due_date.isoformat()}): {s.reason} → {fmt(s.score)}, "
            f"bobot 1/{len(scored)}", (s.event_id,), s.due_date))
    rounding = base - sum((e.points for e in ledger), ZERO)
    if rounding:
        ledger.append(LedgerEntry(PRODUKTIVITAS, rounding, "Pembulatan rata-rata tugas"))
    points = ZERO
    for inv in sorted((i for i in innovations if i.approved_on in period),
                      key=lambda i: (i.approved_on, i.innovation_id)):
        add = min(policy.innovation_points, policy.innovation_cap - points)
        points += add
        rule = (f"Inovasi \"{inv.title}\" disetujui {inv.approved_on.isoformat()}: {signed(add)}"
                if add else f"Inovasi \"{inv.title}\" disetujui {inv.approved_on.isoformat()}: "
                            f"batas +{fmt(policy.innovation_cap)} sudah tercapai")
        ledger.append(LedgerEntry(PRODUKTIVITAS, add, rule, (inv.event_id,), inv.approved_on))
    score = base + points
    if score > HUNDRED:
        ledger.append(LedgerEntry(PRODUKTIVITAS, HUNDRED - score, "Produktivitas paling tinggi 100"))
        score = HUNDRED
    return q2(score), scored, ledger
