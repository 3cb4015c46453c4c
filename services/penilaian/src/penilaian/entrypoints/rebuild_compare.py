"""The rebuild's report and its comparison with the live tables: every score row (values and
ledger) and every recorded fact, so any difference between what the events give and what the live
consumer stored is named."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from kinerja.db import make_engine, make_session_factory
from kinerja.messaging.outbox import add_plumbing_tables
from penilaian.adapters.orm import (
    DialogRow,
    Employee,
    FeedbackFactRow,
    MonthTotalsRow,
    OrganisationRatingRow,
    PolicyRow,
    RatingRow,
    ScoreRow,
    SkpFactRow,
    TrainingRow,
    metadata,
)

NAMED = 1000  # malformed records named in the report; all are counted
SCORE_FIELDS = ("agency", "disiplin", "produktivitas", "berakhlak", "perilaku", "hasil_kerja", "total", "total_partial",
                "predikat")


@dataclass
class Report:
    target_url: str
    read: dict[str, int] = field(default_factory=dict)  # messages per topic
    applied: int = 0
    duplicates: int = 0
    ignored: int = 0  # types penilaian does not apply (punches, its own score updates, ...)
    invalid: list[str] = field(default_factory=list)  # malformed records named (the first NAMED), never applied
    invalid_count: int = 0  # every malformed record
    failed: list[str] = field(default_factory=list)
    folded: dict[str, int] = field(default_factory=dict)  # final fact rows written in bulk, per table
    fold_peak_rows: int = 0  # the most fact rows the fold held in memory at once (fact keys, not events)
    months_to_score: int = 0  # (ASN, month) pairs held to score at the end
    partitions: int = 0  # (topic, partition) offsets recorded in replayed_offsets
    # memory, each process's own (``adapters.process_memory``): resident when the replay began, and the peak
    start_rss_mb: float = 0.0
    peak_rss_mb: float = 0.0
    worker_start_rss_mb: float = 0.0  # the largest worker's, when kehadiran.v1 was read by several
    worker_peak_rss_mb: float = 0.0
    asn_recomputed: int = 0
    rows_compared: int = 0
    differences: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    seconds_read_apply: float = 0.0
    seconds_recompute: float = 0.0
    seconds_compare: float = 0.0

    @property
    def messages(self) -> int:
        return sum(self.read.values())

    @property
    def events_per_s(self) -> float:
        busy = self.seconds_read_apply + self.seconds_recompute
        return self.messages / busy if busy else 0.0

    def summary(self, show: int = 20) -> str:
        lines = [
            f"rebuilt into {self.target_url}",
            "read " + ", ".join(f"{t}: {n}" for t, n in self.read.items()) + f" ({self.messages} messages)",
            f"applied {self.applied}, duplicates {self.duplicates}, not for penilaian {self.ignored}, "
            f"invalid {self.invalid_count}, failed {len(self.failed)}",
            "folded into final rows: " + ", ".join(f"{t} {n}" for t, n in self.folded.items())
            + f"; offsets of {self.partitions} partitions recorded; peak memory {self.peak_rss_mb:.0f} MB"
            + (f" (largest worker {self.worker_peak_rss_mb:.0f} MB)" if self.worker_peak_rss_mb else ""),
            f"recomputed {self.asn_recomputed} ASN; read+apply {self.seconds_read_apply:.1f} s, recompute "
            f"{self.seconds_recompute:.1f} s ({self.events_per_s:.0f} messages/s), compare {self.seconds_compare:.1f} s",
            f"compared {self.rows_compared} score rows: "
            + ("no differences" if not self.differences else f"{len(self.differences)} differences"),
        ]
        lines += [f"  {d}" for d in self.differences[:show]]
        if len(self.differences) > show:
            lines.append(f"  ... and {len(self.differences) - show} more")
        lines += [f"warning: {w}" for w in self.warnings]
        lines += [f"invalid: {x}" for x in self.invalid[:show]] + [f"failed: {x}" for x in self.failed[:show]]
        return "\n".join(lines)


# -- comparing ---------------------------------------------------------------------------------
def _score_rows(session) -> dict[tuple[str, str], dict[str, Any]]:
    """Every score row with something rated (a row with nothing rated equals no row at all: the
    API computes that from the facts alike), as comparable values. The ledger is not stored (it is
    assembled from the facts, compared below, by the version ``policy_id`` names; a row scored
    before migration 0011 keeps its old ledger until recomputed, so ``detail`` is not compared)."""
    out = {}
    for r in session.execute(select(ScoreRow)).scalars():
        if all(getattr(r, f) is None for f in ("disiplin", "produktivitas", "berakhlak", "total", "total_partial")):
            continue
        out[(r.nip, r.period)] = {f: getattr(r, f) for f in (*SCORE_FIELDS, "policy_id")}
    return out


def _facts(session) -> dict[str, set]:
    return {
        "ratings": {(r.nip, r.period, r.rater, r.rating_id, json.dumps(r.levels, sort_keys=True))
                    for r in session.execute(select(RatingRow)).scalars()},
        "training": {(r.id, r.nip, r.title, r.jp, r.day.isoformat(), r.provider)
                     for r in session.execute(select(TrainingRow)).scalars()},
        "dialogs": {(r.id, r.nip, r.atasan_nip, r.period, r.day.isoformat(), r.notes, r.follow_up)
                    for r in session.execute(select(DialogRow)).scalars()},
        "policy versions": {(r.policy_id, r.agency, r.version, r.effective_from.isoformat(),
                             json.dumps(r.values, sort_keys=True))
                            for r in session.execute(select(PolicyRow)).scalars()},
        "organisation predikat": {(r.agency, r.period, r.rating_id, r.predikat)
                                  for r in session.execute(select(OrganisationRatingRow)).scalars()},
        "roster": {(r.nip, r.agency, r.unit, r.atasan_nip, r.active, r.jabatan)
                   for r in session.execute(select(Employee)).scalars()},
        "approved SKPs": {(r.nip, r.year, r.skp_id, r.revision, json.dumps(r.rhk, sort_keys=True))
                          for r in session.execute(select(SkpFactRow)).scalars()},
        "feedback": {(r.message_id, r.nip, r.author_nip, r.task_id, r.rhk_id, r.text)
                     for r in session.execute(select(FeedbackFactRow)).scalars()},
        # the sums quarters and years are folded from (a month left empty equals none)
        "month totals": {(r.nip, r.month, r.workdays, Decimal(r.deductions), Decimal(r.task_sum), r.task_count,
                          r.late_tasks, Decimal(r.penalty) if r.late_tasks else None, r.innovations)
                         for r in session.execute(select(MonthTotalsRow)).scalars()
                         if r.workdays or r.task_count or r.innovations},
    }


def compare(live_url: str, rebuilt_url: str, report: Report) -> None:
    live_engine, rebuilt_engine = make_engine(live_url), make_engine(rebuilt_url)
    try:
        with make_session_factory(live_engine)() as live, make_session_factory(rebuilt_engine)() as rebuilt:
            a, b = _score_rows(live), _score_rows(rebuilt)
            report.rows_compared = len(set(a) | set(b))
            for key in sorted(set(a) | set(b)):
                nip, period = key
                if key not in b:
                    report.differences.append(f"score {nip} {period}: in the live tables only ({a[key]['predikat']}, total {a[key]['total']})")
                elif key not in a:
                    report.differences.append(f"score {nip} {period}: in the rebuild only ({b[key]['predikat']}, total {b[key]['total']})")
                else:
                    moved = [f for f in (*SCORE_FIELDS, "policy_id") if a[key][f] != b[key][f]]
                    if moved:
                        shown = ", ".join(f"{f} {a[key][f]} → {b[key][f]}" for f in moved)
                        report.differences.append(f"score {nip} {period}: live vs rebuild: {shown}")
            fa, fb = _facts(live), _facts(rebuilt)
            for name in fa:
                only_live, only_rebuilt = fa[name] - fb[name], fb[name] - fa[name]
                for x in sorted(only_live, key=str)[:50]:
                    report.differences.append(f"{name}: in the live tables only: {x}")
                for x in sorted(only_rebuilt, key=str)[:50]:
                    report.differences.append(f"{name}: in the rebuild only: {x}")
            outbox, _ = add_plumbing_tables(metadata)
            unsent = live.execute(select(func.count()).select_from(outbox).where(outbox.c.sent_at.is_(None))).scalar_one()
            if unsent:
                report.warnings.append(f"the live outbox holds {unsent} unsent events: facts recorded by the API "
                                       "but not yet on penilaian.v1 are missing from the rebuild until the relay sends them")
    finally:
        live_engine.dispose()
        rebuilt_engine.dispose()
