"""penilaian's consumer process: facts from attendance, tasks and the roster → live scores; and
the facts penilaian itself published on ``penilaian.v1`` (ratings, training, dialogs, policy,
the organisation's predikat), so that a consumer starting from an empty database restores them.
Its own score updates on ``penilaian.v1`` are skipped before any database work."""
from __future__ import annotations

import logging
import os
import sys
import threading
from typing import Callable

from sqlalchemy.orm import Session

from kinerja import metrics
from kinerja.events.envelope import Event
from kinerja.events.kehadiran import DISCIPLINE_ALERT, DISCIPLINE_ALERT_WITHDRAWN, PUNCH_RECORDED
from kinerja.events.penilaian import SCORE_UPDATED
from kinerja.gc_tuning import tune_gc
from kinerja.logging import configure_logging
from kinerja.messaging import topics
from kinerja.messaging.consumer import IdempotentConsumer, TransactionShape, stop_on_signals
from kinerja.messaging.processed_claims import claim_new_ids
from kinerja.messaging.topics import topic
from kinerja.runtime import ServiceRuntime
from kinerja.events.penilaian import POLICY_SET
from kinerja.messaging.replay import replayed_offsets_table
from kinerja.messaging.skipping import skip_types
from kinerja.config import whole_number
from kinerja.cpu_priority import apply_nice
from penilaian.adapters.orm import metadata
from penilaian.adapters.trusted_decode import decode_record
from penilaian.entrypoints.runtime import make_runtime
from penilaian.service_layer.policy_recompute import DEFAULT_BATCH, PolicyRecomputer
from penilaian.service_layer.batch import Batch
from penilaian.service_layer.intake import apply_batch, apply_event
from penilaian.service_layer.locks import Claim

log = logging.getLogger(__name__)

TOPICS = (topics.KEHADIRAN, topics.TUGAS, topics.PEGAWAI, topics.PENILAIAN)
# types on those topics that bear on nothing penilaian keeps: its own score updates, punches (the
# day summaries carry their ids), discipline alerts and their withdrawals (SKP approvals and
# feedback it keeps for the evaluation document)
SKIPPED_TYPES = frozenset({SCORE_UPDATED, PUNCH_RECORDED, DISCIPLINE_ALERT, DISCIPLINE_ALERT_WITHDRAWN})
# decided from the envelope's ``type`` alone, without the schema or a transaction (the shared
# rule, ``kinerja.messaging.skipping``; undecodable messages take the usual path, and the DLQ);
# skipping one changes
# nothing penilaian keeps, so it is idempotent without recording its id
skippable = skip_types(SKIPPED_TYPES)
_PREPARED = "penilaian.prepared_batch"  # session.info: the batch ``claim_batch`` prepared


