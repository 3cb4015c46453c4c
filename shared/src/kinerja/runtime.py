"""What a service process needs at run time, built after gunicorn forks, never at import:
settings, engine, sessions, the outbox, and the mains of the relay and consumer processes."""
from __future__ import annotations

import logging
import threading
from functools import cached_property
from typing import Callable, Iterable

from sqlalchemy import MetaData
from sqlalchemy.orm import Session

from kinerja import sqlite_checkpoint
from kinerja.config import Settings, load_settings
from kinerja.cpu_priority import apply_nice
from kinerja.db import make_engine, make_session_factory
from kinerja.events.envelope import Event
from kinerja.gc_tuning import tune_gc
from kinerja.logging import configure_logging
from kinerja.metrics import serve_process_metrics
from kinerja.messaging.consumer import IdempotentConsumer, stop_on_signals
from kinerja.messaging.outbox import Outbox, add_plumbing_tables
from kinerja.messaging.producer import make_producer
from kinerja.messaging.relay import RELAY_PRODUCER, OutboxRelay
from kinerja.messaging.topics import topic

log = logging.getLogger(__name__)


class ServiceRuntime:
    def __init__(self, service: str, metadata: MetaData, settings: Settings | None = None):
        self.service = service
        self.metadata = metadata
        self.settings = settings or load_settings(service)
        self.outbox_table, self.processed_table = add_plumbing_tables(metadata)
        self.outbox = Outbox(metadata)

    @cached_property
    def engine(self):
        return make_engine(self.settings.database_url)

    @cached_property
    def session_factory(self):
        return make_session_factory(self.engine)

    def session(self) -> Session:
        return self.session_factory()

    def producer(self, role: str, **overrides):
        return make_producer(self.settings.kafka_bootstrap, client_id=f"{self.service}-{role}", **overrides)

    def relay(self, **kw) -> OutboxRelay:
        s = self.settings
        options = dict(prefix=s.topic_prefix, service=self.service, batch_size=s.relay_batch,
                       max_in_flight=s.relay_max_in_flight, retention_s=s.outbox_retention_s,
                       round_gap_s=s.relay_round_gap_s, mark_interval_s=s.relay_mark_interval_s)
        options.update(kw)
        return OutboxRelay(self.engine, self.outbox_table, lambda: self.producer("relay", **RELAY_PRODUCER),
                           **options)

    def consumer(self, topics: Iterable[str], handle: Callable[[Session, Event], None],
                 group_id: str | None = None, **kw) -> IdempotentConsumer:
        return IdempotentConsumer(
            bootstrap=self.settings.kafka_bootstrap,
            topics=[topic(t, self.settings.topic_prefix) for t in topics],
            group_id=group_id or topic(self.settings.consumer_group, self.settings.topic_prefix),
            session_factory=self.session_factory,
            processed_table=self.processed_table,
            handle=handle,
            producer_factory=lambda: self.producer("dlq"),
            client_id=f"{self.service}-consumer",
            **{"processed_retention_s": self.settings.processed_retention_s, **kw},
        )

    def start_checkpointer(self, stop: threading.Event) -> None:
        """SQLite: the file's WAL checkpointer, a thread of this background process, so no request's
        COMMIT copies the WAL back (``kinerja.sqlite_checkpoint``; one process a file works at a time)."""
        sqlite_checkpoint.start(self.engine, stop)

    def dispose(self) -> None:
        if "engine" in self.__dict__:
            self.engine.dispose()


def relay_main(runtime: ServiceRuntime, **relay_kw) -> None:
    apply_nice()  # before any thread: they inherit it (``kinerja.cpu_priority``)
    configure_logging(f"{runtime.service}-relay")
    stop = threading.Event()
    stop_on_signals(stop)
    serve_process_metrics(runtime.service, "relay")
    log.info("relay starting", extra={"bootstrap": runtime.settings.kafka_bootstrap})
    relay = runtime.relay(**relay_kw)
    runtime.start_checkpointer(stop)
    tune_gc()
    relay.run(stop)


def relay_entrypoint(make_runtime: Callable[[], ServiceRuntime], **relay_kw) -> Callable[[], None]:
    """The ``<service>-relay`` console script: the runtime is made (settings read) when it runs;
    ``relay_kw`` go to its ``OutboxRelay`` (e.g. ``hold_types``)."""
    def main() -> None:
        relay_main(make_runtime(), **relay_kw)

    return main


def consumer_main(runtime: ServiceRuntime, topics: Iterable[str], handle: Callable[[Session, Event], None],
                  on_idle: Callable[[], None] | None = None, **consumer_kw) -> None:
    """A consumer process: logging, SIGTERM/SIGINT stop, metrics, then the loop. ``consumer_kw``
    go to ``runtime.consumer`` (e.g. ``batch_size`` and ``apply_batch`` for one transaction per poll)."""
    apply_nice()  # before any thread: they inherit it (``kinerja.cpu_priority``)
    configure_logging(f"{runtime.service}-consumer")
    stop = threading.Event()
    stop_on_signals(stop)
    serve_process_metrics(runtime.service, "consumer")
    log.info("consumer starting", extra={"topics": list(topics), "batch_size": consumer_kw.get("batch_size", 1)})
    runtime.start_checkpointer(stop)
    # the collector tuned once the KafkaConsumer is made (it leaves ~33,000 long-lived objects)
    runtime.consumer(topics, handle, **consumer_kw).run(stop, on_idle=on_idle, on_start=tune_gc)
