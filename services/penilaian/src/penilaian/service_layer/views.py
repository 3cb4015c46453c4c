"""Read models for the API: a score as stored (or, for a period no event touched yet, as the
facts give it) and a supervisor's team."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from penilaian.adapters.orm import Employee, RatingRow, ScoreRow
from penilaian.domain.scoring import compare_ratings
from penilaian.domain.periods import Period
from penilaian.service_layer.scoring import score_detail, score_of

VALUES = ("produktivitas", "berakhlak", "perilaku", "hasil_kerja", "total", "predikat")


def score_view(session: Session, nip: str, period: Period) -> dict[str, Any]:
    emp = session.get(Employee, nip)
    row = session.get(ScoreRow, (nip, period.name))
    if row is not None:
        values = {f: getattr(row, f) for f in VALUES}
        disiplin, detail, updated_at = row.disiplin, row.detail, row.updated_at
    else:
        score = score_of(session, nip, period)
        values = {f: getattr(score, f) for f in VALUES}
        disiplin, detail, updated_at = score.disiplin, score_detail(score), None
    return {
        "nip": nip,
        "nama": emp.nama if emp else None,
        "unit": emp.unit if emp else None,
        "atasan_nip": emp.atasan_nip if emp else None,
        "period": period.name,
        "disiplin": {"score": disiplin, "deductions": detail["deductions"]},
        **values,
        "tasks": detail["tasks"],
        "ledger": detail["ledger"],
        "updated_at": updated_at,
    }


def team_view(session: Session, atasan_nip: str, period: Period) -> dict[str, Any]:
    members = session.execute(
        select(Employee).where(Employee.atasan_nip == atasan_nip, Employee.active.is_(True)).order_by(Employee.nip)
    ).scalars().all()
    rows = {r.nip: r for r in session.execute(
        select(ScoreRow).where(ScoreRow.period == period.name, ScoreRow.nip.in_([m.nip for m in members]))
    ).scalars()} if members else {}
    out = []
    for m in members:
        r = rows.get(m.nip)
        out.append({"nip": m.nip, "nama": m.nama, "unit": m.unit,
                    **{f: getattr(r, f) if r else None
                       for f in ("disiplin", "produktivitas", "perilaku", "hasil_kerja", "total")},
                    "predikat": r.predikat if r else "Belum dinilai"})
    return {"atasan_nip": atasan_nip, "period": period.name, "members": out}


def ratings_view(session: Session, nip: str, period: Period) -> dict[str, Any]:
    sides = {}
    for rater in ("atasan", "self"):
        row = session.get(RatingRow, (nip, period.name, rater))
        sides[rater] = None if row is None else {"levels": row.levels, "rated_by": row.rated_by,
                                                 "rated_at": row.rated_at, "rating_id": row.rating_id}
    values = compare_ratings(sides["atasan"] and sides["atasan"]["levels"], sides["self"] and sides["self"]["levels"])
    return {"nip": nip, "period": period.name, "supervisor": sides["atasan"], "self": sides["self"],
            "values": [v.__dict__ for v in values], "dialog_needed": any(v.dialog_needed for v in values)}


def distribution_view(session: Session, agency: str, period: Period) -> dict[str, Any]:
    """How many ASN of each unit (and of the agency) hold each predikat for the period; active ASN
    without a score count as "Belum dinilai"."""
    from kinerja.events.penilaian import PREDIKATS

    members = session.execute(
        select(Employee).where(Employee.agency == agency, Employee.active.is_(True))
    ).scalars().all()
    predikat_of = dict(session.execute(
        select(ScoreRow.nip, ScoreRow.predikat).where(ScoreRow.period == period.name, ScoreRow.agency == agency)
    ).all())
    empty = {p: 0 for p in PREDIKATS}
    units: dict[str, dict[str, int]] = {}
    overall = dict(empty)
    for m in members:
        p = predikat_of.get(m.nip, "Belum dinilai")
        units.setdefault(m.unit, dict(empty))[p] += 1
        overall[p] += 1
    return {"agency": agency, "period": period.name,
            "units": [{"unit": u, "counts": c, "total": sum(c.values())} for u, c in sorted(units.items())],
            "agency_counts": overall, "total": len(members)}
