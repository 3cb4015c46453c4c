"""The KafkaConsumer settings of every consumer loop."""
from __future__ import annotations


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
        # as soon as a record arrives, so the wait costs no latency; it only sets how often an
        # idle consumer (and the broker) goes round: 2 fetches a second, not 10
        fetch_min_bytes=1,
        fetch_max_wait_ms=500,
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