class PenilaianConsumer(IdempotentConsumer):
    """The shared idempotent consumer (``kinerja.messaging.consumer``, batches included), plus:
    penilaian's own score updates and the other ``SKIPPED_TYPES`` are skipped before any
    database work (``skippable``), a batch is applied by ``intake.apply_batch`` (facts stored
    one by one, each affected ASN recomputed once) in a transaction of its own shape
    (``claim_batch``: a one-message transaction is a batch of one), and between polls a
    queued policy version's recompute goes on by one batch of ASN (``policy_recompute``)."""

    def __init__(self, *args, tz: str = "Asia/Jakarta", outbox=None, recompute_batch: int = DEFAULT_BATCH, **kw):
        kw.setdefault("skip", skippable)
        # ids claimed first, which switches the shared batch path to ``claim_batch`` (its SQLite
        # statement; on PostgreSQL ``adapters.claims`` takes the batch's first locks with it)
        kw.setdefault("claim_processed", claim_new_ids)
        super().__init__(*args, apply_batch=self._apply_batch, **kw)
        self.tz, self.outbox = tz, outbox
        self.recomputer = PolicyRecomputer(self.session_factory, outbox, tz=tz, batch_size=recompute_batch)
        self.between_polls = self.recomputer

    def claim_batch(self, session: Session, events: list[Event], rows: list[dict]) -> set[str]:
        """The transaction's first statement (the shared batch path's hook): the ids recorded,
        which says which are new (``INSERT ... ON CONFLICT DO NOTHING RETURNING``), with the
        batch's first locks in the same statement on PostgreSQL (``locks.Claim``,
        ``adapters.claims``); then the batch's reads, kept for ``_apply_batch`` (its facts stored
        and its ASN recomputed, the last writes — day facts, month totals, scores, outbox — in one
        statement, ``bulk_writes.Writes``). A failure rolls the ids back with the rest."""
        batch = Batch(session)
        new = batch.prepare(events, claim=Claim(self.processed, rows), read_months=True)
        session.info[_PREPARED] = batch
        return new

    def apply_once(self, event: Event, topic: str, partition: int, offset: int) -> bool:
        """The message-by-message path (``MessagePath``) as a batch of one: its id claimed before
        any lock, as in a batch (a claim made after a lock could wait in a cycle with a batch's)."""
        if self.wants is not None and not self.wants(event.type):
            return True
        return self.apply_in_one_transaction(event, topic, partition, offset)

    def _apply_batch(self, session: Session, events: list[Event]) -> None:
        # ``apply_batch`` of the shared consumer: the events with the batch ``claim_batch``
        # prepared for them (its locks and reads), when it did
        apply_batch(session, self.outbox, events, tz=self.tz, batch=session.info.pop(_PREPARED, None))
        if any(e.type == POLICY_SET for e in events):
            self.recomputer.wake()


def make_handler(runtime: ServiceRuntime, wake: Callable[[], None] | None = None) -> Callable[[Session, Event], None]:
    def handle(session: Session, event: Event) -> None:
        apply_event(session, runtime.outbox, event, tz=runtime.settings.timezone)
        if wake is not None and event.type == POLICY_SET:
            wake()

    return handle


def recompute_batch_size() -> int:
    """``PENILAIAN_POLICY_RECOMPUTE_BATCH``: ASN per transaction of a policy version's recompute."""
    return whole_number(os.environ, "PENILAIAN_POLICY_RECOMPUTE_BATCH", DEFAULT_BATCH, low=1)


def make_consumer(runtime: ServiceRuntime, group_id: str | None = None, **kw) -> PenilaianConsumer:
    settings = runtime.settings
    kw.setdefault("processed_retention_s", settings.processed_retention_s)
    kw.setdefault("recompute_batch", recompute_batch_size())
    kw.setdefault("replayed_table", replayed_offsets_table(metadata))  # what a rebuild applied
    # the bulk (day summaries, task states, innovations) checked by hand, never looser than the
    # schemas, which decide anything unsure (``trusted_decode``): a decode was a fifth of a batch
    kw.setdefault("decode", decode_record)
    consumer = PenilaianConsumer(
        bootstrap=settings.kafka_bootstrap,
        topics=[topic(t, settings.topic_prefix) for t in TOPICS],
        group_id=group_id or topic(settings.consumer_group, settings.topic_prefix),
        session_factory=runtime.session_factory,
        processed_table=runtime.processed_table,
        handle=make_handler(runtime),
        producer_factory=lambda: runtime.producer("dlq"),
        client_id=f"{runtime.service}-consumer",
        tz=settings.timezone,
        outbox=runtime.outbox,
        **kw,
    )
    consumer.handle = make_handler(runtime, consumer.recomputer.wake)  # the message-by-message path wakes it too
    return consumer


