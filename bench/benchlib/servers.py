"""A Kafka broker and a PostgreSQL server of the benchmark's own (or the ones the environment names),
and a fresh database per run."""
from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator


# bootstrap → the process id of a broker ``own_broker`` started (its CPU can be read from /proc)
BROKER_PIDS: dict[str, int] = {}


@contextmanager
def own_broker(partitions: int | None = None, env: str = "KINERJA_BENCH_KAFKA_BOOTSTRAP") -> Iterator[str]:
    """The broker ``env`` names if set, else a LocalBroker on free ports with a temp data dir (its
    default partitions: ``partitions``, else ``KINERJA_PARTITIONS``)."""
    given = os.environ.get(env)
    if given:
        yield given
        return
    from kinerja.localbroker import LocalBroker, find_kafka_home, free_port

    data_dir = Path(tempfile.mkdtemp(prefix="bench-kafka-"))
    broker = LocalBroker(home=find_kafka_home(), data_dir=data_dir, port=free_port(), controller_port=free_port(),
                         partitions=partitions)
    try:
        broker.start(create_topics=False)
        BROKER_PIDS[broker.bootstrap] = broker.pid()
        yield broker.bootstrap
    finally:  # also when start() failed: a broker that never became ready still has a JVM to stop
        BROKER_PIDS.pop(broker.bootstrap, None)
        broker.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


@contextmanager
def own_postgres(**options) -> Iterator[str]:
    """A PostgreSQL server URL: ``KINERJA_TEST_POSTGRES_URL`` if set, else a throwaway cluster
    (``options``: ``ThrowawayPostgres``'s, e.g. the slow statements' plans in its log)."""
    env = os.environ.get("KINERJA_TEST_POSTGRES_URL")
    if env:
        yield env
        return
    from kinerja.testing import throwaway_postgres

    with throwaway_postgres(**options) as url:
        yield url


def fresh_database(kind: str, tmp: Path, pg_server: str | None) -> str:
    """A new, empty database: a SQLite file under ``tmp``, or a database on ``pg_server``."""
    if kind == "sqlite":
        return f"sqlite:///{tmp / (uuid.uuid4().hex[:8] + '.db')}"
    from kinerja.testing import create_postgres_database

    return create_postgres_database(pg_server)
