"""pytest fixtures giving the real parts: a Kafka broker and PostgreSQL (plus SQLite).

Kafka: ``KINERJA_TEST_KAFKA_BOOTSTRAP`` if set; else testcontainers when a Docker daemon answers;
else a broker from ``deploy/kafka`` on a free port, started for the session and stopped after.
PostgreSQL: ``KINERJA_TEST_POSTGRES_URL`` if set; else testcontainers; else a throwaway cluster
from Debian's ``postgresql`` binaries, started by this harness.

Each test gets its own topic prefix and its own database, so tests never see each other's data.
"""
from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import time
import uuid
from pathlib import Path
from types import SimpleNamespace
from typing import Callable, Iterator

import pytest

from kinerja.localbroker import LocalBroker, find_kafka_home, free_port


def wait_until(predicate: Callable[[], object], timeout_s: float = 30.0, interval_s: float = 0.05,
               message: str = "condition") -> object:
    """Poll ``predicate`` until it returns something truthy; fail with ``message`` at the deadline."""
    deadline = time.monotonic() + timeout_s
    last_exc: Exception | None = None
    while time.monotonic() < deadline:
        try:
            value = predicate()
            if value:
                return value
        except Exception as exc:  # noqa: BLE001 - keep polling; report the last one
            last_exc = exc
        time.sleep(interval_s)
    raise AssertionError(f"timed out after {timeout_s}s waiting for {message}" + (f" (last error: {last_exc!r})" if last_exc else ""))


def docker_available() -> bool:
    if os.environ.get("KINERJA_TEST_NO_DOCKER"):
        return False
    if not shutil.which("docker"):
        return False
    try:
        return subprocess.run(["docker", "info"], capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


# -- Kafka -------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def kafka_bootstrap() -> Iterator[str]:
    env = os.environ.get("KINERJA_TEST_KAFKA_BOOTSTRAP")
    if env:
        yield env
        return
    if docker_available():  # pragma: no cover - no Docker engine on the project's machines
        from testcontainers.kafka import KafkaContainer

        with KafkaContainer("apache/kafka:4.1.1").with_kraft() as kafka:
            yield kafka.get_bootstrap_server()
        return
    port = free_port()
    data_dir = Path(tempfile.mkdtemp(prefix="kinerja-kafka-"))
    broker = LocalBroker(home=find_kafka_home(), data_dir=data_dir, port=port, controller_port=free_port(),
                         partitions=6)
    broker.start(create_topics=False)
    try:
        yield broker.bootstrap
    finally:
        # its data is deleted next: a controlled shutdown of a session's thousands of partitions is not
        # worth waiting for (SIGKILL after a few seconds)
        broker.stop(timeout_s=5)
        shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture
def topic_prefix(kafka_bootstrap: str) -> str:
    """A fresh set of topics for one test (``t<hex>.kehadiran.v1`` ...)."""
    from kinerja.messaging.topics import ensure_topics

    prefix = "t" + uuid.uuid4().hex[:10]
    ensure_topics(kafka_bootstrap, prefix=prefix, partitions=int(os.environ.get("KINERJA_TEST_PARTITIONS", "3")))
    return prefix


# -- PostgreSQL --------------------------------------------------------------------------------
def _pg_bindir() -> Path | None:
    env = os.environ.get("KINERJA_PG_BINDIR")
    if env:
        return Path(env)
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


class ThrowawayPostgres:
    """A PostgreSQL cluster in a temp dir on a free port; run as ``postgres`` when we are root."""

    def __init__(self) -> None:
        bindir = _pg_bindir()
        if bindir is None:
            raise RuntimeError("PostgreSQL binaries not found (apt-get install postgresql)")
        self.bindir = bindir
        self.dir = Path(tempfile.mkdtemp(prefix="kinerja-pg-"))
        self.data = self.dir / "data"
        self.port = free_port()
        self.as_root = os.geteuid() == 0

    def _run(self, *args: str) -> subprocess.CompletedProcess:
        cmd = list(args)
        if self.as_root:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        return subprocess.run(cmd, capture_output=True, text=True, check=True)

    def start(self) -> str:
        if self.as_root:
            shutil.chown(self.dir, "postgres", "postgres")
        self._run(str(self.bindir / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust",
                  "-E", "UTF8", "--no-sync")
        opts = (f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off "
                f"-c synchronous_commit=off -c full_page_writes=off -c max_connections=300")
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-o", opts, "-l",
                  str(self.dir / "pg.log"), "-w", "-t", "60", "start")
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def restart(self) -> None:
        # -l again: without it the new postmaster writes to our captured pipe, and we would wait
        # for that pipe to close (for ever); the server options come back from postmaster.opts
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-l", str(self.dir / "pg.log"),
                  "-w", "-t", "60", "restart")

    def stop(self) -> None:
        try:
            # immediate: the cluster is thrown away next, so a shutdown checkpoint and waiting for
            # the sessions still open at the end of a long session buy nothing
            self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """URL of a PostgreSQL server's maintenance database."""
    env = os.environ.get("KINERJA_TEST_POSTGRES_URL")
    if env:
        yield env
        return
    if docker_available():  # pragma: no cover
        from testcontainers.postgres import PostgresContainer

        with PostgresContainer("postgres:16", driver="psycopg") as pg:
            yield pg.get_connection_url()
        return
    pg = ThrowawayPostgres()
    url = pg.start()
    try:
        yield url
    finally:
        pg.stop()


def create_postgres_database(server_url: str) -> str:
    from sqlalchemy import create_engine, text

    from kinerja.db import normalise_url

    name = "k_" + uuid.uuid4().hex[:12]
    engine = create_engine(normalise_url(server_url), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    base = server_url.rsplit("/", 1)[0]
    return f"{base}/{name}"


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path) -> str:
    """A fresh, empty database: each test using it runs once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'test.db'}"
    return create_postgres_database(request.getfixturevalue("postgres_server"))


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'test.db'}"


@pytest.fixture
def postgres_url(postgres_server) -> str:
    return create_postgres_database(postgres_server)


# -- markers from the folder a test lives in (tests/unit, tests/integration, tests/e2e) --------
def pytest_collection_modifyitems(config, items):
    for item in items:
        parts = Path(str(item.fspath)).parts
        for kind in ("unit", "integration", "e2e"):
            if kind in parts and not item.get_closest_marker(kind):
                item.add_marker(getattr(pytest.mark, kind))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the item, so fixtures can tell whether the test failed."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


def test_failed(request) -> bool:
    rep = getattr(request.node, "rep_call", None)
    return rep is None or rep.failed


test_failed.__test__ = False  # not a test, whatever pytest's name matching thinks


# -- driving a consumer's batch path by hand ----------------------------------------------------
class RecordingProducer:
    """Stands in for a consumer's DLQ producer where a test hands records to ``process_batch``
    itself (the batch path's bookkeeping, not delivery: that is tested through the broker)."""

    def __init__(self):
        self.sent: list[tuple[str, bytes, dict]] = []

    def send(self, topic, key=None, value=None, headers=None):
        self.sent.append((topic, value, dict(headers or [])))
        return SimpleNamespace(get=lambda timeout=None: None)

    def close(self, timeout=None):
        pass


def consumer_record(event_or_raw, offset: int, topic: str, partition: int = 0) -> SimpleNamespace:
    """What ``KafkaConsumer.poll`` hands a consumer: an event (or raw bytes) at ``offset``."""
    raw = event_or_raw if isinstance(event_or_raw, bytes) else event_or_raw.to_bytes()
    return SimpleNamespace(topic=topic, partition=partition, offset=offset, key=b"k", value=raw)
