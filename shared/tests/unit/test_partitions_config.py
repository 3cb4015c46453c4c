"""KINERJA_PARTITIONS: read when asked (not at import), checked, and used by every place that
creates topics (topic specs, the local broker's config, ``kinerja topics create``)."""
from pathlib import Path

import pytest
from click.testing import CliRunner

from kinerja.config import DEFAULT_PARTITIONS, ConfigError, default_partitions
from kinerja.localbroker import LocalBroker
from kinerja.messaging.topics import PEGAWAI, ROSTER_MAX_PARTITIONS, topic_specs

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[3]


def counts(specs):
    return {s.name: s.partitions for s in specs}


def test_the_default_is_twelve_and_the_variable_is_read_at_call_time(monkeypatch):
    monkeypatch.delenv("KINERJA_PARTITIONS", raising=False)
    assert default_partitions() == DEFAULT_PARTITIONS == 12
    monkeypatch.setenv("KINERJA_PARTITIONS", "48")  # after every import above
    assert default_partitions() == 48
    monkeypatch.setenv("KINERJA_PARTITIONS", "")
    assert default_partitions() == 12


@pytest.mark.parametrize("bad, reason", [("0", "=0 is outside 1..10000"), ("-3", "=-3 is outside 1..10000"),
                                         ("twelve", "='twelve' is not a whole number"),
                                         ("1.5", "='1.5' is not a whole number"),
                                         ("10001", "=10001 is outside 1..10000")])
def test_a_bad_value_is_refused_with_the_reason(monkeypatch, bad, reason):
    monkeypatch.setenv("KINERJA_PARTITIONS", bad)
    with pytest.raises(ConfigError) as refused:
        default_partitions()
    assert str(refused.value) == "KINERJA_PARTITIONS" + reason


def test_topic_specs_follow_the_variable_and_the_roster_stays_small(monkeypatch):
    monkeypatch.setenv("KINERJA_PARTITIONS", "24")
    got = counts(topic_specs("disdik"))
    assert got == {"disdik.kehadiran.v1": 24, "disdik.tugas.v1": 24, "disdik.penilaian.v1": 24,
                   f"disdik.{PEGAWAI}": ROSTER_MAX_PARTITIONS,
                   **{f"disdik.{t}.dlq": 1 for t in ("kehadiran.v1", "tugas.v1", "penilaian.v1", PEGAWAI)}}
    monkeypatch.setenv("KINERJA_PARTITIONS", "3")
    assert counts(topic_specs())[PEGAWAI] == 3, "fewer than the cap: as many as the others"
    assert counts(topic_specs(partitions=5))["kehadiran.v1"] == 5, "an explicit count wins"


def test_the_local_broker_takes_the_variable_when_it_starts_not_when_made(monkeypatch, tmp_path):
    monkeypatch.delenv("KINERJA_PARTITIONS", raising=False)
    broker = LocalBroker(home=REPO / "deploy" / "kafka", data_dir=tmp_path, port=19092, controller_port=19093)
    monkeypatch.setenv("KINERJA_PARTITIONS", "36")
    assert broker.topic_partitions() == 36
    config = broker._render_config().read_text()
    assert "num.partitions=36\n" in config
    assert LocalBroker(home=broker.home, data_dir=tmp_path, partitions=7).topic_partitions() == 7


def test_topics_create_refuses_a_bad_variable_before_touching_the_broker(monkeypatch):
    from kinerja.cli.main import cli

    monkeypatch.setenv("KINERJA_PARTITIONS", "many")
    monkeypatch.setenv("KINERJA_KAFKA_BOOTSTRAP", "127.0.0.1:1")  # nothing there: must not be reached
    result = CliRunner().invoke(cli, ["topics", "create"])
    assert result.exit_code != 0 and "KINERJA_PARTITIONS='many' is not a whole number" in result.output
