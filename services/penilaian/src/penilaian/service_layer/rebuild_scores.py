"""A rebuild's scores, computed once at the end into an empty database: per chunk of ASN their
touched months' facts read with one query per table, each month summed once (``totals_of``), its
quarter and year folded from those sums, and the month totals and score rows inserted in bulk
(COPY on PostgreSQL, one executemany on SQLite). The live path (``recompute.recompute_many``)
compares each row with the stored one, updates ORM objects and builds the score updates it may
publish; a rebuild publishes nothing and finds no row stored, so it does none of that. The rules
are the live ones (``domain.month_totals``, the same policy version per period, the same agency),
and ``rebuild_compare`` holds the result to the live tables.

Memory: one chunk's facts, sums and rows at a time.
"""
from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from penilaian.adapters.bulk_facts import bulk_insert
from penilaian.adapters.fact_queries import load_spans
from penilaian.adapters.orm import Employee, MonthTotalsRow, RatingRow, ScoreRow
from penilaian.domain import membership
from penilaian.domain.month_totals import MonthTotals, score_of_totals, totals_of
from penilaian.domain.periods import Period, periods_containing
from penilaian.domain.policy import PolicyVersion
from penilaian.domain.scoring import DEFAULT_POLICY, Policy, Rating
from penilaian.service_layer import memberships, month_rows
from penilaian.service_layer.recompute import Policies, fold_months
from penilaian.service_layer.times import utcnow

CHUNK = 500  # ASN whose facts are read with one query per table


def score_all(session: Session, months_by_nip: dict[str, set[date]], agency_of: dict[str, str], *,
              policies: Policies | None = None, chunk: int = CHUNK) -> int:
    """Score every ASN of ``months_by_nip`` (NIP → any day of each month to score; their quarters
    and years follow) into tables that hold none of their rows yet. ``agency_of``: the agency to
    file an ASN under when the roster does not know them (the live path's ``Touched.agency``).
    Returns the score rows written."""
    policies = policies or Policies(session)
    nips = sorted(n for n, days in months_by_nip.items() if days)
    written = 0
    for i in range(0, len(nips), chunk):
        written += _score_chunk(session, nips[i:i + chunk], months_by_nip, agency_of, policies)
    return written


def _score_chunk(session: Session, chunk: list[str], months_by_nip: dict[str, set[date]],
                 agency_of: dict[str, str], policies: Policies) -> int:
    return insert_rows(session, *rows_of(session, chunk, months_by_nip, agency_of, policies))


def insert_rows(session: Session, totals_rows: list[dict], score_rows: list[dict]) -> int:
    """Insert what ``rows_of`` gave; returns the score rows written."""
    bulk_insert(session, MonthTotalsRow.__table__, totals_rows)
    return bulk_insert(session, ScoreRow.__table__, score_rows)


_ENGINES: dict = {}


def rows_in(url: str, months_by_nip: dict[str, set[date]], agency_of: dict[str, str]) -> tuple[list, list, float]:
    """In a worker process: ``rows_of`` every ASN of ``months_by_nip`` from the database at
    ``url`` (read only: the parent inserts the rows), its facts, roster, ratings and policies
    written and committed already, and this process's own peak memory so far. The engine is
    kept for the process's next share."""
    from kinerja.db import make_engine, make_session_factory, read_only_session
    from penilaian.adapters.process_memory import own_peak_rss_mb

    made = _ENGINES.get(url)
    if made is None:
        made = _ENGINES[url] = make_session_factory(make_engine(url, pool_size=1))
    nips = sorted(n for n, days in months_by_nip.items() if days)
    totals_rows: list[dict] = []
    score_rows: list[dict] = []
    with read_only_session(made) as s:
        policies = Policies(s)
        for i in range(0, len(nips), CHUNK):
            t, r = rows_of(s, nips[i:i + CHUNK], months_by_nip, agency_of, policies)
            totals_rows += t
            score_rows += r
    return totals_rows, score_rows, own_peak_rss_mb()


def rows_of(session: Session, chunk: list[str], months_by_nip: dict[str, set[date]],
            agency_of: dict[str, str], policies: Policies) -> tuple[list[dict], list[dict]]:
    """The month totals and score rows of the ASN of ``chunk``."""
    months = {nip: sorted({periods_containing(day)[0] for day in months_by_nip[nip]}) for nip in chunk}
    facts = load_spans(session, [(nip, m.start, m.end) for nip, ms in months.items() for m in ms])
    roster = dict(session.execute(select(Employee.nip, Employee.agency).where(Employee.nip.in_(chunk))).all())
    stated = memberships.statements_of(session, chunk)
    ratings = {(r.nip, r.period): Rating(r.levels, r.rating_id) for r in session.execute(
        select(RatingRow.nip, RatingRow.period, RatingRow.levels, RatingRow.rating_id).where(
            RatingRow.nip.in_(chunk), RatingRow.rater == "atasan"))}
    now = utcnow()
    totals_rows: list[dict] = []
    score_rows: list[dict] = []
    for nip in chunk:
        agency = roster[nip] if nip in roster else agency_of[nip]
        mine = stated.get(nip, ())

        def version_for(period: Period) -> PolicyVersion | None:
            # the version of the agency the ASN belonged to on the period's first day
            return policies.version_for(membership.agency_at(mine, period.start) or agency, period)

        sums: dict[str, MonthTotals] = {}
        wanted: set[Period] = set()
        for m in months[nip]:
            days_f, tasks_f, innovations_f = facts[(nip, m.start, m.end)]
            t = sums[m.name] = totals_of(m, days=days_f, tasks=tasks_f, innovations=innovations_f,
                                         policy=_policy(version_for(m)))
            totals_rows.append({"nip": nip, "month": m.name, **month_rows.values_of(t)})
            wanted.update(periods_containing(m.start))
        for period in sorted(wanted):
            version = version_for(period)
            policy = _policy(version)
            score = score_of_totals(period, _fold(session, nip, period, sums, policy),
                                    ratings.get((nip, period.name)), policy)
            score_rows.append({
                "nip": nip, "period": period.name, "agency": agency, "disiplin": score.disiplin,
                "produktivitas": score.produktivitas, "berakhlak": score.berakhlak, "perilaku": score.perilaku,
                "hasil_kerja": score.hasil_kerja, "total": score.total, "total_partial": score.total_partial,
                "predikat": score.predikat, "detail": {},
                "policy_id": version.policy_id if version is not None else None, "updated_at": now})
    return totals_rows, score_rows


def _policy(version: PolicyVersion | None) -> Policy:
    return version.policy if version is not None else DEFAULT_POLICY


def _fold(session: Session, nip: str, period: Period, sums: dict[str, MonthTotals], policy: Policy) -> MonthTotals:
    """The period's totals: the sum of its months, folded as the live recompute folds them."""
    return fold_months(session, nip, period, policy, sums.get)
