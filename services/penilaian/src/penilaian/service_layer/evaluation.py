"""The evaluation document's content for one ASN and one period, from penilaian's own facts:
the roster (ASN and appraiser), the approved SKP (RHK, indicators, targets, from
``tugas.skp.approved.v1``), the tasks due in the period (realisation), the appraiser's feedback
(``tugas.feedback.posted.v1``), the score, the supervisor's BerAKHLAK rating of the period, the
dialogs held and the organisation's predikat. Nothing is read from another service."""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from penilaian.adapters.evaluation_queries import dialogs_held, feedback_on, tasks_due
from penilaian.adapters.orm import Employee, FeedbackFactRow, RatingRow, SkpFactRow
from penilaian.domain import evaluation as doc
from penilaian.domain.periods import Period
from penilaian.domain.scoring import BERAKHLAK_VALUES, level
from penilaian.service_layer.recompute import Policies
from penilaian.service_layer.times import as_utc
from penilaian.service_layer.views import organisation_rating, score_view

FEEDBACK_PER_RHK = 3


def _person(emp: Employee | None, nip: str | None) -> dict[str, str] | None:
    if nip is None:
        return None
    return {"nama": emp.nama if emp else "-", "nip": nip, "jabatan": (emp.jabatan if emp else "") or "-",
            "unit": emp.unit if emp else "-", "agency": emp.agency if emp else "-"}


def document_view(session: Session, nip: str, period: Period, today: date, zone) -> dict[str, Any]:
    emp = session.get(Employee, nip)
    atasan_nip = emp.atasan_nip if emp else None
    boss = session.get(Employee, atasan_nip) if atasan_nip else None
    score = score_view(session, nip, period)
    agency = emp.agency if emp else None
    policy = Policies(session).for_period(agency, period)
    skp = session.get(SkpFactRow, (nip, period.start.year))
    tasks = tasks_due(session, nip, period.start, period.end)
    outcomes = [doc.TaskOutcome(t.rhk_id, t.status, Decimal(t.target_quantity),
                                Decimal(t.realised_quantity) if t.realised_quantity is not None else None,
                                t.quality, t.due_date, t.submitted_on,
                                t.last_open_on is not None and t.last_open_on > t.due_date) for t in tasks]
    rhk_of_task = {t.task_id: t.rhk_id for t in tasks}
    feedback: dict[str | None, list[FeedbackFactRow]] = {}
    for f in feedback_on(session, nip):
        day = as_utc(f.posted_at).astimezone(zone).date()
        if not period.start <= day <= period.end or f.author_nip == nip:
            continue  # the appraiser's feedback of the period, not the ASN's replies
        rhk_id = f.rhk_id or rhk_of_task.get(f.task_id)
        feedback.setdefault(rhk_id, []).append(f)
    rhk_rows = []
    for r in (skp.rhk if skp else []):
        rhk_rows.append({
            "kind": doc.KIND_TEXT.get(r["kind"], r["kind"]), "text": r["text"],
            "indicators": [{"indicator": i["indicator"], "target": doc.target_text(i)} for i in r.get("indicators") or []],
            "realisation": doc.realisation_text(o for o in outcomes if o.rhk_id == r["id"]),
            "feedback": [f.text for f in feedback.get(r["id"], [])][-FEEDBACK_PER_RHK:],
        })
    known = {r["id"] for r in (skp.rhk if skp else [])}
    loose = [o for o in outcomes if o.rhk_id not in known]
    if loose:
        rhk_rows.append({"kind": "Lain-lain", "text": "Tugas di luar RHK SKP", "indicators": [],
                         "realisation": doc.realisation_text(loose),
                         "feedback": [f.text for f in feedback.get(None, [])][-FEEDBACK_PER_RHK:]})
    rating = session.get(RatingRow, (nip, period.name, "atasan"))
    levels = rating.levels if rating else {}
    dialogs = dialogs_held(session, nip, period.start, period.end)
    org = organisation_rating(session, agency, period) if agency else None

    def part(value) -> dict[str, Any]:
        return {"score": value, "level": doc.level_text(level(Decimal(str(value)), policy) if value is not None else None)}

    return {
        "period": period.name, "period_text": doc.period_text(period),
        "asn": _person(emp, nip), "appraiser": _person(boss, atasan_nip),
        "organisation_predikat": org.predikat if org else None,
        "skp": {"revision": skp.revision, "approved_on": doc.date_text(as_utc(skp.approved_at).astimezone(zone).date())
                if skp and skp.approved_at else None} if skp else None,
        "rhk": rhk_rows,
        "hasil_kerja": part(score["hasil_kerja"]),
        "perilaku": {**part(score["perilaku"]), "disiplin": score["disiplin"]["score"], "berakhlak": score["berakhlak"]},
        "behaviour": [{"value": v, "label": doc.BERAKHLAK_TEXT[v][0], "description": doc.BERAKHLAK_TEXT[v][1],
                       "level": doc.level_text(levels.get(v))} for v in BERAKHLAK_VALUES],
        "dialogs": [{"date": doc.date_text(d.day), "notes": d.notes, "follow_up": d.follow_up} for d in dialogs],
        "total": score["total"], "total_partial": score["total_partial"], "predikat": score["predikat"],
        "signed_on": doc.date_text(min(today, period.end)),
    }
