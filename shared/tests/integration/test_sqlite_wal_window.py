"""Every SQLite connection of ``kinerja.db.make_engine`` checkpoints its WAL every
``WAL_AUTOCHECKPOINT_PAGES`` pages, not SQLite's 1,000 (``kinerja.sqlite_wal.configure``: fewer
page copies and fsyncs a punch): a connection's setting, so each one opened must get it."""
import pytest
from sqlalchemy import text

from kinerja import sqlite_wal
from kinerja.db import make_engine, read_only

pytestmark = pytest.mark.integration


def test_every_connection_checkpoints_at_the_wider_window(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'service.db'}")
    try:
        # two pooled connections at once, each set up (read-only: no write turn to wait for)
        with read_only(engine.connect()) as a, read_only(engine.connect()) as b:
            for c in (a, b):
                assert c.execute(text("PRAGMA wal_autocheckpoint")).scalar_one() == 4000
                assert c.execute(text("PRAGMA journal_mode")).scalar_one() == "wal"
        assert sqlite_wal.WAL_AUTOCHECKPOINT_PAGES == 4000
    finally:
        engine.dispose()
