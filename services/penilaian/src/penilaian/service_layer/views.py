"""Read models for the API: a score as stored (or, for a period no event touched yet, as the
facts give it) and a supervisor's team."""
from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from penilaian.adapters.orm import Employee, OrganisationRatingRow, RatingRow, ScoreRow
from penilaian.adapters.view_queries import (agency_members, dialogs_of, dialogs_of_period, policy_recomputes,
                                             policy_versions, predikat_by_nip, scores_of, team_members)
from penilaian.domain.distribution import DEFAULT_CURVES, RATED, check, curves_from_json, curves_to_json, shares
from penilaian.domain.scoring import DialogHeld, compare_ratings, predikat_basis
from penilaian.domain.periods import Period, parse_period
from penilaian.adapters.fact_queries import load_facts
from penilaian.service_layer.recompute import Policies, policy_agency, rating_for, score_of
from penilaian.service_layer.score_rows import score_detail
from penilaian.service_layer.times import as_utc

VALUES = ("produktivitas", "berakhlak", "perilaku", "hasil_kerja", "total", "total_partial", "predikat")


def detail_of(session: Session, row: ScoreRow) -> dict[str, Any]:
    """The deductions, tasks and ledger that explain a stored score: assembled from the period's
    facts by the policy version its values were computed under (``row.policy_id``, which a live
    recompute and a policy's queued recompute alike write with the values); a row stored before
    migration 0011 shows the ledger it was stored with until it is next recomputed."""
    if row.detail:
        return row.detail
    return score_detail(score_of(session, row.nip, parse_period(row.period), Policies(session).by_id(row.policy_id)))


def score_view(session: Session, nip: str, period: Period) -> dict[str, Any]:
    emp = session.get(Employee, nip)
    row = session.get(ScoreRow, (nip, period.name))
    if row is not None:
        # the values as stored; their explaining ledger is assembled from the facts (rows keep none)
        values = {f: getattr(row, f) for f in VALUES}
        disiplin, detail, updated_at = row.disiplin, detail_of(session, row), row.updated_at
        policy = Policies(session).by_id(row.policy_id)
    else:
        score = score_of(session, nip, period)
        values = {f: getattr(score, f) for f in VALUES}
        disiplin, detail, updated_at = score.disiplin, score_detail(score), None
        policy = Policies(session).for_period(emp.agency if emp else None, period)
    return {
        "nip": nip,
        "nama": emp.nama if emp else None,
        "unit": emp.unit if emp else None,
        "atasan_nip": emp.atasan_nip if emp else None,
        "period": period.name,
        "disiplin": {"score": disiplin, "deductions": detail["deductions"]},
        **values,
        "predikat_basis": predikat_basis(values["hasil_kerja"], values["perilaku"], policy),
        "tasks": detail["tasks"],
        "ledger": detail["ledger"],
        "updated_at": updated_at,
    }


def history_view(session: Session, nip: str, period: Period, today) -> dict[str, Any]:
    """The month day by day: for each day up to ``today`` (or the month's end), the month's score
    counting the days and the tasks due up to it, from the facts as they stand. The chart of a
    month is drawn from it; the last day is the month's score."""
    from dataclasses import replace

    from penilaian.domain.scoring import compute_score

    last = min(period.end, today)
    days, tasks, innovations = load_facts(session, nip, period.start, period.end)
    policy = Policies(session).for_period(policy_agency(session, nip, period), period)
    rating = rating_for(session, nip, period)
    out = []
    day = period.start
    while day <= last:
        s = compute_score(replace(period, end=day), days=days, tasks=tasks, innovations=innovations,
                          rating=rating, policy=policy)
        out.append({"date": day.isoformat(), **{f: s.values()[f] for f in
                                                ("disiplin", "produktivitas", "perilaku", "hasil_kerja", "total",
                                                 "total_partial", "predikat")}})
        day = date.fromordinal(day.toordinal() + 1)
    return {"nip": nip, "period": period.name, "days": out}


def team_view(session: Session, atasan_nip: str, period: Period, *, agency: str | None = None) -> dict[str, Any]:
    """The direct team's scores; with ``agency``, only the team members of that agency."""
    members = team_members(session, atasan_nip, agency)
    rows = scores_of(session, period.name, [m.nip for m in members])
    out = []
    for m in members:
        r = rows.get(m.nip)
        out.append({"nip": m.nip, "nama": m.nama, "unit": m.unit,
                    **{f: getattr(r, f) if r else None
                       for f in ("disiplin", "produktivitas", "perilaku", "hasil_kerja", "total", "total_partial")},
                    "predikat": r.predikat if r else "Belum dinilai"})
    return {"atasan_nip": atasan_nip, "period": period.name, "members": out}


