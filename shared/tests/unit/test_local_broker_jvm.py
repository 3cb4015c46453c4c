"""The local broker's JVM flags: C2 and G1 for a long-lived broker, C1 and the serial collector for
the test session's, either replaced by KINERJA_KAFKA_JVM_OPTS."""
from pathlib import Path

import pytest

from kinerja.localbroker import DEFAULT_JVM_OPTS, SHORT_LIVED_JVM_OPTS, LocalBroker

pytestmark = pytest.mark.unit


def broker(**kw) -> LocalBroker:
    return LocalBroker(home=Path("/nonexistent"), data_dir=Path("/nonexistent/data"), **kw)


def test_a_long_lived_broker_keeps_g1_and_c2_unless_told(monkeypatch):
    monkeypatch.delenv("KINERJA_KAFKA_JVM_OPTS", raising=False)
    cmd = broker()._java("kafka.Kafka", "server.properties")
    assert "-XX:+UseG1GC" in cmd and not any(a.startswith("-XX:TieredStopAtLevel") for a in cmd)
    assert cmd[-2:] == ["kafka.Kafka", "server.properties"]
    monkeypatch.setenv("KINERJA_KAFKA_JVM_OPTS", SHORT_LIVED_JVM_OPTS)
    cmd = broker()._java("kafka.Kafka")
    assert "-XX:TieredStopAtLevel=1" in cmd and "-XX:+UseSerialGC" in cmd and "-XX:+UseG1GC" not in cmd


def test_the_options_given_win_over_the_environment(monkeypatch):
    monkeypatch.setenv("KINERJA_KAFKA_JVM_OPTS", SHORT_LIVED_JVM_OPTS)
    cmd = broker(jvm_opts=DEFAULT_JVM_OPTS)._java("kafka.Kafka")
    assert "-XX:+UseG1GC" in cmd and "-XX:+UseSerialGC" not in cmd
