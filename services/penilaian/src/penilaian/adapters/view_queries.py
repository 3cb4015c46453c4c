"""The queries behind the API's read models: a supervisor's team and its scores, an agency's
ASN and their predikat, the dialogs kinerja of an ASN, an agency's policy versions and their
recomputes, and which agency an ASN off the roster was scored in."""
from __future__ import annotations

from typing import Iterable, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from penilaian.adapters.orm import DialogRow, Employee, PolicyRecomputeRow, PolicyRow, ScoreRow


def team_members(session: Session, atasan_nip: str, agency: str | None = None) -> Sequence[Employee]:
    """The active ASN the roster puts under ``atasan_nip`` (of ``agency`` only, if given), by NIP."""
    query = select(Employee).where(Employee.atasan_nip == atasan_nip, Employee.active.is_(True))
    if agency is not None:
        query = query.where(Employee.agency == agency)
    return session.execute(query.order_by(Employee.nip)).scalars().all()


def scores_of(session: Session, period_name: str, nips: list[str]) -> dict[str, ScoreRow]:
    if not nips:
        return {}
    return {r.nip: r for r in session.execute(
        select(ScoreRow).where(ScoreRow.period == period_name, ScoreRow.nip.in_(nips))).scalars()}


def agency_members(session: Session, agency: str) -> Sequence[Employee]:
    return session.execute(
        select(Employee).where(Employee.agency == agency, Employee.active.is_(True))).scalars().all()


def predikat_by_nip(session: Session, agency: str, period_name: str) -> dict[str, str]:
    return dict(session.execute(
        select(ScoreRow.nip, ScoreRow.predikat).where(ScoreRow.period == period_name, ScoreRow.agency == agency)
    ).all())


def scored_agency(session: Session, nip: str) -> str | None:
    """The agency some score of ``nip`` was computed in (an ASN since gone from the roster)."""
    return session.execute(select(ScoreRow.agency).where(ScoreRow.nip == nip).limit(1)).scalar()


def dialogs_of_period(session: Session, nip: str, period_name: str) -> Sequence[DialogRow]:
    return session.execute(select(DialogRow).where(DialogRow.nip == nip, DialogRow.period == period_name)
                           ).scalars().all()


def dialogs_of(session: Session, nip: str, period_name: str | None = None) -> Sequence[DialogRow]:
    """The ASN's dialogs (of one period, if given) in the order they were held."""
    query = select(DialogRow).where(DialogRow.nip == nip)
    if period_name is not None:
        query = query.where(DialogRow.period == period_name)
    return session.execute(query.order_by(DialogRow.day, DialogRow.recorded_at, DialogRow.id)).scalars().all()


def policy_versions(session: Session, agency: str) -> Sequence[PolicyRow]:
    return session.execute(select(PolicyRow).where(PolicyRow.agency == agency)
                           .order_by(PolicyRow.effective_from, PolicyRow.version, PolicyRow.policy_id)).scalars().all()


def policy_recomputes(session: Session, agency: str) -> Iterable[PolicyRecomputeRow]:
    return session.execute(select(PolicyRecomputeRow).where(PolicyRecomputeRow.agency == agency)).scalars()
