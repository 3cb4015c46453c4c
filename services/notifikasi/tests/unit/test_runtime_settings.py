"""notifikasi's own numeric settings (``NOTIFIKASI_<KEY>``, or ``<key>`` in the settings a test
passes): a typo, or a count out of its range, is refused naming the variable (``int(float(...))``
took ``2.5`` as 2 and a 0 apply batch as 1, ``float()``'s error named nothing)."""
import pytest

from kinerja.config import load_settings
from notifikasi.entrypoints.runtime import make_runtime, stream_options

pytestmark = pytest.mark.unit

NAMES = ("NOTIFIKASI_SSE_POLL_S", "NOTIFIKASI_SSE_QUEUE_SIZE", "NOTIFIKASI_APPLY_BATCH")


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    for name in NAMES:
        monkeypatch.delenv(name, raising=False)


def settings(**overrides):
    return load_settings("notifikasi", {"database_url": "sqlite://", **overrides})


def test_defaults_the_environment_and_a_tests_overrides(monkeypatch):
    assert (stream_options(settings()).poll_interval_s, stream_options(settings()).queue_size) == (2.0, 1000)
    assert make_runtime(settings()).apply_batch_size == 200
    monkeypatch.setenv("NOTIFIKASI_SSE_POLL_S", "0.5")
    monkeypatch.setenv("NOTIFIKASI_APPLY_BATCH", "50")
    assert stream_options(settings()).poll_interval_s == 0.5
    assert make_runtime(settings()).apply_batch_size == 50
    assert make_runtime(settings(apply_batch=7)).apply_batch_size == 7, "the settings' value wins"


@pytest.mark.parametrize("name, raw, message", [
    ("NOTIFIKASI_SSE_POLL_S", "2s", "NOTIFIKASI_SSE_POLL_S='2s' is not a number"),
    ("NOTIFIKASI_SSE_QUEUE_SIZE", "2.5", "NOTIFIKASI_SSE_QUEUE_SIZE='2.5' is not a whole number"),
    ("NOTIFIKASI_APPLY_BATCH", "0", "NOTIFIKASI_APPLY_BATCH=0 must be at least 1"),
])
def test_a_bad_value_is_refused_by_name(monkeypatch, name, raw, message):
    monkeypatch.setenv(name, raw)
    with pytest.raises(ValueError) as refused:
        stream_options(settings())  # the streams' settings, then the consumer's
        assert make_runtime(settings()).apply_batch_size is None, "not reached"
    assert str(refused.value) == message


def test_the_digest_hour_is_0_to_23():
    with pytest.raises(ValueError, match=r"^NOTIFIKASI_DIGEST_HOUR=24 is outside 0\.\.23$"):
        make_runtime(settings(digest_hour=24)).mailer()


def test_the_smtp_port_from_the_settings_file_is_checked_by_name(tmp_path):
    conf = tmp_path / "smtp.env"
    conf.write_text("NOTIFIKASI_SMTP_PORT=587\nNOTIFIKASI_SMTP_TIMEOUT_S=2.5\n")
    smtp = make_runtime(settings(smtp_config_file=str(conf))).smtp_config()
    assert (smtp.port, smtp.timeout_s) == (587, 2.5)
    bad = tmp_path / "bad.env"
    bad.write_text("NOTIFIKASI_SMTP_PORT=5870000\n")
    with pytest.raises(ValueError, match=r"^NOTIFIKASI_SMTP_PORT=5870000 is outside 1\.\.65535$"):
        make_runtime(settings(smtp_config_file=str(bad))).smtp_config()
