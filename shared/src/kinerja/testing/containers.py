"""Containers of the locally built images for a session's Kafka and PostgreSQL, and the choice
between one of them, the environment's own, or a local process (with the reason)."""
from __future__ import annotations

import os
import time
from contextlib import AbstractContextManager, contextmanager
from typing import Callable, Iterator

import pytest

from kinerja.config import default_partitions
from kinerja.localbroker import free_port, port_open


def docker_available() -> bool:
    """A Docker engine answers (and the tests may use it)."""
    if os.environ.get("KINERJA_TEST_NO_DOCKER"):
        return False
    from kinerja import docker_engine

    return docker_engine.answers()


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


def session_part(part: str, env_var: str, image: str, engine, start_container):
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


@contextmanager
def session_url(part: str, key: str, env_var: str, image: str, engine, start_container,
                start_local: Callable[[], AbstractContextManager[str]]) -> Iterator[str]:
    """One part's URL for the session: the environment's as given, a container's (stopped after),
    or ``start_local()``'s; ``BACKENDS[key]`` says which and why for the session's report."""
    how, why, container, url = session_part(part, env_var, image, engine, start_container)
    BACKENDS[key] = why
    if how == "env":
        yield url
    elif container is not None:
        try:
            yield url
        finally:
            container.stop()
    else:
        with start_local() as url:
            yield url
