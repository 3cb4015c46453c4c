"""punches' quarantine index holds the quarantined punches only (``WHERE nip IS NULL``): a punch of a
known ASN, nearly every punch, adds no entry to it (an index entry a punch less on every ingest
path). Counted as the index's pages, not timed: with an entry per punch, 2,000 punches fill a dozen
leaf pages; three quarantined ones fit in its first. Its readers (the release of a PIN, a device's
quarantine count) are held by their own tests; this one checks the release's look-up still uses it."""
from __future__ import annotations

import pytest
from sqlalchemy import text

from kehadiran.adapters.punch_store import _QUARANTINED
from kehadiran.entrypoints.migrate import main as migrate
from kinerja.db import make_engine

pytestmark = pytest.mark.integration
KNOWN = 2_000


def test_punches_of_known_asn_add_no_entry_to_the_quarantine_index(postgres_url):
    migrate(postgres_url)
    engine = make_engine(postgres_url)
    try:
        with engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO punches (id, device_sn, agency, person_key, device_time, time, nip, channel, received_at, "
                "event_id) SELECT md5(i::text)::uuid::text, 'SN1', 'a', i::text, "
                "timestamp '2026-11-02 07:00' + i * interval '1 second', now(), "
                "CASE WHEN i > :known THEN NULL ELSE '19900101' || lpad(i::text, 10, '0') END, 'adms', now(), "
                "md5('e' || i)::uuid::text FROM generate_series(1, :n) AS i"), {"known": KNOWN, "n": KNOWN + 3})
            pages = conn.execute(text(
                "SELECT pg_relation_size('ix_punches_quarantine') / current_setting('block_size')::int")).scalar()
            identity = conn.execute(text(
                "SELECT pg_relation_size('uq_punch_identity') / current_setting('block_size')::int")).scalar()
            assert identity > 4  # the punch identity's index, an entry a punch: the same rows fill pages
            assert pages == 2  # its metapage and one leaf: the three quarantined punches only
            conn.execute(text("SET LOCAL enable_seqscan = off"))
            found = conn.execute(_QUARANTINED, {"agency": "a", "pins": [str(KNOWN + 2), "1"]}).all()
            assert [r.person_key for r in found] == [str(KNOWN + 2)]
            explained = conn.execute(text(
                "EXPLAIN SELECT id FROM punches WHERE agency = 'a' AND person_key IN ('2002', '1') AND nip IS NULL"))
            plan = "\n".join(explained.scalars())
            assert "ix_punches_quarantine" in plan, plan
    finally:
        engine.dispose()


def test_the_sqlite_quarantine_index_is_partial_too(sqlite_url):
    migrate(sqlite_url)
    engine = make_engine(sqlite_url)
    try:
        with engine.connect() as conn:
            sql = conn.execute(text("SELECT sql FROM sqlite_master WHERE name = 'ix_punches_quarantine'")).scalar()
    finally:
        engine.dispose()
    assert sql.replace('"', "").endswith("(agency, person_key) WHERE nip IS NULL"), sql
