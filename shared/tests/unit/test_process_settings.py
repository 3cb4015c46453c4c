"""Numeric settings of the background processes, read when asked through ``kinerja.config``'s
parsers: the consumer loop's pace (``KINERJA_CONSUMER_POLL_GAP_MS``,
``KINERJA_CONSUMER_COMMIT_INTERVAL_MS``: clamped to their range, not refused), the pool's ping
interval (``KINERJA_DB_PING_AFTER_IDLE_S``) and a process's metrics port; text that is not a
number is refused by name."""
from __future__ import annotations

import pytest

from kinerja.db import PING_AFTER_IDLE_S, ping_after_idle_s
from kinerja.messaging.consumer.config import COMMIT_INTERVAL_MS, POLL_GAP_MS, commit_interval_s, poll_gap_s

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("name, read, default_ms, most_ms", [
    ("KINERJA_CONSUMER_POLL_GAP_MS", poll_gap_s, POLL_GAP_MS, 100.0),
    ("KINERJA_CONSUMER_COMMIT_INTERVAL_MS", commit_interval_s, COMMIT_INTERVAL_MS, 5000.0),
])
def test_milliseconds_clamped_and_text_refused(monkeypatch, name, read, default_ms, most_ms):
    monkeypatch.delenv(name, raising=False)
    assert read() == default_ms / 1000
    for raw, seconds in (("2.5", 0.0025), ("-1", 0.0), (str(most_ms * 10), most_ms / 1000)):
        monkeypatch.setenv(name, raw)
        assert read() == pytest.approx(seconds)
    monkeypatch.setenv(name, "5ms")
    with pytest.raises(ValueError, match=f"^{name}='5ms' is not a number$"):
        read()


def test_the_ping_interval(monkeypatch):
    monkeypatch.delenv("KINERJA_DB_PING_AFTER_IDLE_S", raising=False)
    assert ping_after_idle_s() == PING_AFTER_IDLE_S
    monkeypatch.setenv("KINERJA_DB_PING_AFTER_IDLE_S", "0")
    assert ping_after_idle_s() == 0  # pings on every checkout
    monkeypatch.setenv("KINERJA_DB_PING_AFTER_IDLE_S", "-1")
    with pytest.raises(ValueError, match="^KINERJA_DB_PING_AFTER_IDLE_S=-1.0 must be at least 0$"):
        ping_after_idle_s()


def test_a_process_metrics_port_its_own_first_then_the_shared_one(monkeypatch):
    from kinerja.metrics import metrics_port

    monkeypatch.delenv("TUGAS_RELAY_METRICS_PORT", raising=False)
    monkeypatch.delenv("KINERJA_METRICS_PORT", raising=False)
    assert metrics_port("tugas", "relay") == 0  # off
    monkeypatch.setenv("KINERJA_METRICS_PORT", "9100")
    assert metrics_port("tugas", "relay") == 9100
    monkeypatch.setenv("TUGAS_RELAY_METRICS_PORT", "0")  # several processes on one host: this one off
    assert metrics_port("tugas", "relay") == 0
    monkeypatch.setenv("TUGAS_RELAY_METRICS_PORT", "91OO")
    with pytest.raises(ValueError, match="^TUGAS_RELAY_METRICS_PORT='91OO' is not a whole number$"):
        metrics_port("tugas", "relay")
