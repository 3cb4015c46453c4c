"""Scores as a pure function of the facts (DESIGN section 6).

Nothing here knows about events, tables or HTTP: the service layer hands in the facts it keeps
(day summaries, task outcomes, innovations, a BerAKHLAK rating) and gets back the components, the
total, the predikat and the ledger that explains them. Every number is a ``Decimal`` rounded
half-up to two places at each step, so the same facts always give the same digits.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Iterable, Mapping

from penilaian.domain.periods import Period

CENT = Decimal("0.01")
ZERO = Decimal("0")
HUNDRED = Decimal("100")

BELOW, MEETS, ABOVE = "below", "meets", "above"
LEVELS = (BELOW, MEETS, ABOVE)
BELUM_DINILAI = "Belum dinilai"

# PermenPANRB 6/2022: PREDIKAT[hasil kerja level][perilaku level]
PREDIKAT: Mapping[str, Mapping[str, str]] = {
    ABOVE: {BELOW: "Kurang/Misconduct", MEETS: "Baik", ABOVE: "Sangat Baik"},
    MEETS: {BELOW: "Kurang/Misconduct", MEETS: "Baik", ABOVE: "Baik"},
    BELOW: {BELOW: "Sangat Kurang", MEETS: "Butuh Perbaikan", ABOVE: "Butuh Perbaikan"},
}

BERAKHLAK_VALUES = (
    "berorientasi_pelayanan", "akuntabel", "kompeten", "harmonis", "loyal", "adaptif", "kolaboratif",
)

APPROVED, CANCELLED = "approved", "cancelled"

DISIPLIN, PRODUKTIVITAS, PERILAKU = "disiplin", "produktivitas", "perilaku"
PREDIKAT_ENTRY = "predikat"  # the ledger's entry saying which matrix cell gave the predikat (0 points)
LEVEL_LABELS = {ABOVE: "di atas ekspektasi", MEETS: "sesuai ekspektasi", BELOW: "di bawah ekspektasi"}


def q2(x: Decimal) -> Decimal:
    return x.quantize(CENT, rounding=ROUND_HALF_UP)


def fmt(x: Decimal) -> str:
    """Indonesian-friendly number: ``1``, ``0,5``, ``87,33``."""
    text = format(x, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text.replace(".", ",")


def signed(x: Decimal) -> str:
    return ("−" if x < 0 else "+") + fmt(abs(x))


@dataclass(frozen=True)
class Policy:
    """The DESIGN defaults; every number is configurable per agency."""

    weight_hasil_kerja: Decimal = Decimal("0.6")
    weight_perilaku: Decimal = Decimal("0.4")
    innovation_points: Decimal = Decimal("5")
    innovation_cap: Decimal = Decimal("10")
    timeliness_penalty_per_day: Decimal = Decimal("10")
    above_from: Decimal = Decimal("90")
    meets_from: Decimal = Decimal("70")
    berakhlak_points: Mapping[str, Decimal] = field(
        default_factory=lambda: {BELOW: Decimal("60"), MEETS: Decimal("80"), ABOVE: Decimal("100")})
    # the allowed spread of predikat by the organisation's own (None: PermenPANRB 6/2022's default,
    # ``domain.distribution.DEFAULT_CURVES``); JSON as in ``distribution.curves_from_json``
    distribution_curve: Mapping | None = field(default=None, compare=False, hash=False)


DEFAULT_POLICY = Policy()


# -- facts -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DayDeduction:
    code: str
    percent: Decimal
    minutes: int | None = None


@dataclass(frozen=True)
class DayFact:
    """The latest version of one ASN's day as kehadiran summarised it."""

    day: date
    event_id: str
    workday: bool = True
    deductions: tuple[DayDeduction, ...] = ()
    punch_event_ids: tuple[str, ...] = ()
    excused: str | None = None
    corrected: bool = False  # rests on an approved correction (lupa absen)


@dataclass(frozen=True)
class TaskFact:
    """The latest state of one task (see ``task_state_key`` for what "latest" means)."""

    task_id: str
    title: str
    status: str
    due_date: date
    target_quantity: Decimal
    event_id: str
    realised_quantity: Decimal | None = None
    quality: int | None = None
    submitted_on: date | None = None  # local date of the submission that was approved
    approved_on: date | None = None
    overdue: bool = False  # some event said it was past due and not approved


