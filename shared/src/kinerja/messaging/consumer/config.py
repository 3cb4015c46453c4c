"""The KafkaConsumer settings of every consumer loop, and its pace between polls."""
from __future__ import annotations

import os

from kinerja.config import number


# the least time between the end of a poll that returned records and the next poll, unless the
# poll was full (a backlog drains without a pause); the time the poll's records took to apply
# counts towards it (``poll_gap_s``). kafka-python sends the next fetch only from ``poll()``, and
# with ``fetch_min_bytes`` 1 the broker answers a fetch as soon as one record is there: polled
# back to back, a consumer at a trickle made a fetch, a response to parse and a transaction for
# every record or two. Pausing this long lets the records of the next few ms come in one fetch
# and one transaction; at a trickle slower than the gap it delays nothing (a poll that found
# nothing waits for the next record as before), and it is at most this long a hop when records
# come closer together
POLL_GAP_MS = 5.0

# the least time between two offset commits while records keep coming (``commit_interval_s``;
# ``KINERJA_CONSUMER_COMMIT_INTERVAL_MS``). Committed after every poll, a consumer at a trickle sent
# an OffsetCommit (a write to the broker's __consumer_offsets log) for every poll's record or two,
# as many as its fetches. Offsets done with are kept and committed together at most this often, and
# at once when a poll finds nothing (caught up), the consumer stops, or a poll was cut short. Still
# only ever after the database committed; what it costs: a crash (or a rebalance that moves a
# partition) re-delivers up to this long of records already applied, which ``processed_events``
# turns into duplicates dropped (an id look-up each), never applied twice
COMMIT_INTERVAL_MS = 250.0

# how long one ``poll()`` waits for records when none come (``IdempotentConsumer(idle_poll_ms=)``).
# A poll returns as soon as a fetch brings records, so this delays no record; it only sets how
# often an idle loop goes round. Each round of kafka-python 3's ``poll()`` hands work to its IO
# thread and waits for it (several thread wake-ups a round), so at 200 ms an idle consumer of 4
# topics x 12 partitions spent 11 ms of CPU a second (51 wake-ups); at 1,000 ms 7 ms (24),
# counted per thread on a loaded machine (two A/B pairs, /proc: 11.0 / 6.9 and 9.9 / 6.9 ms/s).
# What waits for the end of an empty poll: a stop (noticed within this), ``on_idle``, and
# ``between_polls`` work, which keeps the short wait while it reports more to do
IDLE_POLL_MS = 1000
BUSY_POLL_MS = 200  # the poll's wait while ``between_polls`` has more to do (a policy recompute)

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
        # how long the broker holds a fetch that finds nothing new (fetch_min_bytes 1: it answers as
        # soon as a record arrives). It is paid while catching up, not only while idle: kafka-python
        # keeps one fetch in flight per broker and leaves out of it the partitions whose records are
        # still buffered, so near the end of a backlog the fetch asks only for partitions already
        # read to the end and is held this long while the next records of the buffered ones wait
        # behind it (bench/kafka_ceiling.py, 100,000 messages on 6 partitions: one such hold a run,
        # of 1.51 / 0.52 / 0.14 s at 1,500 / 500 / 100 ms; quiet machine 43-49k msg/s at 1,500 ms,
        # 84-89k at 500, 81-93k at 100). Idle, it sets how often a consumer and the broker go round:
        # 4 consumers of 24 partitions, % of a core above the broker alone (2.0 %), broker +
        # consumers, two 20 s rounds on a loaded machine: 1,500 ms 2.5, 500 ms 5.5, 250 ms 6.9, 100
        # ms 14.3. A live consumer's delivery tail did not depend on it (10 msg/s plus 1,500-record
        # bursts on one key every 2 s, a poll of at most 500: p99 90 / 93 / 76 and 32 / 37 / 29 ms
        # in two rounds at 1,500 / 500 / 100 ms), since a record on any fetched partition ends the
        # hold (without one, a record on a partition left out waits up to this long). So 500 ms
        # (Kafka's default): most of the catch-up rate for ~3 % of a core more when idle. Kept under
        # FETCH_HELD_BELOW_MS: a request to the broker behind a held fetch on the same connection
        # (the lag gauge's ListOffsets) waits for it
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


def _milliseconds_s(name: str, default_ms: float, most_ms: float) -> float:
    """Environment setting ``name`` in milliseconds (empty: ``default_ms``), bounded to
    0..``most_ms``, in seconds; a value that is not a number is refused with the setting's name."""
    return min(max(number(os.environ, name, default_ms), 0.0), most_ms) / 1000.0


def poll_gap_s() -> float:
    """``KINERJA_CONSUMER_POLL_GAP_MS`` (default ``POLL_GAP_MS``; 0: poll back to back), in
    seconds, bounded to 0..100 ms: a longer gap would only add latency."""
    return _milliseconds_s("KINERJA_CONSUMER_POLL_GAP_MS", POLL_GAP_MS, 100.0)


def commit_interval_s() -> float:
    """``KINERJA_CONSUMER_COMMIT_INTERVAL_MS`` (default ``COMMIT_INTERVAL_MS``; 0: commit after
    every poll), in seconds, bounded to 0..5,000 ms: longer only re-delivers more after a crash."""
    return _milliseconds_s("KINERJA_CONSUMER_COMMIT_INTERVAL_MS", COMMIT_INTERVAL_MS, 5000.0)