# events of one poll; how a poll is cut into transactions (``TransactionShape``): a transaction's
# time is the ASN it recomputes (a few ms each, whatever their events), and every score of it waits
# for its commit. Behind (a full poll): on PostgreSQL one transaction (throughput); on SQLite at
# most SQLITE_KEYS_PER_TRANSACTION keys, as a transaction holds the file's one write lock, which
# penilaian's relay, its API and its policy recompute wait for (a poll of 1,000 held it for
# seconds). Caught up (a poll not full): the first transaction FIRST_KEYS_PER_TRANSACTION keys,
# each next twice as many, so the first ASN's score does not wait for the whole poll. Not one:
# a transaction costs about as much as ten ASN' recomputes on its own (measured on PostgreSQL,
# time = ~100 ms + ~10 ms a key on a loaded machine: the batch's fixed queries, the id look-up and
# insert, the commit), so polls cut from one ASN up were slower at 30 and 100 events/s, and a cut
# pays only when the first transaction is about twice that ratio: smaller polls stay whole.
APPLY_BATCH = 1000
OVERLAP_SWITCH_INTERVAL_S = 0.001  # ``main``: the GIL's switch interval with the overlapped apply
SQLITE_KEYS_PER_TRANSACTION = 20
FIRST_KEYS_PER_TRANSACTION = 20


def apply_batch_size() -> int:
    """``PENILAIAN_APPLY_BATCH``: events per poll (``APPLY_BATCH``)."""
    return whole_number(os.environ, "PENILAIAN_APPLY_BATCH", APPLY_BATCH, low=1)


def transaction_shape(runtime: ServiceRuntime) -> TransactionShape:
    """``PENILAIAN_KEYS_PER_TRANSACTION`` (behind; 0: a poll in one; default
    ``SQLITE_KEYS_PER_TRANSACTION`` on SQLite, a poll in one on PostgreSQL) and
    ``PENILAIAN_FIRST_KEYS_PER_TRANSACTION`` (caught up; 0: as behind; default
    ``FIRST_KEYS_PER_TRANSACTION``), read now."""
    return TransactionShape.of_service("PENILAIAN", runtime.engine.dialect.name,
                                       sqlite_max_keys=SQLITE_KEYS_PER_TRANSACTION,
                                       first_keys=FIRST_KEYS_PER_TRANSACTION)


def overlap_enabled() -> bool:
    """``PENILAIAN_CONSUMER_OVERLAP`` (``0``, the default, or ``1``): a poll's transactions on a
    thread of their own while the next poll is fetched, parsed and decoded
    (``kinerja.messaging.consumer.overlap``): that work was a third of the consumer's time, the
    database's a fifth, one after the other. It pays only with a core to spare for it (on a
    machine loaded far beyond its cores it cost CPU and gained nothing), hence a setting, off until a
    quiet A/B shows it gains."""
    raw = os.environ.get("PENILAIAN_CONSUMER_OVERLAP", "").strip()
    if raw not in ("", "0", "1"):
        raise ValueError(f"PENILAIAN_CONSUMER_OVERLAP must be 0 or 1, not {raw!r}")
    return raw == "1"


def live_consumer(runtime: ServiceRuntime, **kw) -> PenilaianConsumer:
    """The consumer as ``penilaian-consumer`` runs it: polls of ``apply_batch_size`` events, in
    the transactions ``transaction_shape`` cuts."""
    batch = apply_batch_size()
    kw.setdefault("transaction_shape", transaction_shape(runtime))
    kw.setdefault("overlap", overlap_enabled())
    return make_consumer(runtime, batch_size=batch, max_poll_records=max(batch, 500), **kw)


def main() -> None:
    apply_nice()  # a background role, below the requests (``kinerja.cpu_priority``)
    runtime = make_runtime()
    configure_logging(f"{runtime.service}-consumer")
    stop = threading.Event()
    stop_on_signals(stop)
    metrics.serve_process_metrics(runtime.service, "consumer")
    consumer = live_consumer(runtime)
    # the overlapped apply's thread waits on PostgreSQL while the loop's thread parses and decodes:
    # a statement's answer then waits for the GIL until the busy thread is made to let go, up to
    # the switch interval (5 ms by default) per statement, ~7 statements a batch; 1 ms bounds it
    if consumer.overlap:
        sys.setswitchinterval(min(sys.getswitchinterval(), OVERLAP_SWITCH_INTERVAL_S))
    consumer.run(stop, on_start=tune_gc)


if __name__ == "__main__":
    main()
