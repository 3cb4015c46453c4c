"""A score as computed: its components, the total, the predikat, and the ledger entries that
explain every point."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from penilaian.domain.decimals import ZERO
from penilaian.domain.score_facts import DayDeduction

DISIPLIN, PRODUKTIVITAS, PERILAKU = "disiplin", "produktivitas", "perilaku"
PREDIKAT_ENTRY = "predikat"  # the ledger's entry saying which matrix cell gave the predikat (0 points)


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
