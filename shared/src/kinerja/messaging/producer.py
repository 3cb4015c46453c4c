"""The producer factory. Call it in the process that uses it (after gunicorn forks), never at import.

Settings for throughput with the same guarantees: idempotent with ``acks=all`` (kafka-python 3's
default, stated here so nobody turns it off), at most 5 requests in flight per connection (the
most idempotence keeps in order), batches of up to 128 KiB (the default 16 KiB holds ~35 of our
~450-byte events, so a backlog went out in many small requests), linger 5 ms, and the record
batches compressed with lz4. ``bench/compression_cost.py`` measured our envelopes (bytes, and
CPU instructions with callgrind, so a busy machine does not matter): in batches of 10 / 100
records lz4 makes them 0.34 / 0.24 of their size for +7k / +4k instructions per record built
and +2k read; zstd 0.23 / 0.14 for +25k / +12k built and +9k / +3k read (kafka-python starts a
zstd context per batch). A record costs the producer roughly 190k instructions from ``send()``
to its acknowledgement, so lz4 takes three quarters of the bytes off the wire and off the
broker's disks (the event topics keep everything) for 2-4 % of the producer's CPU; zstd would
take 6-13 % to shrink them from a quarter to a sixth or so. A cluster can still store its topics
with zstd, at the brokers' cost (topic ``compression.type``).

Each key's partition is the default partitioner's, with the key's murmur2 hash computed once per
process (:class:`~kinerja.messaging.key_partitioner.KeyHashPartitioner`): hashing it in pure Python
on every ``send()`` took ~9 of its ~45 µs, and with it gone the producer process's CPU per record
(both threads) fell by about a third in an interleaved send-all-then-flush A/B. A longer linger (20 ms)
did not lower the producer's CPU per record in an interleaved A/B of send-all-then-flush (it
takes about a fifth off the broker's, which is not the limit), so 5 ms stays: a lone record waits less.
The partition chosen for a key is remembered as well until the metadata changes (~3 µs of a send at
24 partitions; send-all-then-flush of 50,000 records, 6 partitions, interleaved on a loaded machine:
the producer process 27.5 → 25.0 µs a record).

What else a record costs depends on the process around the producer: kafka-python allocates a few
objects a ``send()`` (its future among them), so Python's collector runs every few hundred sends,
and its older collections walk everything the process holds. Interleaved on one producer, 100,000
more objects kept alive took the producer from 23.9 to 28.7 µs a record (the collector's wall time
1.8 → 9.7 µs), and ``gc.freeze()`` before a run (what penilaian's consumer does after start-up)
took 2-3 µs off a record (the collector's wall time ~7 → ~1.3 µs). That is the producer's
process's choice to make (its entrypoint), not this factory's.

kafka-python checksums every record batch it builds or reads with CRC-32C; without the ``crc32c``
package it does so in pure Python (~35 µs per 400-byte record), which alone capped a producer
at ~5,600 msgs/s. :func:`check_native_codecs` logs a warning naming the package when that is so.
"""
from __future__ import annotations

import logging

from kafka import KafkaProducer

from kinerja.messaging import request_counts
from kinerja.messaging.key_partitioner import KeyHashPartitioner

log = logging.getLogger(__name__)

COMPRESSION = "lz4"
_warned = False


def native_crc32c() -> bool:
    """True when kafka-python checksums record batches with the ``crc32c`` C extension."""
    from kafka.record import util

    return util.crc32c_c is not None and util._crc32c is util.crc32c_c


def compression_available(codec: str = COMPRESSION) -> bool:
    from kafka import codec as codecs

    return {"zstd": codecs.has_zstd, "lz4": codecs.has_lz4, "gzip": codecs.has_gzip,
            "snappy": codecs.has_snappy}.get(codec, lambda: False)()


def check_native_codecs() -> list[str]:
    """Warn (once per process) about each missing native library kafka-python would use, naming
    the package to install; returns the warnings. Messages still flow without them, only slower
    (``crc32c``) or larger (the compression library)."""
    global _warned
    problems = []
    if not native_crc32c():
        problems.append("kafka-python is checksumming record batches in pure Python (~35 µs per record): "
                        "install the 'crc32c' package (pip install crc32c)")
    if not compression_available():
        problems.append(f"the '{COMPRESSION}' compression library is missing, so batches are sent uncompressed: "
                        "install the 'lz4' package (pip install lz4)")
    if problems and not _warned:
        for p in problems:
            log.warning(p)
    _warned = True
    return problems


def producer_config(bootstrap: str, *, client_id: str = "kinerja", **overrides) -> dict:
    """The settings every producer of the system uses (``bench/kafka_ceiling.py`` measures with
    exactly these); ``overrides`` win."""
    config = dict(
        bootstrap_servers=bootstrap,
        client_id=client_id,
        acks="all",
        enable_idempotence=True,
        linger_ms=5,
        batch_size=128 * 1024,
        compression_type=COMPRESSION if compression_available() else None,
        retries=2**31 - 1,
        max_in_flight_requests_per_connection=5,
        request_timeout_ms=15000,
        delivery_timeout_ms=30000,
        max_block_ms=10000,
        reconnect_backoff_max_ms=2000,
        # kafka-python's own sensors (rates, averages per request and per record) are read by
        # nothing here and cost ~15 % of a relay's sender thread at a low rate
        metrics_enabled=False,
        # the default partitioner's choice, without hashing a key again in pure Python on every send
        partitioner=KeyHashPartitioner(),
    )
    config.update(overrides)
    return config


def make_producer(bootstrap: str, *, client_id: str = "kinerja", **overrides) -> KafkaProducer:
    check_native_codecs()
    request_counts.install_from_env()  # bench/trickle_counts.py only: KINERJA_KAFKA_COUNT_DIR
    return KafkaProducer(**producer_config(bootstrap, client_id=client_id, **overrides))
