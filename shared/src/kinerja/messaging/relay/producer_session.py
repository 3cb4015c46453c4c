"""The relay's producer: never expires a record, and is ended at once when a send fails."""
from __future__ import annotations

from kafka import KafkaProducer
from kafka.errors import KafkaError

# the relay's producer waits for the broker as long as it takes instead of expiring records
# after 30 s: an expired record makes kafka-python reset the producer id, after which later
# records of the same partition could be appended before the expired one is sent again.
# And it does not linger: a relay hands the producer up to a batch of
# rows at once, so lingering batches nothing more, it only held an idle system's one event 5 ms
# at each of the two relays on a punch's way to its score (under load the in-flight limit lets
# the records queue into full batches while earlier requests are out)
RELAY_PRODUCER = {"delivery_timeout_ms": 2**31 - 1, "linger_ms": 0}
MARK_CHUNK = 900  # ids per UPDATE (SQLite allows 999 variables before 3.32)


class RelayFailed(KafkaError):
    """A send failed; the producer session is ended and its unmarked rows will be sent again."""


def close_producer_now(producer: KafkaProducer) -> None:
    """Close without waiting, and make sure the sender thread is gone: ``close(0)`` raises before
    it stops the sender when records are pending, which would leave it sending them later."""
    try:
        producer.close(timeout=0)
    except Exception:  # noqa: BLE001 - pending records: stop the sender below
        sender = getattr(producer, "_sender", None)
        if sender is not None:
            sender.force_close()
            sender.join(5)
        try:
            producer.close(timeout=0)
        except Exception:  # noqa: BLE001 - nothing is sending any more; that is what counts
            pass
