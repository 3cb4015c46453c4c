"""A batch of events (one transaction, rows read in bulk, each ASN recomputed once) leaves the same
scores as the events one transaction each; the bulk loaders give the scores the API computes from
the facts. On SQLite and PostgreSQL."""
import json
import uuid
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from kinerja.events import make_event
from kinerja.events.penilaian import POLICY_SET
from penilaian.adapters.orm import ScoreRow
from penilaian.domain.periods import parse_period
from penilaian.service_layer.scoring import apply_batch, score_detail, score_of
from penilaian.service_layer.views import detail_of
from kinerja_testkit.synthetic import generate_month
from kinerja_testkit.penilaian import AGENCY, FOREIGN, PEG1, PEG2, WIB, day_event, make_penilaian, roster_event, wire

pytestmark = pytest.mark.integration


def apply_in_batches(p, events, size: int) -> None:
    for i in range(0, len(events), size):
        with p.runtime.session() as s, s.begin():
            apply_batch(s, p.runtime.outbox, [wire(e) for e in events[i:i + size]], tz=p.runtime.settings.timezone)


def unique(events):
    seen, out = set(), []
    for e in events:
        if e.id not in seen:
            seen.add(e.id)
            out.append(e)
    return out


def test_a_month_in_batches_gives_the_scores_of_one_event_at_a_time(database_url, tmp_path):
    month = generate_month(4, agency=AGENCY, punches=False, duplicates=0)
    events = unique(e for _, e in month.events)
    one = make_penilaian(f"sqlite:///{tmp_path / 'one.db'}")
    batched = make_penilaian(database_url)
    try:
        one.apply(*events)
        apply_in_batches(batched, events, 37)
        assert batched.scores() == one.scores()
        assert len(one.scores()) > 4
        # the stored rows are what the API computes straight from the facts
        with batched.runtime.session() as s:
            for row in s.execute(select(ScoreRow)).scalars():
                score = score_of(s, row.nip, parse_period(row.period))
                assert (score.disiplin, score.produktivitas, score.total, score.predikat) == \
                    (row.disiplin, row.produktivitas, row.total, row.predikat)
                assert score.values() == {f: getattr(row, f) for f in score.values()}
                assert score.berakhlak == row.berakhlak
                # the row keeps no ledger: the API assembles it from the same facts when read
                assert row.detail == {}
                assert json.dumps(score_detail(score), sort_keys=True) == json.dumps(detail_of(s, row), sort_keys=True)
    finally:
        one.runtime.dispose()
        batched.runtime.dispose()


def policy_event(agency: str, effective_from: date, above_from: str):
    return make_event(POLICY_SET, subject=agency, agency=agency, source="test/policy",
                      data={"policy_id": str(uuid.uuid4()), "agency": agency, "version": 1,
                            "effective_from": effective_from, "weight_hasil_kerja": Decimal("0.5"),
                            "weight_perilaku": Decimal("0.5"), "above_from": Decimal(above_from),
                            "meets_from": Decimal("50"), "innovation_points": Decimal("5"),
                            "innovation_cap": Decimal("10"), "timeliness_penalty_per_day": Decimal("10"),
                            "distribution_curve": None, "set_by": PEG1,
                            "set_at": datetime(2026, 11, 1, tzinfo=WIB)})


def test_roster_moves_and_a_policy_in_one_batch_as_one_at_a_time(database_url, tmp_path):
    """Score rows follow a roster move made earlier in the same batch before a policy of the new
    agency picks the rows it recomputes; a day stated twice in a batch keeps its highest version."""
    day = date(2026, 11, 3)
    first = [day_event(PEG1, day, ("TL1", "0.5")), day_event(PEG2, day, agency=FOREIGN)]
    then = [roster_event(PEG2, "Pegawai Dua", agency=AGENCY), policy_event(AGENCY, date(2026, 11, 1), "60"),
            day_event(PEG1, day + timedelta(days=1), ("TL2", "1")),
            day_event(PEG1, day + timedelta(days=1), ("TK", "4"), version=2),
            day_event(PEG1, day + timedelta(days=1), version=1),
            roster_event(PEG1, "Pegawai Satu", agency=FOREIGN)]
    one = make_penilaian(f"sqlite:///{tmp_path / 'one.db'}")
    batched = make_penilaian(database_url)
    try:
        one.apply(*first, *then)
        apply_in_batches(batched, first, 10)
        apply_in_batches(batched, then, 10)
        assert batched.scores() == one.scores()
        found = []
        for p in (one, batched):
            with p.runtime.session() as s:
                found.append({(r.nip, r.period): r.agency for r in s.execute(select(ScoreRow)).scalars()})
        assert found[0] == found[1]
        agencies = found[1]
        assert agencies[(PEG2, "2026-11")] == AGENCY and agencies[(PEG1, "2026")] == FOREIGN
        assert batched.score(PEG1, "2026-11").disiplin == Decimal("95.50")
    finally:
        one.runtime.dispose()
        batched.runtime.dispose()


def test_an_agency_move_recomputes_the_stored_periods_and_stores_no_others(penilaian):
    """The move recomputes what is stored (a month with its quarter and year), and stores no
    period nothing touched: the year's first day is not a day of January's."""
    p = penilaian
    p.apply(roster_event(PEG1, "Pegawai Satu"), day_event(PEG1, date(2026, 11, 5), ("TL1", "0.5")))
    p.apply(roster_event(PEG1, "Pegawai Satu", agency=FOREIGN))
    with p.runtime.session() as s:
        rows = {r.period: r.agency for r in s.execute(select(ScoreRow).where(ScoreRow.nip == PEG1)).scalars()}
    assert rows == {"2026-11": FOREIGN, "2026-Q4": FOREIGN, "2026": FOREIGN}