@dataclass(frozen=True)
class InnovationFact:
    innovation_id: str
    title: str
    approved_on: date
    event_id: str


@dataclass(frozen=True)
class Rating:
    """A BerAKHLAK rating: level per value (only rated values are present)."""

    levels: Mapping[str, str]
    rating_id: str | None = None


STATUS_RANK = {APPROVED: 3, CANCELLED: 2}


def task_state_key(status: str, event_time: datetime, event_id: str) -> tuple:
    """Total order on the states of one task; the fact kept is the maximum, so any order or
    duplication of the events gives the same fact. An approval beats everything (a later
    re-approval beats an earlier one), a cancellation beats open states, and among open states
    (assigned, in progress, submitted, returned) the latest event wins; the event id breaks ties."""
    return (STATUS_RANK.get(status, 1), event_time, event_id)


# -- results -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class LedgerEntry:
    component: str
    points: Decimal
    rule: str
    event_ids: tuple[str, ...] = ()
    date: date | None = None
    correction: bool = False  # the day behind it rests on an approved correction (lupa absen)


@dataclass(frozen=True)
class TaskScore:
    task_id: str
    title: str
    due_date: date
    status: str
    score: Decimal
    quantity: Decimal | None
    quality: Decimal | None
    timeliness: Decimal | None
    event_id: str
    reason: str


@dataclass(frozen=True)
class Score:
    period: str
    disiplin: Decimal | None
    deductions: tuple[tuple[date, DayDeduction], ...]
    produktivitas: Decimal | None
    berakhlak: Decimal | None
    perilaku: Decimal | None
    hasil_kerja: Decimal | None
    total: Decimal | None  # final only: None while hasil kerja or perilaku kerja is unrated
    predikat: str
    ledger: tuple[LedgerEntry, ...]
    tasks: tuple[TaskScore, ...] = ()
    # while one part is unrated: the rated part alone ("sementara"); None once the total is final
    total_partial: Decimal | None = None

    def values(self) -> dict[str, Decimal | str | None]:
        return {"disiplin": self.disiplin, "produktivitas": self.produktivitas, "perilaku": self.perilaku,
                "hasil_kerja": self.hasil_kerja, "total": self.total, "total_partial": self.total_partial,
                "predikat": self.predikat}

    def ledger_sum(self, component: str) -> Decimal:
        return sum((e.points for e in self.ledger if e.component == component), ZERO)


# -- components --------------------------------------------------------------------------------
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


def berakhlak_score(rating: Rating | None, policy: Policy = DEFAULT_POLICY) -> Decimal | None:
    """Mean over the rated values of below 60, meets 80, above 100; None when nothing is rated."""
    if rating is None:
        return None
    points = [policy.berakhlak_points[level] for v, level in rating.levels.items()
              if v in BERAKHLAK_VALUES and level in LEVELS]
    if not points:
        return None
    return q2(sum(points, ZERO) / len(points))


def level(value: Decimal, policy: Policy = DEFAULT_POLICY) -> str:
    if value >= policy.above_from:
        return ABOVE
    if value >= policy.meets_from:
        return MEETS
    return BELOW


def predikat(hasil_kerja: Decimal | None, perilaku: Decimal | None, policy: Policy = DEFAULT_POLICY) -> str:
    if hasil_kerja is None or perilaku is None:
        return BELUM_DINILAI
    return PREDIKAT[level(hasil_kerja, policy)][level(perilaku, policy)]


def _level_text(name: str, value: Decimal | None, policy: Policy) -> str:
    if value is None:
        return f"{name} belum dinilai"
    lvl = level(value, policy)
    bounds = {ABOVE: f"≥ {fmt(policy.above_from)}",
              MEETS: f"≥ {fmt(policy.meets_from)} dan < {fmt(policy.above_from)}",
              BELOW: f"< {fmt(policy.meets_from)}"}[lvl]
    return f"{name} {fmt(value)} {LEVEL_LABELS[lvl]} ({bounds})"


