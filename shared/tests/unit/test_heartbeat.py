"""The consumers' liveness file: touched at most once a second, and the health check's verdict."""
import os
import time

import pytest

from kinerja.heartbeat import Heartbeat, main

pytestmark = pytest.mark.unit


def test_a_beat_touches_the_file_at_most_once_a_second(tmp_path):
    path = tmp_path / "beat"
    hb = Heartbeat(path)
    hb.beat()
    assert path.exists()
    os.utime(path, (1, 1))
    hb.beat()  # within the interval: not touched again
    assert path.stat().st_mtime == 1
    hb._last -= 1.0
    hb.beat()
    assert time.time() - path.stat().st_mtime < 5


def test_without_a_file_nothing_is_written_and_an_unwritable_one_stops_beating_quietly(tmp_path, monkeypatch):
    monkeypatch.delenv("KINERJA_HEARTBEAT_FILE", raising=False)
    Heartbeat.from_env().beat()
    assert list(tmp_path.iterdir()) == []
    hb = Heartbeat(tmp_path / "missing-folder" / "beat")
    hb.beat()
    assert hb.path is None


def test_the_check_passes_on_a_fresh_beat_and_fails_on_a_stale_or_missing_one(tmp_path, capsys):
    path = tmp_path / "beat"
    assert main(["--file", str(path)]) == 1
    assert "no beat yet" in capsys.readouterr().err
    Heartbeat(path).beat()
    assert main(["--file", str(path), "--max-age", "30"]) == 0
    os.utime(path, (time.time() - 60, time.time() - 60))
    assert main(["--file", str(path), "--max-age", "30"]) == 1
    assert "last beat 60 s ago" in capsys.readouterr().err
