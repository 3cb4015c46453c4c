"""notifikasi's gunicorn config (``notifikasi.entrypoints.gunicorn_conf``) reads its numbers when
gunicorn executes it, and a bad one stops gunicorn's start naming it (was a bare ``int()`` error)."""
import runpy

import pytest

pytestmark = pytest.mark.unit

CONF = "notifikasi.entrypoints.gunicorn_conf"
NAMES = ("NOTIFIKASI_PORT", "NOTIFIKASI_BIND", "NOTIFIKASI_WORKERS", "NOTIFIKASI_THREADS", "NOTIFIKASI_GRACEFUL_TIMEOUT")


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    for name in NAMES:
        monkeypatch.delenv(name, raising=False)


def test_the_defaults_and_the_settings(monkeypatch):
    conf = runpy.run_module(CONF)
    assert (conf["bind"], conf["workers"], conf["threads"], conf["graceful_timeout"]) == ("127.0.0.1:8004", 2, 1000, 5)
    monkeypatch.setenv("NOTIFIKASI_PORT", "9004")
    monkeypatch.setenv("NOTIFIKASI_THREADS", "50")
    conf = runpy.run_module(CONF)
    assert (conf["bind"], conf["threads"], conf["worker_connections"]) == ("127.0.0.1:9004", 50, 114)


@pytest.mark.parametrize("name, raw, message", [
    ("NOTIFIKASI_WORKERS", "two", "NOTIFIKASI_WORKERS='two' is not a whole number"),
    ("NOTIFIKASI_THREADS", "0", "NOTIFIKASI_THREADS=0 is outside 1..10000"),
    ("NOTIFIKASI_PORT", "80040", "NOTIFIKASI_PORT=80040 is outside 1..65535"),
    ("NOTIFIKASI_GRACEFUL_TIMEOUT", "-1", "NOTIFIKASI_GRACEFUL_TIMEOUT=-1 must be at least 0"),
])
def test_a_bad_value_is_refused_by_name(monkeypatch, name, raw, message):
    monkeypatch.setenv(name, raw)
    with pytest.raises(ValueError) as refused:
        runpy.run_module(CONF)
    assert str(refused.value) == message
