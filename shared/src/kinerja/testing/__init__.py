"""pytest fixtures giving the real parts: a Kafka broker and PostgreSQL (plus SQLite).

Kafka: ``KINERJA_TEST_KAFKA_BOOTSTRAP`` if set; else a container of the locally built Kafka image
(``kinerja/kafka``, deploy/kafka) through testcontainers, when a Docker engine answers or can be
started (:mod:`kinerja.docker_engine`) and the image is there; else a broker from ``deploy/kafka``
as a local process on a free port. PostgreSQL likewise: ``KINERJA_TEST_POSTGRES_URL``; else a
``kinerja/postgres`` container; else a throwaway cluster from Debian's ``postgresql`` binaries.
Containers use the host's network (the engine runs without iptables) on free ports. A container
that cannot be had (no engine, no image, it will not start) never fails a test: the local process
takes its place, and the session's header says which was used and why
(``KINERJA_TEST_NO_DOCKER`` set: always the local processes).

Each test gets its own topic prefix and its own database, so tests never see each other's data.
"""
from kinerja.testing.consumer_records import RecordingProducer, consumer_record
from kinerja.testing.containers import (BACKENDS, KAFKA_IMAGE, POSTGRES_IMAGE, ContainerUnavailable, choose_backend,
                                        container_logs, docker_available, docker_engine_status, kafka_container,
                                        postgres_container, run_container, session_part, wait_for_container)
from kinerja.testing.kafka_fixtures import kafka_bootstrap, topic_prefix
from kinerja.testing.postgres_fixtures import (ThrowawayPostgres, create_postgres_database, database_url,
                                               postgres_server, postgres_url, sqlite_url, throwaway_postgres)
from kinerja.testing.session_hooks import (pytest_collection_modifyitems, pytest_configure,
                                           pytest_runtest_makereport, pytest_terminal_summary, test_failed)
from kinerja.testing.waiting import wait_until

_session_part = session_part  # the name the container fallback tests know it by

# what the plugin (``-p kinerja.testing``) hands pytest: its fixtures and hooks are these names
__all__ = [
    "BACKENDS", "KAFKA_IMAGE", "POSTGRES_IMAGE", "ContainerUnavailable", "RecordingProducer", "ThrowawayPostgres",
    "choose_backend", "consumer_record", "container_logs", "create_postgres_database", "database_url",
    "docker_available", "docker_engine_status", "kafka_bootstrap", "kafka_container", "postgres_container",
    "postgres_server", "postgres_url", "pytest_collection_modifyitems", "pytest_configure",
    "pytest_runtest_makereport", "pytest_terminal_summary", "run_container", "session_part", "sqlite_url",
    "test_failed", "throwaway_postgres", "topic_prefix", "wait_for_container", "wait_until",
]
