"""The consumers' fetch cadence: rare fetches while idle, no latency, and a held fetch that ends
before the lag gauge's requests behind it give up."""
import pytest

from kinerja.messaging.consumer.config import FETCH_HELD_BELOW_MS, consumer_config

pytestmark = pytest.mark.unit


def test_an_idle_consumer_fetches_rarely_and_a_held_fetch_ends_before_the_lag_requests_give_up():
    config = consumer_config("127.0.0.1:9092", group_id="g")
    assert config["fetch_min_bytes"] == 1  # the broker answers as soon as a record arrives
    # idle fetches are most of an idle broker's work: at most one a second per consumer
    assert 1000 <= config["fetch_max_wait_ms"] < FETCH_HELD_BELOW_MS
