"""Every SQLite connection of ``kinerja.db.make_engine`` checkpoints its WAL itself only past
``WAL_AUTOCHECKPOINT_PAGES`` pages, the safety net behind the background checkpointer
(``kinerja.sqlite_checkpoint``; SQLite's own default, 1,000, would checkpoint in the COMMITs):
a connection's setting, so each one opened must get it."""
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
                assert c.execute(text("PRAGMA wal_autocheckpoint")).scalar_one() == 16000
                assert c.execute(text("PRAGMA journal_mode")).scalar_one() == "wal"
        assert sqlite_wal.WAL_AUTOCHECKPOINT_PAGES == 16000
    finally:
        engine.dispose()