def ratings_view(session: Session, nip: str, period: Period) -> dict[str, Any]:
    sides, rows = {}, {}
    for rater in ("atasan", "self"):
        row = rows[rater] = session.get(RatingRow, (nip, period.name, rater))
        sides[rater] = None if row is None else {"levels": row.levels, "rated_by": row.rated_by,
                                                 "rated_at": row.rated_at, "rating_id": row.rating_id}
    rated = [as_utc(r.rated_at) for r in rows.values() if r is not None]
    dialogs = dialogs_of_period(session, nip, period.name)
    held = [DialogHeld(d.id, d.day, as_utc(d.recorded_at), tuple(d.values or ())) for d in dialogs]
    values = compare_ratings(sides["atasan"] and sides["atasan"]["levels"], sides["self"] and sides["self"]["levels"],
                             held, max(rated) if rated else None)
    answered = {v.dialog_id for v in values if v.dialog_id}
    by_id = {d.id: d for d in dialogs}
    return {"nip": nip, "period": period.name, "supervisor": sides["atasan"], "self": sides["self"],
            "values": [v.__dict__ for v in values], "dialog_needed": any(v.dialog_needed for v in values),
            "dialogs_held": [{"id": d.id, "date": d.day.isoformat(), "follow_up": d.follow_up,
                              "recorded_at": d.recorded_at}
                             for d in sorted((by_id[i] for i in answered), key=lambda d: (d.day, d.id))]}


def organisation_rating(session: Session, agency: str, period: Period) -> OrganisationRatingRow | None:
    """The organisation's predikat set for the period, else the one set for its year."""
    row = session.get(OrganisationRatingRow, (agency, period.name))
    if row is None and period.kind != "year":
        row = session.get(OrganisationRatingRow, (agency, str(period.start.year)))
    return row


def _spread(counts: dict[str, int], curve) -> dict[str, Any]:
    breaches = check(counts, curve)
    return {"counts": counts, "total": sum(counts.values()), "rated": sum(counts.get(p, 0) for p in RATED),
            "shares": {p: float(v) for p, v in shares(counts).items()},
            "breaches": [{"predikat": list(b.predikat), "kind": b.kind, "allowed_share": float(b.allowed),
                          "share": float(round(b.actual, 4)), "count": b.count, "limit_count": b.limit_count,
                          "description": b.describe()} for b in breaches],
            "within_curve": not breaches}


def distribution_view(session: Session, agency: str, period: Period) -> dict[str, Any]:
    """How many ASN of each unit (and of the agency) hold each predikat for the period (active ASN
    without a score count as "Belum dinilai"), their shares of the rated ASN, held against the
    spread the organisation's own predikat allows (PermenPANRB 6/2022, or the agency's policy)."""
    from kinerja.events.penilaian import PREDIKATS

    members = agency_members(session, agency)
    predikat_of = predikat_by_nip(session, agency, period.name)
    org = organisation_rating(session, agency, period)
    policy = Policies(session).for_period(agency, period)
    curve = curves_from_json(policy.distribution_curve).get(org.predikat) if org is not None else None
    empty = {p: 0 for p in PREDIKATS}
    units: dict[str, dict[str, int]] = {}
    overall = dict(empty)
    for m in members:
        p = predikat_of.get(m.nip, "Belum dinilai")
        units.setdefault(m.unit, dict(empty))[p] += 1
        overall[p] += 1
    unit_views = [{"unit": u, **_spread(c, curve)} for u, c in sorted(units.items())]
    agency_view = _spread(overall, curve)
    return {"agency": agency, "period": period.name,
            "organisation_predikat": org.predikat if org is not None else None,
            "allowed": None if curve is None else {
                "max": {p: float(s) for p, s in curve.maxima.items()},
                "min": [{"predikat": list(m.predikat), "share": float(m.share), "required": m.required}
                        for m in curve.minima]},
            "units": unit_views,
            "agency_counts": overall, "agency_shares": agency_view["shares"], "agency_breaches": agency_view["breaches"],
            "agency_within_curve": agency_view["within_curve"], "total": len(members),
            "units_breaking": [u["unit"] for u in unit_views if not u["within_curve"]]}


def dialogs_view(session: Session, nip: str, period: Period | None = None) -> dict[str, Any]:
    rows = dialogs_of(session, nip, period.name if period is not None else None)
    return {"nip": nip, "period": period.name if period else None,
            "dialogs": [{"id": r.id, "nip": r.nip, "atasan_nip": r.atasan_nip, "period": r.period,
                         "date": r.day.isoformat(), "notes": r.notes, "follow_up": r.follow_up, "values": r.values,
                         "recorded_by": r.recorded_by, "recorded_at": r.recorded_at} for r in rows]}


def policy_view(session: Session, agency: str) -> dict[str, Any]:
    """The agency's versions (each with the numbers in force, the BerAKHLAK points included, and
    how far the consumer's recompute under it has come) and the DESIGN defaults."""
    from penilaian.domain.policy import make_policy, policy_values
    from penilaian.domain.scoring import DEFAULT_POLICY

    rows = policy_versions(session, agency)
    jobs = {j.policy_id: j for j in policy_recomputes(session, agency)}

    def recompute(policy_id: str) -> dict[str, Any]:
        job = jobs.get(policy_id)
        if job is None:
            return {"status": "pending", "asn": 0, "batches": 0}
        return {"status": "done" if job.done_at is not None else "pending", "asn": job.asn, "batches": job.batches}

    return {"agency": agency, "default": {**policy_values(DEFAULT_POLICY),
                                          "distribution_curve": curves_to_json(DEFAULT_CURVES)},
            "versions": [{"policy_id": r.policy_id, "version": r.version,
                          "effective_from": r.effective_from.isoformat(), **policy_values(make_policy(r.values)),
                          "distribution_curve": r.values.get("distribution_curve"), "set_by": r.set_by,
                          "set_at": r.set_at, "recompute": recompute(r.policy_id)} for r in rows]}
