"""The consumer loop every service runs.

For each message: decode it (undecodable or invalid → ``<topic>.dlq`` with the reason in the
headers), then apply it and record its id in ``processed_events`` in one database transaction.
Offsets are committed to Kafka only after those transactions commit, so a crash re-delivers, and
the recorded id turns the re-delivery into a no-op. A database error stops the partition and
retries the same message with backoff; it is never skipped.

Batches (``batch_size`` > 1): the messages of one poll (at most ``batch_size``) are decoded (the
invalid ones dead-lettered as above), the ids already recorded dropped with one ``IN (...)``
query, and the rest applied and recorded in ONE transaction (``apply_batch(session, events)``,
or ``handle`` for each in turn when none is given); offsets are committed after it. With a
``transaction_shape`` (``kinerja.messaging.consumer.transactions``) the poll goes in several
transactions instead, cut by record key (each key's messages together and in order; small ones
first when the consumer is caught up, big ones when it is behind), and the offsets are committed
after the last of them. Any error in a transaction rolls it back and the same events go through the message-by-message path
above (retries, duplicates, DLQ), so a batch never loses or double-counts anything; it only
saves the per-message transaction when all is well.

Overlapped (``overlap=True``, batches only; penilaian's live consumer): a poll's transactions run on a
thread of their own while the loop polls and decodes the next poll; one poll in flight at a time,
its offsets still committed only after its transactions (``kinerja.messaging.consumer.overlap``).

Bounded: every ``trim_interval_s`` the loop deletes ``processed_events`` records older than
``processed_retention_s`` (7 days; why that is long enough: ``kinerja.messaging.outbox``), a
bounded amount at a time.

Offsets in fewer requests: while polls keep returning records, the offsets done with are committed
together at most every ``commit_interval_s`` (``KINERJA_CONSUMER_COMMIT_INTERVAL_MS``, 250 ms), and
at once when a poll finds nothing, a poll is cut short or the loop stops; still only after the
database committed. A crash or a rebalance re-delivers at most that long of records, which the
recorded ids turn into duplicates dropped (``kinerja.messaging.consumer.config``).

Paced: after a poll that returned records but fewer than it may (not a backlog), the next poll
waits until ``poll_gap_s`` (``KINERJA_CONSUMER_POLL_GAP_MS``, 5 ms) after it returned, the time
its records took counted in. kafka-python fetches only from ``poll()``, so the records of those
ms arrive in one fetch and go in one transaction instead of one fetch round and one transaction
each (``kinerja.messaging.consumer.config``). A full poll is read on at once.

``between_polls`` (optional): work of the service's own that the loop does after each poll, once
its offsets are committed (or it found nothing): small bounded steps, e.g. penilaian's batches of a
policy recompute. It must not raise; a truthy return says more is waiting, so the next poll waits
for records ``BUSY_POLL_MS`` (200 ms) instead of ``IDLE_POLL_MS`` (1 s, how often an idle loop goes
round: ``kinerja.messaging.consumer.config``).

After a rebuild (``kinerja.messaging.replay``): ``replayed_table`` names the table in which a replay
recorded, per (topic, partition), the offset it applied up to. Every message below it is already in
the database's facts, so it counts as a duplicate before any decoding or transaction (read once,
when the loop meets its first message: a rebuild writes it before any consumer runs on its
database).

Two filters let a service pass over what it does not keep, neither applying nor recording it
(so it costs no transaction): ``skip(raw)`` before decoding (a message it is sure about from the
bytes) and ``wants(type)`` after (a message that is decoded, so dead-lettered when invalid).
"""
from kinerja.messaging.consumer.config import consumer_config
from kinerja.messaging.consumer.loop import BatchHandler, Handler, IdempotentConsumer
from kinerja.messaging.consumer.signals import stop_on_signals
from kinerja.messaging.consumer.stats import ConsumerStats
from kinerja.messaging.consumer.transactions import TransactionShape

__all__ = ["BatchHandler", "ConsumerStats", "Handler", "IdempotentConsumer", "TransactionShape", "consumer_config",
           "stop_on_signals"]
