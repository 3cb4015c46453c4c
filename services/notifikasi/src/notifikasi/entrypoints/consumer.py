"""notifikasi's consumer process: the roster slice from ``pegawai.v1``, and an inbox row per
recipient for what ``penilaian.v1``, ``tugas.v1`` and ``kehadiran.v1`` publish. It publishes
nothing (no relay); the web processes read the rows it writes (see ``stream_api``).

The messages of one poll (up to ``NOTIFIKASI_APPLY_BATCH``, default 200) are applied in one
transaction by ``handle_batch``; on any error the shared consumer applies them one by one with
``handle`` instead (retries, DLQ), so the rows are the same either way. The poll's event ids are
checked and recorded with one statement (``claim_new_ids``), and the handlers write with a
statement a table, so a poll costs the same few statements whatever the number of its events.

A poll stays one transaction by default: an event's inbox rows cost well under a millisecond
(punches and day summaries, most of a poll, are passed over before it), so a poll's transaction
is short and cutting it would add commits to every poll and gain nothing. The shared cut by key
(``kinerja.messaging.consumer.transactions``) is there to turn on:
``NOTIFIKASI_KEYS_PER_TRANSACTION`` / ``NOTIFIKASI_FIRST_KEYS_PER_TRANSACTION``."""
from __future__ import annotations

from kinerja.messaging import topics
from kinerja.messaging.consumer import IdempotentConsumer, TransactionShape
from kinerja.runtime import consumer_main
from notifikasi.entrypoints.runtime import NotifikasiRuntime, make_runtime
from kinerja.messaging.processed_claims import claim_new_ids
from notifikasi.service_layer.notifications import handle_batch, handle_event

TOPICS = [topics.PEGAWAI, topics.PENILAIAN, topics.TUGAS, topics.KEHADIRAN]


def handle(session, event) -> None:
    handle_event(session, event)


def apply_batch(session, events) -> None:
    handle_batch(session, events)


def transaction_shape(runtime: NotifikasiRuntime) -> TransactionShape:
    """``NOTIFIKASI_KEYS_PER_TRANSACTION`` / ``NOTIFIKASI_FIRST_KEYS_PER_TRANSACTION``, read now
    (unset: a poll in one transaction, see the module docstring)."""
    return TransactionShape.of_service("NOTIFIKASI", runtime.engine.dialect.name)


def make_consumer(runtime: NotifikasiRuntime, batch_size: int | None = None, **kw) -> IdempotentConsumer:
    """The consumer ``main`` runs (``batch_size`` None: the runtime's ``apply_batch_size``)."""
    size = runtime.apply_batch_size if batch_size is None else batch_size
    kw.setdefault("transaction_shape", transaction_shape(runtime))
    kw.setdefault("claim_processed", claim_new_ids)
    return runtime.consumer(TOPICS, handle, batch_size=size, apply_batch=apply_batch,
                            max_poll_records=max(size, 500), **kw)


def main() -> None:
    runtime = make_runtime()
    size = runtime.apply_batch_size
    consumer_main(runtime, TOPICS, handle, batch_size=size, apply_batch=apply_batch, max_poll_records=max(size, 500),
                  transaction_shape=transaction_shape(runtime), claim_processed=claim_new_ids)


if __name__ == "__main__":
    main()
