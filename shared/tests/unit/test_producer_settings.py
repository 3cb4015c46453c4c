"""The producer's settings and the native codecs kafka-python needs to run at full speed."""
import logging

import pytest

from kinerja.messaging import producer
from kinerja.messaging.relay import RELAY_PRODUCER

pytestmark = pytest.mark.unit


def test_the_installed_kafka_python_checksums_in_c_and_compresses():
    assert producer.native_crc32c()
    assert producer.compression_available()
    assert producer.check_native_codecs() == []


def test_a_pure_python_checksum_is_warned_about_naming_the_package(monkeypatch, caplog):
    from kafka.record import util

    monkeypatch.setattr(util, "_crc32c", util.crc32c_py)
    monkeypatch.setattr(producer, "_warned", False)
    with caplog.at_level(logging.WARNING, logger="kinerja.messaging.producer"):
        problems = producer.check_native_codecs()
    assert len(problems) == 1 and "'crc32c'" in problems[0]
    assert [r.getMessage() for r in caplog.records] == problems
    with caplog.at_level(logging.WARNING, logger="kinerja.messaging.producer"):
        producer.check_native_codecs()  # once per process
    assert len(caplog.records) == 1


def test_throughput_settings_keep_the_guarantees():
    config = producer.producer_config("127.0.0.1:9092")
    assert config["acks"] == "all" and config["enable_idempotence"] is True
    assert config["max_in_flight_requests_per_connection"] <= 5  # the most idempotence keeps in order
    assert config["batch_size"] >= 64 * 1024 and 0 < config["linger_ms"] <= 10
    assert config["compression_type"] == "lz4"
    # the relay's producer never gives a record up (an expired record could be overtaken)
    relay = producer.producer_config("127.0.0.1:9092", **RELAY_PRODUCER)
    assert relay["delivery_timeout_ms"] >= 2**31 - 1 and relay["retries"] >= 2**31 - 1


def test_the_relays_producer_sends_at_once():
    """A relay hands over a whole read of rows at once: a linger would only hold an idle system's
    lone event (5 ms at each relay on a punch's way to its score)."""
    relay = producer.producer_config("127.0.0.1:9092", **RELAY_PRODUCER)
    assert relay["linger_ms"] == 0
    assert relay["batch_size"] >= 64 * 1024  # a backlog still goes out in full batches
