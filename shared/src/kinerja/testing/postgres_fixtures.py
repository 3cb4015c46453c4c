"""The session's PostgreSQL server (a container, the environment's, or a throwaway cluster of
Debian's binaries) and each test's own database on it or on SQLite."""
from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest

from kinerja.localbroker import free_port
from kinerja.testing.containers import POSTGRES_IMAGE, postgres_container, session_url


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

    def __init__(self, *, slow_plans_ms: int | None = None, keep_log: Path | None = None,
                 durable: bool = False) -> None:
        """``slow_plans_ms``: the plan of every statement that runs this long goes to the server's
        log (``auto_explain``, when Debian's package has it: postgresql-NN ships it); ``keep_log``:
        where the server's log is copied when the cluster is thrown away; ``durable``: commits
        flush to disk as on a production server (fsync, synchronous_commit and full page writes
        on, PostgreSQL's defaults), not the tests' memory-speed settings."""
        self.durable = durable
        bindir = _pg_bindir()
        if bindir is None:
            raise RuntimeError("PostgreSQL binaries not found (apt-get install postgresql)")
        self.bindir = bindir
        self.dir = Path(tempfile.mkdtemp(prefix="kinerja-pg-"))
        self.data = self.dir / "data"
        self.port = free_port()
        self.as_root = os.geteuid() == 0
        self.slow_plans_ms = slow_plans_ms
        self.keep_log = keep_log

    def auto_explain(self) -> bool:
        return (self.bindir.parent / "lib" / "auto_explain.so").exists()

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
        opts = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c max_connections=300"
        if not self.durable:
            opts += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        if self.slow_plans_ms is not None and self.auto_explain():
            # loaded by each session; the plans it logs are the ones the statements ran with
            opts += (f" -c session_preload_libraries=auto_explain -c auto_explain.log_min_duration={self.slow_plans_ms}"
                     " -c auto_explain.log_nested_statements=on")
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
            if self.keep_log is not None and (self.dir / "pg.log").exists():
                shutil.copyfile(self.dir / "pg.log", self.keep_log)
            shutil.rmtree(self.dir, ignore_errors=True)


@contextmanager
def throwaway_postgres(**options) -> Iterator[str]:
    """``options``: ``ThrowawayPostgres``'s."""
    pg = ThrowawayPostgres(**options)
    url = pg.start()
    try:
        yield url
    finally:
        pg.stop()


@pytest.fixture(scope="session")
def postgres_server(docker_engine_status) -> Iterator[str]:
    """URL of a PostgreSQL server's maintenance database."""
    with session_url("PostgreSQL", "postgres", "KINERJA_TEST_POSTGRES_URL", POSTGRES_IMAGE, docker_engine_status,
                     postgres_container, throwaway_postgres) as url:
        yield url


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
