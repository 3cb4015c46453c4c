"""The KafkaConsumer settings of every consumer loop."""
from __future__ import annotations


# the lag gauge's offset requests wait this long (kinerja.messaging.consumer.upkeep); a held fetch
# must end sooner
FETCH_HELD_BELOW_MS = 2000


def consumer_config(bootstrap: str, *, group_id: str | None, client_id: str = "kinerja-consumer",
                    max_poll_records: int = 500, **overrides) -> dict:
    """The KafkaConsumer settings of every consumer loop (``bench/kafka_ceiling.py`` reads with
    them too); ``overrides`` win."""
    config = dict(
        bootstrap_servers=bootstrap,
        group_id=group_id,
        client_id=client_id,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_poll_records=max_poll_records,
        session_timeout_ms=10000,
        heartbeat_interval_ms=3000,
        # how long the broker holds a fetch that finds nothing: with fetch_min_bytes 1 it answers
        # as soon as a record arrives, so the wait costs no latency; it sets how often an idle
        # consumer (and the broker) goes round. Idle fetches are most of an idle broker's work
        # (4 consumers of 24 partitions each: ~7.8 % of a core at 500 ms, ~3.3 % at 2 s, the broker
        # alone ~1.5 %). Kept under FETCH_HELD_BELOW_MS: a request to the broker behind a held
        # fetch on the same connection (the lag gauge's ListOffsets) waits for it; the price is
        # that partitions assigned by a rebalance are first fetched up to this much later
        fetch_min_bytes=1,
        fetch_max_wait_ms=1500,
        # notice new partitions (and topics created after start) within seconds, not minutes
        metadata_max_age_ms=10000,
        # as the producers: back within seconds of the broker's return (kafka-python's default
        # lets the reconnect backoff grow to 30 s, so scores stalled that long after an outage)
        reconnect_backoff_max_ms=2000,
        # kafka-python's sensors (per fetch, per record) are read by nothing here
        metrics_enabled=False,
    )
    config.update(overrides)
    return config
