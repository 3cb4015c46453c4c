"""kehadiran's consumer process: keeps its slice of the roster from ``pegawai.v1``. What a roster
event changes of the days (a TMT, quarantined punches of a PIN) is marked for the day worker
(``kehadiran.entrypoints.worker``), which also closes finished days.

A poll's events (up to ``ROSTER_BATCH``) are applied in one transaction by
``roster_batch.apply_roster_batch``, their ids checked and recorded with one statement
(``claim_new_ids``); on any error the shared consumer applies them one by one with
``roster.apply_roster_event`` instead (retries, DLQ), which leaves the same rows. One at a time a
10,000-ASN roster took ~90 s quiet and ~10 min loaded (a transaction and ~11 statements an event)."""
from __future__ import annotations

from kehadiran.entrypoints.runtime import make_runtime
from kehadiran.service_layer.roster import apply_roster_event
from kehadiran.service_layer.roster_batch import apply_roster_batch
from kinerja.messaging import topics
from kinerja.messaging.consumer import IdempotentConsumer
from kinerja.messaging.processed_claims import claim_new_ids
from kinerja.runtime import ServiceRuntime, consumer_main

# events a transaction: a poll of a roster import. On SQLite the transaction holds the file's one
# write lock, which every ingest request waits for: on a loaded machine (load ~36 on 2 cores) a
# transaction of 500 roster events held it 1.8-2.6 s, one of 100 0.5-0.7 s (one at a time: ~55 ms
# an event), so SQLite takes them 100 at a time
ROSTER_BATCH = 500
SQLITE_ROSTER_BATCH = 100
TOPICS = [topics.PEGAWAI]


def consumer_kw(runtime: ServiceRuntime) -> dict:
    """The consumer's batch settings (``main`` and the tests make it with these)."""
    tz = runtime.settings.timezone  # the deployment's zone for an agency whose roster names none

    def handle(session, event):
        apply_roster_event(session, event, agency_tz=tz)

    def apply_batch(session, events):
        apply_roster_batch(session, events, agency_tz=tz)

    batch = ROSTER_BATCH if runtime.engine.dialect.name == "postgresql" else SQLITE_ROSTER_BATCH
    return dict(handle=handle, batch_size=batch, apply_batch=apply_batch, max_poll_records=batch,
                claim_processed=claim_new_ids)


def make_consumer(runtime: ServiceRuntime, **kw) -> IdempotentConsumer:
    settings = {**consumer_kw(runtime), **kw}
    return runtime.consumer(TOPICS, settings.pop("handle"), **settings)


def main() -> None:
    runtime = make_runtime()
    settings = consumer_kw(runtime)
    consumer_main(runtime, TOPICS, settings.pop("handle"), **settings)


if __name__ == "__main__":
    main()
