"""The score updates a recompute publishes are built without ``make_event``'s validation: each is
exactly what the schema dumps, valid under it, and survives the wire as the consumers decode it,
both for a score with every part rated and for one with nothing rated yet."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from kinerja.events.envelope import data_schema, decode_event
from kinerja.events.penilaian import SCORE_UPDATED
from penilaian.adapters.orm import Employee
from penilaian.domain.periods import parse_period
from penilaian.domain.scoring import DayDeduction, DayFact, Rating, TaskFact, compute_score
from penilaian.service_layer.score_rows import VALUE_FIELDS, as_one_change, score_event

NIP, ATASAN = "199001012015011001", "198001012005011002"
LEVELS = {"akuntabel": "above", "kompeten": "meets", "harmonis": "below"}


def rated(period):
    return compute_score(
        period, days=[DayFact(date(2026, 11, 3), "d1", deductions=(DayDeduction("TL1", Decimal("0.5")),))],
        tasks=[TaskFact("t1", "Laporan", "approved", date(2026, 11, 10), Decimal("4"), "t-ev",
                        realised_quantity=Decimal("3"), quality=90, submitted_on=date(2026, 11, 12))],
        rating=Rating(LEVELS, "r1"))


@pytest.mark.parametrize("score_of", [rated, lambda period: compute_score(period)], ids=["rated", "unrated"])
def test_score_events_are_what_the_schema_dumps_and_accepts(score_of):
    schema = data_schema(SCORE_UPDATED)
    nothing = {f: None for f in VALUE_FIELDS} | {"predikat": "Belum dinilai"}
    events = [score_event(NIP, "dinkes", parse_period(name), score_of(parse_period(name)), nothing,
                          Employee(nip=NIP, atasan_nip=ATASAN), "cause-1") for name in ("2026-11", "2026-Q4", "2026")]
    events = as_one_change(events)
    for e in events:
        assert e.type == SCORE_UPDATED and e.subject == NIP
        assert schema.validate(e.data) == {}
        assert schema.dump(e.data) == e.data
        back = decode_event(e.to_bytes())
        assert (back.id, back.type, back.data) == (e.id, e.type, schema.load(e.data))
    assert len({e.id for e in events}) == 3
