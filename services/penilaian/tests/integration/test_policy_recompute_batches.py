"""A policy recompute's batches (``policy_recompute.affected_nips``): the agency's ASN in NIP order
after the cursor, whether filed under it (score rows), placed in it (memberships) or both, each
once, none of another agency's, on SQLite and PostgreSQL. Each side of the union is cut to the
batch before the merge (test_batch_plans holds the rows read)."""
from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from penilaian.adapters.orm import MembershipRow, ScoreRow
from penilaian.service_layer.policy_recompute import affected_nips

pytestmark = pytest.mark.integration
AT = datetime(2026, 11, 20, tzinfo=timezone.utc)


def test_batches_walk_the_agencys_asn_filed_or_placed_in_nip_order(penilaian):
    filed = {f"1990010100000000{i:02d}" for i in (1, 2, 5, 8)}  # some with both
    placed = {f"1990010100000000{i:02d}" for i in (2, 3, 4, 8, 9)}
    with penilaian.runtime.session() as s, s.begin():
        for nip in filed:
            for period in ("2026-11", "2026-Q4", "2026"):  # several rows an ASN: each NIP once still
                s.add(ScoreRow(nip=nip, period=period, agency="dinkes", predikat="Baik", detail={}, updated_at=AT))
        for nip in placed:
            for since in (date(2026, 1, 1), date(2026, 6, 1)):
                s.add(MembershipRow(nip=nip, since=since, agency="dinkes", stated_at=AT, event_id=f"e-{nip}-{since}"))
        # another agency's, between them in NIP order
        s.add(ScoreRow(nip="199001010000000006", period="2026-11", agency="disdik", predikat="Baik", detail={},
                       updated_at=AT))
        s.add(MembershipRow(nip="199001010000000007", since=date(2026, 1, 1), agency="disdik", stated_at=AT,
                            event_id="e-7"))
    batches, after = [], None
    with penilaian.runtime.session() as s:
        while True:
            batch = affected_nips(s, "dinkes", after, 2)
            batches.append(batch)
            if len(batch) < 2:
                break
            after = batch[-1]
    assert [n for b in batches for n in b] == sorted(filed | placed)
    assert all(len(b) == 2 for b in batches[:-1]) and len(batches) == 4
