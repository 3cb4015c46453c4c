"""Driving a consumer's batch path by hand: records as ``KafkaConsumer.poll`` hands them, and a
DLQ producer that only records."""
from __future__ import annotations

from types import SimpleNamespace


class RecordingProducer:
    """Stands in for a consumer's DLQ producer where a test hands records to ``process_batch``
    itself (the batch path's bookkeeping, not delivery: that is tested through the broker)."""

    def __init__(self):
        self.sent: list[tuple[str, bytes, dict]] = []

    def send(self, topic, key=None, value=None, headers=None):
        self.sent.append((topic, value, dict(headers or [])))
        return SimpleNamespace(get=lambda timeout=None: None)

    def close(self, timeout=None):
        pass


def consumer_record(event_or_raw, offset: int, topic: str, partition: int = 0, key: bytes = b"k") -> SimpleNamespace:
    """What ``KafkaConsumer.poll`` hands a consumer: an event (or raw bytes) at ``offset``."""
    raw = event_or_raw if isinstance(event_or_raw, bytes) else event_or_raw.to_bytes()
    return SimpleNamespace(topic=topic, partition=partition, offset=offset, key=key, value=raw)
