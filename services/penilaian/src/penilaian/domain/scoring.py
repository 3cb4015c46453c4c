"""Scores as a pure function of the facts (DESIGN section 6).

Nothing here knows about events, tables or HTTP: the service layer hands in the facts it keeps
(day summaries, task outcomes, innovations, a BerAKHLAK rating) and gets back the components, the
total, the predikat and the ledger that explains them. Every number is a ``Decimal`` rounded
half-up to two places at each step, so the same facts always give the same digits.

The parts live in modules of one idea each (``decimals``, ``levels``, ``score_policy``,
``score_facts``, ``score``, ``components``, ``berakhlak``, ``predikat``); their names are
re-exported here, where callers have long found them.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Iterable

from penilaian.domain.berakhlak import (  # noqa: F401
    BERAKHLAK_VALUES,
    DialogHeld,
    ValueComparison,
    berakhlak_score,
    compare_ratings,
)
from penilaian.domain.components import disiplin, produktivitas, score_task  # noqa: F401
from penilaian.domain.decimals import CENT, HUNDRED, ZERO, fmt, q2, signed  # noqa: F401
from penilaian.domain.levels import ABOVE, BELOW, LEVEL_LABELS, LEVELS, MEETS  # noqa: F401
from penilaian.domain.periods import Period
from penilaian.domain.predikat import (  # noqa: F401
    BELUM_DINILAI,
    PREDIKAT,
    level,
    predikat,
    predikat_basis,
    weighted_total,
)
from penilaian.domain.score import (  # noqa: F401
    DISIPLIN,
    PERILAKU,
    PREDIKAT_ENTRY,
    PRODUKTIVITAS,
    LedgerEntry,
    Score,
    TaskScore,
)
from penilaian.domain.score_facts import (  # noqa: F401
    APPROVED,
    CANCELLED,
    STATUS_RANK,
    DayDeduction,
    DayFact,
    InnovationFact,
    Rating,
    TaskFact,
    task_state_key,
)
from penilaian.domain.score_policy import DEFAULT_POLICY, Policy  # noqa: F401


def compute_score(
    period: Period,
    *,
    days: Iterable[DayFact] = (),
    tasks: Iterable[TaskFact] = (),
    innovations: Iterable[InnovationFact] = (),
    rating: Rating | None = None,
    policy: Policy = DEFAULT_POLICY,
) -> Score:
    d_score, deductions, d_ledger = disiplin(period, days)
    p_score, task_scores, p_ledger = produktivitas(period, tasks, innovations, policy)
    b_score = berakhlak_score(rating, policy)
    rated = [(name, v) for name, v in (("disiplin", d_score), ("BerAKHLAK", b_score)) if v is not None]
    perilaku = q2(sum((v for _, v in rated), ZERO) / len(rated)) if rated else None
    b_ledger: list[LedgerEntry] = []
    for name, v in rated:
        share = q2(v / len(rated))
        b_ledger.append(LedgerEntry(
            PERILAKU, share, f"{'Nilai ' + name}: {fmt(v)}, bobot 1/{len(rated)}"
            + ("" if b_score is not None else " (BerAKHLAK belum dinilai)"),
            (rating.rating_id,) if name == "BerAKHLAK" and rating and rating.rating_id else ()))
    if perilaku is not None:
        rounding = perilaku - sum((e.points for e in b_ledger), ZERO)
        if rounding:
            b_ledger.append(LedgerEntry(PERILAKU, rounding, "Pembulatan perilaku kerja"))
    hasil_kerja = p_score
    final = hasil_kerja is not None and perilaku is not None
    basis = predikat_basis(hasil_kerja, perilaku, policy)
    # the predikat's matrix cell closes the ledger, worth no points: the reason for the word (while
    # a part is unrated there is no cell; the API's predikat_basis says which part is missing)
    why = [LedgerEntry(PREDIKAT_ENTRY, ZERO, basis["rule"])] if final else []
    return combine(period, d_score, p_score, b_score, policy, deductions=tuple(deductions),
                   ledger=tuple(d_ledger + p_ledger + b_ledger + why), tasks=tuple(task_scores))


def perilaku_of(d_score: Decimal | None, b_score: Decimal | None) -> Decimal | None:
    """The mean of disiplin and BerAKHLAK, whichever are rated."""
    rated = [v for v in (d_score, b_score) if v is not None]
    return q2(sum(rated, ZERO) / len(rated)) if rated else None


def combine(period: Period, d_score: Decimal | None, p_score: Decimal | None, b_score: Decimal | None,
            policy: Policy = DEFAULT_POLICY, *, deductions: tuple = (), ledger: tuple = (),
            tasks: tuple = ()) -> Score:
    """The score of a period from its three rated parts: perilaku, the total (final, or partial
    while a part is unrated) and the predikat; the explaining parts as given (none from a fold of
    month totals: ``domain.month_totals``)."""
    perilaku = perilaku_of(d_score, b_score)
    weighted = weighted_total(p_score, perilaku, policy)
    final = p_score is not None and perilaku is not None
    return Score(
        period=period.name,
        disiplin=d_score,
        deductions=deductions,
        produktivitas=p_score,
        berakhlak=b_score,
        perilaku=perilaku,
        hasil_kerja=p_score,
        total=weighted if final else None,
        total_partial=None if final else weighted,
        predikat=predikat(p_score, perilaku, policy),
        ledger=ledger,
        tasks=tasks,
    )
