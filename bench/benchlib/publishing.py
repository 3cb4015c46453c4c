"""A workload published the way the benchmarks publish it: (topic base, event) pairs sent to their
topics under a prefix, in large batches, then flushed."""
from __future__ import annotations

from typing import Iterable

from kinerja.messaging.producer import make_producer
from kinerja.messaging.topics import topic


def publish_events(events: Iterable[tuple[str, object]], bootstrap: str, prefix: str, client_id: str,
                   flush_timeout_s: float = 300) -> None:
    producer = make_producer(bootstrap, client_id=client_id, linger_ms=20, batch_size=256 * 1024)
    for base, event in events:
        producer.send(topic(base, prefix), key=event.key, value=event.to_bytes())
    producer.flush(timeout=flush_timeout_s)
    producer.close(timeout=10)
