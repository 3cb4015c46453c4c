"""The consumers' fetch cadence: a held fetch short enough not to stall a catch-up read, long
enough that idle consumers stay cheap, no latency, and ending before the lag gauge's requests
behind it give up (the figures are in the comment of ``consumer_config``)."""
import pytest

from kinerja.messaging.consumer.config import FETCH_HELD_BELOW_MS, consumer_config

pytestmark = pytest.mark.unit


def test_a_held_fetch_neither_stalls_a_catch_up_nor_makes_idle_consumers_busy():
    config = consumer_config("127.0.0.1:9092", group_id="g")
    assert config["fetch_min_bytes"] == 1  # the broker answers as soon as a record arrives
    # near the end of a backlog kafka-python's fetch holds only caught-up partitions while the
    # others' records wait: at 1,500 ms that halved a catch-up read (43-49k vs 84-89k msg/s)
    assert config["fetch_max_wait_ms"] <= 500
    # idle fetches are most of an idle broker's work: below 250 ms their cost doubles
    assert config["fetch_max_wait_ms"] >= 250
    assert config["fetch_max_wait_ms"] < FETCH_HELD_BELOW_MS


def test_a_backlog_is_fetched_in_the_default_sizes():
    # larger fetches would hide the holds above in the ceiling's 100,000 messages (one fetch
    # would take a whole partition) but not in a longer backlog, at more memory per consumer
    config = consumer_config("127.0.0.1:9092", group_id="g")
    assert "max_partition_fetch_bytes" not in config and "fetch_max_bytes" not in config
