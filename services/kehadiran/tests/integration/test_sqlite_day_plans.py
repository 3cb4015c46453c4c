"""SQLite's day round statements stay one index probe per key whatever the queue holds and whatever
the file's statistics say (none, as a new file has; or taken while the queue was nearly empty, or
full): the sweep of a round's markers walked every marker up to the snapshot's id once (a 20,000-key
backlog in rounds of 100: ~2 million rows), and as a join of the keys to the markers it scanned the
markers once a key under statistics taken while the queue was nearly empty."""
from __future__ import annotations

import sqlite3

import pytest

from kehadiran.adapters import markers
from kehadiran.entrypoints.migrate import main as migrate

pytestmark = pytest.mark.integration


def plan(conn: sqlite3.Connection, sql: str, params) -> list[str]:
    return [row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + sql, params).fetchall()]


@pytest.mark.parametrize("markers_then", [None, 1, 20_000], ids=["never analysed", "analysed nearly empty",
                                                                    "analysed full"])
def test_the_sweep_probes_each_key_in_the_index(tmp_path, markers_then):
    path = tmp_path / "k.db"
    migrate(f"sqlite:///{path}")
    conn = sqlite3.connect(path)
    try:
        if markers_then is not None:
            conn.executemany("INSERT INTO dirty_days (nip, day) VALUES (?, '2026-12-03')",
                             [(f"{i:018d}",) for i in range(markers_then)])
            conn.execute("ANALYZE")
            conn.execute("DELETE FROM dirty_days")
            conn.commit()
        steps = plan(conn, markers._SWEEP_SQLITE, ("000000000000000001", "2026-12-03", 10))
    finally:
        conn.close()
    assert steps == ["SEARCH dirty_days USING INDEX ix_dirty_days_nip_day (nip=? AND day=? AND rowid<?)"]
