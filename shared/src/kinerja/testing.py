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

from kinerja.config import default_partitions
from kinerja.localbroker import LocalBroker, find_kafka_home, free_port, port_open


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
    """A Docker engine answers (and the tests may use it)."""
    if os.environ.get("KINERJA_TEST_NO_DOCKER"):
        return False
    from kinerja import docker_engine

    return docker_engine.answers()


# -- containers of the local images, else local processes ---------------------------------------
KAFKA_IMAGE = os.environ.get("KINERJA_TEST_KAFKA_IMAGE", "kinerja/kafka:4.3.1")
POSTGRES_IMAGE = os.environ.get("KINERJA_TEST_POSTGRES_IMAGE", "kinerja/postgres:15")
BACKENDS: dict[str, str] = {}  # "kafka"/"postgres" → what the session uses and why (the report header)


class ContainerUnavailable(RuntimeError):
    """No container for this part: the fixture falls back to a local process."""


def choose_backend(part: str, env_url: str | None, engine, image: str, image_present) -> tuple[str, str]:
    """Where a session's Kafka or PostgreSQL comes from: ("env" | "container" | "local", why).
    ``engine``: a :class:`kinerja.docker_engine.EngineStatus` or None; ``image_present(image)``
    is only asked when an engine answers."""
    if env_url:
        return "env", f"{part}: {env_url} (from the environment)"
    if engine is None or not engine.available:
        why = engine.reason if engine is not None else "no Docker engine"
        return "local", f"{part}: a local process ({why})"
    if not image_present(image):
        return "local", (f"{part}: a local process (image {image} is not built: "
                         "deploy/docker/build-images.sh builds it)")
    return "container", f"{part}: a container of {image}"


@pytest.fixture(scope="session")
def docker_engine_status():
    """The Docker engine the session may use: the running one, else a dockerd started here and
    stopped at the end (when nothing else runs containers on it); None with KINERJA_TEST_NO_DOCKER."""
    if os.environ.get("KINERJA_TEST_NO_DOCKER"):
        yield None
        return
    from kinerja import docker_engine

    status = docker_engine.start()
    try:
        yield status
    finally:
        if status.started_here:
            docker_engine.stop(only_if_idle=True)


def run_container(image: str, env: dict[str, str], command: list[str] | None = None, tmpfs: dict | None = None):
    """A container of ``image`` on the host's network (testcontainers, no Ryuk: no registry here
    to pull its image from; the fixtures remove what they start)."""
    os.environ.setdefault("TESTCONTAINERS_RYUK_DISABLED", "true")
    from testcontainers.core.container import DockerContainer

    container = DockerContainer(image).with_kwargs(network_mode="host",
                                                   labels={"org.kinerja.test-session": str(os.getpid())})
    container.tmpfs.update(tmpfs or {})  # {path: mount options}
    container.with_envs(**env)
    if command:
        container.with_command(command)
    try:
        container.start()
    except Exception as exc:  # noqa: BLE001 - any refusal of the engine means: no container
        raise ContainerUnavailable(f"{image} did not start: {exc!r}"[:500]) from exc
    return container


def container_logs(container, lines: int = 30) -> str:
    try:
        out, err = container.get_logs()
        return "\n".join((out + err).decode(errors="replace").splitlines()[-lines:])
    except Exception as exc:  # noqa: BLE001
        return f"(no logs: {exc!r})"


