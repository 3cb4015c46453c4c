"""``KINERJA_NOTIFY_AFTER_COMMIT`` is checked when a kehadiran process starts (its app, like its
worker, relay and consumer, loads its settings first), not on its first punch request: that used
to be where a misspelt value showed, as a 500. Valid values are auto, on and off in any case;
unset or empty is auto."""
from __future__ import annotations

import pytest

from kehadiran.entrypoints.app import create_app
from kehadiran.entrypoints.runtime import make_runtime
from kinerja.after_commit_notify import MODE_ENV
from kinerja.config import ConfigError, notify_after_commit_mode
from kinerja.webapp import runtime_of

pytestmark = pytest.mark.unit

SQLITE = {"database_url": "sqlite://", "kafka_bootstrap": "127.0.0.1:1"}
NAMED = r"KINERJA_NOTIFY_AFTER_COMMIT must be one of auto, on, off \(any case\), not 'onn'"


def test_a_bad_value_stops_the_app_and_the_other_processes_at_start(monkeypatch):
    monkeypatch.setenv(MODE_ENV, "onn")
    with pytest.raises(ConfigError, match=NAMED):
        create_app(SQLITE)
    with pytest.raises(ConfigError, match=NAMED):
        make_runtime()  # what the worker, relay and consumer entrypoints start with


@pytest.mark.parametrize("value, mode", [("auto", "auto"), ("ON", "on"), (" Off ", "off"), ("", "auto"), (None, "auto")])
def test_valid_values_start_in_any_case(monkeypatch, value, mode):
    if value is None:
        monkeypatch.delenv(MODE_ENV, raising=False)
    else:
        monkeypatch.setenv(MODE_ENV, value)
    app = create_app(SQLITE)
    try:
        assert notify_after_commit_mode() == mode
    finally:
        runtime_of(app).dispose()