def predikat_basis(hasil_kerja: Decimal | None, perilaku: Decimal | None,
                   policy: Policy = DEFAULT_POLICY) -> dict:
    """Why the predikat is what it is: the level of each part against the cut-offs, the matrix
    cell (PermenPANRB 6/2022: hasil kerja's row, perilaku kerja's column) and the sentence saying
    so. JSON-ready (numbers as floats)."""
    hk = level(hasil_kerja, policy) if hasil_kerja is not None else None
    pk = level(perilaku, policy) if perilaku is not None else None
    result = predikat(hasil_kerja, perilaku, policy)
    parts = f"{_level_text('hasil kerja', hasil_kerja, policy)} × {_level_text('perilaku kerja', perilaku, policy)}"
    if hk and pk:
        rule = f"Predikat {result} menurut matriks PermenPANRB 6/2022: {parts}"
    else:
        rule = f"Predikat belum dinilai (matriks PermenPANRB 6/2022 butuh kedua bagian): {parts}"
    return {"hasil_kerja": None if hasil_kerja is None else float(hasil_kerja), "hasil_kerja_level": hk,
            "perilaku": None if perilaku is None else float(perilaku), "perilaku_level": pk,
            "above_from": float(policy.above_from), "meets_from": float(policy.meets_from),
            "predikat": result, "rule": rule}


def weighted_total(hasil_kerja: Decimal | None, perilaku: Decimal | None,
                   policy: Policy = DEFAULT_POLICY) -> Decimal | None:
    """60 % hasil kerja + 40 % perilaku, weighing only the rated parts (the final total when both
    are rated, a provisional one while one is not)."""
    parts = [(policy.weight_hasil_kerja, hasil_kerja), (policy.weight_perilaku, perilaku)]
    rated = [(w, v) for w, v in parts if v is not None]
    if not rated:
        return None
    return q2(sum((w * v for w, v in rated), ZERO) / sum((w for w, _ in rated), ZERO))


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
    weighted = weighted_total(hasil_kerja, perilaku, policy)
    final = hasil_kerja is not None and perilaku is not None
    basis = predikat_basis(hasil_kerja, perilaku, policy)
    # the predikat's matrix cell closes the ledger, worth no points: the reason for the word (while
    # a part is unrated there is no cell; the API's predikat_basis says which part is missing)
    why = [LedgerEntry(PREDIKAT_ENTRY, ZERO, basis["rule"])] if final else []
    return Score(
        period=period.name,
        disiplin=d_score,
        deductions=tuple(deductions),
        produktivitas=p_score,
        berakhlak=b_score,
        perilaku=perilaku,
        hasil_kerja=hasil_kerja,
        total=weighted if final else None,
        total_partial=None if final else weighted,
        predikat=predikat(hasil_kerja, perilaku, policy),
        ledger=tuple(d_ledger + p_ledger + b_ledger + why),
        tasks=tuple(task_scores),
    )


# -- BerAKHLAK side by side --------------------------------------------------------------------
@dataclass(frozen=True)
class DialogHeld:
    """A dialog kinerja recorded for the period: the values it discussed (none named: the whole
    rating) and when it was recorded."""

    dialog_id: str
    day: date
    recorded_at: datetime
    values: tuple[str, ...] = ()

    def covers(self, value: str) -> bool:
        return not self.values or value in self.values


@dataclass(frozen=True)
class ValueComparison:
    value: str
    supervisor: str | None
    self: str | None
    gap: int | None  # levels apart (0–2), None unless both rated
    dialog_needed: bool  # two levels apart and no dialog kinerja about it since the later rating
    dialog_id: str | None = None  # the dialog kinerja held about this gap, once held


def compare_ratings(supervisor: Mapping[str, str] | None, own: Mapping[str, str] | None,
                    dialogs: Iterable[DialogHeld] = (), rated_at: datetime | None = None) -> list[ValueComparison]:
    """The supervisor's and the ASN's own rating of each of the seven values, side by side. Two
    levels apart asks for a dialog kinerja; a dialog recorded at or after ``rated_at`` (the later
    of the two ratings) that discussed the value (or named none) answers it, and is named."""
    supervisor, own = supervisor or {}, own or {}
    held = sorted((d for d in dialogs if rated_at is None or d.recorded_at >= rated_at),
                  key=lambda d: (d.recorded_at, d.dialog_id), reverse=True)
    out = []
    for value in BERAKHLAK_VALUES:
        a, b = supervisor.get(value), own.get(value)
        gap = abs(LEVELS.index(a) - LEVELS.index(b)) if a in LEVELS and b in LEVELS else None
        apart = gap is not None and gap >= 2
        dialog = next((d for d in held if d.covers(value)), None) if apart else None
        out.append(ValueComparison(value, a, b, gap, apart and dialog is None, dialog.dialog_id if dialog else None))
    return out
