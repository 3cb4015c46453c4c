"""Migration 0011 on a database that already holds facts and scores (issue 13): the months scored
before it get their totals from their facts, the rows keep their values and ledgers and name the
policy version they are read by, and what is applied afterwards (quarters and years folded from
the filled months) equals a database that was live at the month grain all along. SQLite and
PostgreSQL."""
import json
from decimal import Decimal

import pytest
from sqlalchemy import inspect, insert, select

from kinerja.db import make_engine
from kinerja.migrations import upgrade
from penilaian.adapters.orm import Base, MonthTotalsRow, ScoreRow
from penilaian.domain.periods import parse_period
from penilaian.entrypoints.migrate import MIGRATIONS
from penilaian.service_layer.scoring import score_detail, score_of
from penilaian.service_layer.views import detail_of
from kinerja_testkit.penilaian import AGENCY, day_event, make_penilaian
from kinerja_testkit.synthetic import generate_month

pytestmark = pytest.mark.integration

BEFORE = "0010"


def history(n_asn: int = 5):
    """October and November of a few ASN (each month sets a policy version from its first day)."""
    events, seen = [], set()
    for month, seed in ((10, 3), (11, 4)):
        for _, e in generate_month(n_asn, month=month, agency=AGENCY, seed=seed, punches=False, duplicates=0).events:
            if e.id not in seen:
                seen.add(e.id)
                events.append(e)
    return events


def as_at_0010(live, url: str) -> None:
    """``url`` at revision 0010 holding ``live``'s facts and scores as the code of 0010 stored them
    (each score row with its ledger in ``detail``; no month totals, no policy_id)."""
    upgrade(MIGRATIONS, url, BEFORE)
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            inspector = inspect(conn)
            present = {t: {c["name"] for c in inspector.get_columns(t)} for t in inspector.get_table_names()}
        assert "month_totals" not in present and "policy_id" not in present["scores"]
        mapped = {m.local_table.name for m in Base.registry.mappers}
        with live.runtime.session() as src, engine.begin() as dst:
            for table in Base.metadata.sorted_tables:
                if table.name not in mapped or table.name not in present:
                    continue
                columns = [c for c in table.columns if c.name in present[table.name]]
                rows = [dict(r._mapping) for r in src.execute(select(*columns))]
                if table.name == "scores":
                    for r in rows:
                        r["detail"] = detail_of(src, src.get(ScoreRow, (r["nip"], r["period"])))
                if rows:
                    dst.execute(insert(table), rows)
    finally:
        engine.dispose()


def month_totals(p) -> set:
    with p.runtime.session() as s:
        return {(r.nip, r.month, r.workdays, Decimal(r.deductions), Decimal(r.task_sum), r.task_count, r.late_tasks,
                 Decimal(r.penalty), r.innovations) for r in s.execute(select(MonthTotalsRow)).scalars()}


def rows(p) -> dict:
    with p.runtime.session() as s:
        return {(r.nip, r.period): (r.agency, r.policy_id, r.berakhlak, *(getattr(r, f) for f in (
            "disiplin", "produktivitas", "perilaku", "hasil_kerja", "total", "total_partial", "predikat")))
            for r in s.execute(select(ScoreRow)).scalars()}


def test_migration_fills_the_month_totals_of_a_database_that_holds_scores(database_url, tmp_path):
    live = make_penilaian(f"sqlite:///{tmp_path / 'live.db'}")  # at the month grain from the start
    migrated = None
    try:
        events = history()
        live.apply(*events)
        live.settle()
        as_at_0010(live, database_url)

        migrated = make_penilaian(database_url)  # upgrades to head: the fill runs
        assert len(month_totals(live)) >= 2 * 5
        assert month_totals(migrated) == month_totals(live)
        assert rows(migrated) == rows(live)
        with migrated.runtime.session() as s:
            stored = s.execute(select(ScoreRow)).scalars().all()
            assert stored and all(r.detail["ledger"] is not None for r in stored)  # each keeps its ledger
            for r in stored:  # and reads back as a fresh computation from the facts
                fresh = score_of(s, r.nip, parse_period(r.period))
                assert fresh.values() == {f: getattr(r, f) for f in fresh.values()}
                assert json.dumps(detail_of(s, r), sort_keys=True) == json.dumps(score_detail(fresh), sort_keys=True)

        # what comes next folds the filled months: a day in October moves October, Q4 and the year
        nip = sorted({k[0] for k in rows(live)})[1]
        more = [day_event(nip, parse_period("2026-10").start.replace(day=7), ("TK", "4"), version=9)]
        live.apply(*more)
        migrated.apply(*more)
        assert month_totals(migrated) == month_totals(live)
        assert rows(migrated) == rows(live)
        assert migrated.scores() == live.scores()  # values and ledgers as the API shows them
        with migrated.runtime.session() as s:
            recomputed = [r for r in s.execute(select(ScoreRow).where(ScoreRow.nip == nip)).scalars()]
            assert {r.period for r in recomputed if not r.detail} >= {"2026-10", "2026-Q4", "2026"}
    finally:
        live.runtime.dispose()
        if migrated is not None:
            migrated.runtime.dispose()
