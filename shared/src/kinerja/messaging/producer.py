"""The producer factory. Call it in the process that uses it (after gunicorn forks), never at import."""
from __future__ import annotations

from kafka import KafkaProducer


def make_producer(bootstrap: str, *, client_id: str = "kinerja", **overrides) -> KafkaProducer:
    config = dict(
        bootstrap_servers=bootstrap,
        client_id=client_id,
        acks="all",
        enable_idempotence=True,
        linger_ms=5,
        retries=2**31 - 1,
        max_in_flight_requests_per_connection=5,
        request_timeout_ms=15000,
        delivery_timeout_ms=30000,
        max_block_ms=10000,
        reconnect_backoff_max_ms=2000,
    )
    config.update(overrides)
    return KafkaProducer(**config)