def wait_for_container(container, ready: Callable[[], bool], timeout_s: float, what: str) -> None:
    """Poll ``ready`` until it is true; stop and raise ContainerUnavailable if the container exits
    or the deadline passes."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        wrapped = container.get_wrapped_container()
        wrapped.reload()
        if wrapped.status not in ("created", "running"):
            logs = container_logs(container)
            container.stop()
            raise ContainerUnavailable(f"{what} exited ({wrapped.status}):\n{logs}")
        try:
            if ready():
                return
        except Exception:  # noqa: BLE001 - not yet
            pass
        time.sleep(0.25)
    logs = container_logs(container)
    container.stop()
    raise ContainerUnavailable(f"{what} not ready after {timeout_s:.0f} s:\n{logs}")


def kafka_container(image: str = KAFKA_IMAGE, timeout_s: float = 120.0):
    """A Kafka container (KRaft, one node) on 127.0.0.1 at free ports: (container, bootstrap)."""
    from kafka import KafkaAdminClient

    port, controller = free_port(), free_port()
    container = run_container(image, {
        "KAFKA_LISTENERS": f"PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller}",
        "KAFKA_ADVERTISED_LISTENERS": f"PLAINTEXT://127.0.0.1:{port}",
        "KAFKA_CONTROLLER_QUORUM_VOTERS": f"1@127.0.0.1:{controller}",
        "KAFKA_NUM_PARTITIONS": str(default_partitions()),
        "KAFKA_LOG_RETENTION_HOURS": "-1",
        "KAFKA_HEAP_OPTS": "-Xms512m -Xmx512m",
    })
    bootstrap = f"127.0.0.1:{port}"

    def ready() -> bool:
        admin = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=5000, client_id="kinerja-probe")
        try:
            admin.describe_cluster()
            return True
        finally:
            admin.close()

    wait_for_container(container, lambda: port_open(port) and ready(), timeout_s, f"Kafka ({image})")
    return container, bootstrap


def postgres_container(image: str = POSTGRES_IMAGE, timeout_s: float = 120.0):
    """A PostgreSQL container on 127.0.0.1 at a free port, tuned as the throwaway cluster
    (no fsync; its data in memory): (container, URL of the maintenance database)."""
    import psycopg

    port = free_port()
    container = run_container(image, {
        "PGPORT": str(port), "POSTGRES_LISTEN_ADDRESSES": "127.0.0.1", "POSTGRES_HOST_AUTH_METHOD": "trust",
        "PGDATA": "/var/lib/postgresql/tmpfs/data",
    }, command=["postgres", "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
                "-c", "max_connections=300"],
        tmpfs={"/var/lib/postgresql/tmpfs": "mode=1777"})
    url = f"postgresql://postgres@127.0.0.1:{port}/postgres"

    def ready() -> bool:
        with psycopg.connect(url, connect_timeout=3) as conn:
            return conn.execute("SELECT 1").fetchone() == (1,)

    wait_for_container(container, ready, timeout_s, f"PostgreSQL ({image})")
    return container, url


def _session_part(part: str, env_var: str, image: str, engine, start_container):
    """(how, why, container, url) for one part, falling back to a local process on any refusal."""
    from kinerja import docker_engine

    how, why = choose_backend(part, os.environ.get(env_var), engine, image, docker_engine.image_present)
    if how == "container":
        try:
            container, url = start_container(image)
            return how, why, container, url
        except ContainerUnavailable as exc:
            how, why = "local", f"{part}: a local process (the container failed: {exc})"
    return how, why, None, os.environ.get(env_var) if how == "env" else None


def pytest_terminal_summary(terminalreporter):
    if BACKENDS:
        terminalreporter.write_sep("-", "real parts used")
        for why in BACKENDS.values():
            terminalreporter.write_line(why)


# -- Kafka -------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def kafka_bootstrap(docker_engine_status) -> Iterator[str]:
    how, why, container, url = _session_part("Kafka", "KINERJA_TEST_KAFKA_BOOTSTRAP", KAFKA_IMAGE,
                                             docker_engine_status, kafka_container)
    BACKENDS["kafka"] = why
    if how == "env":
        yield url
        return
    if container is not None:
        try:
            yield url
        finally:
            container.stop()
        return
    port = free_port()
    data_dir = Path(tempfile.mkdtemp(prefix="kinerja-kafka-"))
    broker = LocalBroker(home=find_kafka_home(), data_dir=data_dir, port=port, controller_port=free_port())
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
    """A fresh set of topics for one test (``t<hex>.kehadiran.v1`` ...), with
    ``KINERJA_TEST_PARTITIONS`` (3) partitions each rather than the installation's 12: a session
    makes thousands of topics on one broker, and three partitions already spread keys over
    several consumers of a group."""
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
def postgres_server(docker_engine_status) -> Iterator[str]:
    """URL of a PostgreSQL server's maintenance database."""
    how, why, container, url = _session_part("PostgreSQL", "KINERJA_TEST_POSTGRES_URL", POSTGRES_IMAGE,
                                             docker_engine_status, postgres_container)
    BACKENDS["postgres"] = why
    if how == "env":
        yield url
        return
    if container is not None:
        try:
            yield url
        finally:
            container.stop()
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


def pytest_configure(config):
    """The tests sign their tokens with the development secret and keep their files in temporary
    folders: a checkout's own ``var/`` (where ``make run`` keeps this installation's signing
    secret, SQLite files and broker data) is never read, and a shell's KINERJA_ENV=production does
    not make every in-process app refuse to start."""
    if not os.environ.get("KINERJA_VAR_DIR"):
        var_dir = os.environ["KINERJA_VAR_DIR"] = tempfile.mkdtemp(prefix="kinerja-test-var-")
        config.add_cleanup(lambda: shutil.rmtree(var_dir, ignore_errors=True))
    if os.environ.get("KINERJA_ENV", "").strip().lower() == "production":
        os.environ["KINERJA_ENV"] = "test"


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
