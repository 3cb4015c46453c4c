"""The consumer keeps an agency's policy versions across transactions (``recompute.Policies``), and
checks them in a statement it runs anyway (the versions' stamp with the recompute's people): a
version stored mid-stream by another process (the API's ``set_policy``, whose event reaches this
consumer only later, or never before its next poll) scores the very next transaction, as a
rebuild from the facts would. On SQLite and PostgreSQL."""
import threading
from datetime import date, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event

from kinerja.testing import consumer_record
from penilaian.adapters.orm import ScoreRow
from penilaian.domain.periods import parse_period
from penilaian.entrypoints.consumer import make_consumer
from penilaian.service_layer.commands import set_policy
from penilaian.service_layer.recompute import score_of
from kinerja_testkit.penilaian import AGENCY, day_event, make_penilaian, roster_event

pytestmark = pytest.mark.integration

NIPS = [f"1990010120200112{i:02d}" for i in range(3)]
NOV = date(2026, 11, 2)
VALUES = {"weight_hasil_kerja": Decimal("0.5"), "weight_perilaku": Decimal("0.5"), "above_from": Decimal("95"),
          "meets_from": Decimal("75"), "innovation_points": Decimal("5"), "innovation_cap": Decimal("10"),
          "timeliness_penalty_per_day": Decimal("10")}


def test_a_policy_stored_mid_stream_by_another_process_scores_the_next_transaction(database_url):
    p = make_penilaian(database_url)
    api = make_penilaian(database_url)  # another engine: the API process
    try:
        c = make_consumer(p.runtime, batch_size=100)
        stop = threading.Event()
        offsets = iter(range(10_000))
        version_reads = []
        event.listen(p.runtime.engine, "do_execute", lambda cursor, statement, parameters, context:
                     version_reads.append(statement) if "policy_versions.effective_from" in statement else None)

        def poll(events) -> None:
            assert c.process_batch([consumer_record(e, next(offsets), "t.kehadiran.v1") for e in events], stop)

        poll([roster_event(nip, f"Pegawai {i}") for i, nip in enumerate(NIPS)])
        for k in range(3):
            poll([day_event(nip, NOV + timedelta(days=k), ("TL1", "0.5")) for nip in NIPS])
        # the agency's versions were read once, then kept
        assert len(version_reads) == 1, version_reads
        with p.runtime.session() as s:
            assert {s.get(ScoreRow, (nip, "2026-11")).policy_id for nip in NIPS} == {None}

        with api.runtime.session() as s, s.begin():
            version = set_policy(s, api.runtime.outbox, agency=AGENCY, effective_from=date(2026, 11, 1),
                                 values=VALUES, set_by="admin", zone=ZoneInfo(api.runtime.settings.timezone))
            policy_id = version.policy_id

        poll([day_event(NIPS[0], NOV + timedelta(days=3), ("TL1", "0.5"))])  # the next transaction
        assert len(version_reads) == 2, version_reads  # the stamp moved: read again
        month, quarter = parse_period("2026-11"), parse_period("2026-Q4")
        with p.runtime.session() as s:
            row = s.get(ScoreRow, (NIPS[0], month.name))
            assert row.policy_id == policy_id
        with api.runtime.session() as s2:  # as a rebuild scores it: straight from the facts, by the version in force
            expected = score_of(s2, NIPS[0], month)
        with p.runtime.session() as s:
            assert (row.disiplin, row.total_partial, row.predikat) == (
                expected.disiplin, expected.total_partial, expected.predikat)
            assert s.get(ScoreRow, (NIPS[0], quarter.name)).policy_id is None  # Q4 starts before it
            assert s.get(ScoreRow, (NIPS[1], month.name)).policy_id is None  # not recomputed yet

        poll([day_event(nip, NOV + timedelta(days=4)) for nip in NIPS[1:]])
        assert len(version_reads) == 2, version_reads  # kept again under the new stamp
        with p.runtime.session() as s:
            assert {s.get(ScoreRow, (nip, month.name)).policy_id for nip in NIPS} == {policy_id}
    finally:
        p.runtime.dispose()
        api.runtime.dispose()
