"""The whole system on one machine as real processes: per service its migrations, its web app
under gunicorn, its consumer and its relay (``relays`` of them: they share the outbox, see
``kinerja.messaging.relay``). ``make run`` and the end-to-end tests both use it.

This is orchestration only: it knows each service's commands, none of its code.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

from kinerja import cpu_priority
from kinerja.config import DEFAULT_PORTS, MAX_DAY_WORKERS, MAX_WEB_THREADS, MAX_WEB_WORKERS, whole_number

SERVICES = ("kehadiran", "tugas", "penilaian", "notifikasi")
# notifikasi publishes nothing, so it has no relay; it delivers webhooks and e-mail instead
# kehadiran's day worker recomputes the days its requests mark (kehadiran.entrypoints.worker)
ROLES = {"kehadiran": ("web", "consumer", "worker", "relay"), "tugas": ("web", "consumer", "relay"),
         "penilaian": ("web", "consumer", "relay"),
         "notifikasi": ("web", "consumer", "webhooks", "mailer")}
# ``python -c`` of ``Stack.migrate``: each service named after it brought to its newest revision,
# the database its settings name (what ``python -m <service>.entrypoints.migrate`` does)
_MIGRATE_ALL = ("import importlib, sys\n"
                "for service in sys.argv[1:]:\n"
                "    importlib.import_module(f'{service}.entrypoints.migrate').main()\n")


# gunicorn's shape per web app when neither the caller nor ``<SERVICE>_WEB_WORKERS`` /
# ``<SERVICE>_WEB_THREADS`` says otherwise. notifikasi's threads are its open streams (one thread
# each, see ``notifikasi.entrypoints.gunicorn_conf``), a different quantity from the others'.
WEB_WORKERS = {"kehadiran": 1, "tugas": 1, "penilaian": 1, "notifikasi": 1}
WEB_THREADS = {"kehadiran": 16, "tugas": 16, "penilaian": 16, "notifikasi": 1000}


def _names(service: str, key: str) -> tuple[str, ...]:
    # notifikasi's own gunicorn config reads NOTIFIKASI_WORKERS / NOTIFIKASI_THREADS: honoured too
    own = (f"NOTIFIKASI_{key}",) if service == "notifikasi" else ()
    return (f"{service.upper()}_WEB_{key}", *own)


def day_workers_setting(env) -> int:
    """``KEHADIRAN_DAY_WORKERS``: how many kehadiran day worker processes to run. Default 2 when
    kehadiran's database (``KEHADIRAN_DATABASE_URL`` in ``env``) is PostgreSQL, where rounds claim
    disjoint ASN's days and run at once: with one, 60-90 % of a 20,000-line upload's ASN-days were
    still to do at its last answer, with two the day summaries were in the outbox 0.88-1.34 s after
    it against 1.16-1.98 s (4 of 4 quiet pairs; ingest 4-17 % lower, 12,500-17,200 punches/s). 1 on
    SQLite, where rounds take turns a file."""
    default = 2 if (env.get("KEHADIRAN_DATABASE_URL") or "").startswith("postgresql") else 1
    return whole_number(env, ("KEHADIRAN_DAY_WORKERS",), default, 1, MAX_DAY_WORKERS)


def web_workers_setting(env, service: str) -> int:
    """``<SERVICE>_WEB_WORKERS``: gunicorn worker processes of ``service``'s web app."""
    return whole_number(env, _names(service, "WORKERS"), WEB_WORKERS[service], 1, MAX_WEB_WORKERS)


def web_threads_setting(env, service: str) -> int:
    """``<SERVICE>_WEB_THREADS``: threads per gunicorn worker of ``service``'s web app (notifikasi:
    the open streams a worker can hold)."""
    return whole_number(env, _names(service, "THREADS"), WEB_THREADS[service], 1, MAX_WEB_THREADS)


def web_shape(service: str, env, workers: int | None = None, threads: int | None = None) -> tuple[int, int]:
    """(workers, threads per worker) of ``service``'s gunicorn: ``workers`` / ``threads`` when
    given (``threads`` not for notifikasi, whose threads are stream slots), else the settings; a
    bad setting raises ValueError naming it."""
    if workers is None:
        workers = web_workers_setting(env, service)
    if threads is None or service == "notifikasi":
        threads = web_threads_setting(env, service)
    return workers, threads


def service_installed(service: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(f"{service}.entrypoints.app") is not None


@dataclass
class Proc:
    name: str
    popen: subprocess.Popen
    log: Path
    service: str = ""
    role: str = ""
    instance: int = 1


def process_name(service: str, role: str, instance: int = 1) -> str:
    """``kehadiran-relay`` for the first of a role, ``kehadiran-relay-2`` for the second."""
    return f"{service}-{role}" if instance == 1 else f"{service}-{role}-{instance}"


@dataclass
class Stack:
    var_dir: Path
    kafka_bootstrap: str
    topic_prefix: str = ""
    ports: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_PORTS))
    database_urls: dict[str, str] = field(default_factory=dict)
    services: tuple[str, ...] = SERVICES
    # gunicorn workers of every web app (None: each service's ``<SERVICE>_WEB_WORKERS``, else
    # ``WEB_WORKERS``) and threads per worker of every web app but notifikasi's, whose threads are
    # stream slots (None: ``<SERVICE>_WEB_THREADS``, else ``WEB_THREADS``)
    web_workers: int | None = None
    web_threads: int | None = None
    relays: int = 1  # relay processes per publishing service
    # kehadiran day worker processes (they claim disjoint ASN's days); None: ``KEHADIRAN_DAY_WORKERS``
    day_workers: int | None = None
    extra_env: dict[str, str] = field(default_factory=dict)
    procs: list[Proc] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.var_dir = Path(self.var_dir).resolve()
        (self.var_dir / "logs").mkdir(parents=True, exist_ok=True)

    # -- environment -------------------------------------------------------------------------
    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update({
            "KINERJA_KAFKA_BOOTSTRAP": self.kafka_bootstrap,
            "KINERJA_TOPIC_PREFIX": self.topic_prefix,
            "KINERJA_VAR_DIR": str(self.var_dir),
            "PYTHONUNBUFFERED": "1",
        })
        for svc in self.services:
            env[f"{svc.upper()}_PORT"] = str(self.ports[svc])
            env[f"{svc.upper()}_URL"] = self.url(svc)
            if svc in self.database_urls:
                env[f"{svc.upper()}_DATABASE_URL"] = self.database_urls[svc]
        if "notifikasi" in self.services and not os.environ.get("KINERJA_CORS_ORIGINS"):
            # the dashboard, served by notifikasi, reads the other services' APIs from the browser
            port = self.ports["notifikasi"]
            env["KINERJA_CORS_ORIGINS"] = f"http://127.0.0.1:{port},http://localhost:{port}"
        env.update(self.extra_env)
        return env

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.ports[service]}"

    def web_shape(self, service: str, env: dict[str, str] | None = None) -> tuple[int, int]:
        """(workers, threads per worker) of ``service``'s gunicorn (see :func:`web_shape`)."""
        return web_shape(service, self.env() if env is None else env, self.web_workers, self.web_threads)

    def command(self, service: str, role: str, env: dict[str, str] | None = None) -> list[str]:
        py = sys.executable
        if role == "web" and service == "notifikasi":
            # its own gunicorn settings: stream threads, tokens kept out of the access log; its
            # shape goes in as NOTIFIKASI_WORKERS / NOTIFIKASI_THREADS (``web_env``), by which its
            # config also sizes ``worker_connections``
            return [py, "-m", "gunicorn", "-c", "python:notifikasi.entrypoints.gunicorn_conf",
                    "--bind", f"127.0.0.1:{self.ports[service]}", f"{service}.entrypoints.app:create_app()"]
        if role == "web":
            workers, threads = self.web_shape(service, env)
            # the config module only adds the workers' collector settings (kinerja.gc_tuning)
            return [py, "-m", "gunicorn", "-c", "python:kinerja.gunicorn_hooks",
                    "--bind", f"127.0.0.1:{self.ports[service]}",
                    "--workers", str(workers), "--worker-class", "gthread", "--threads", str(threads),
                    "--graceful-timeout", "5", "--timeout", "60", "--access-logfile", "-",
                    # a token in a query string (?access_token=) never reaches the log
                    "--logger-class", "kinerja.accesslog.RedactingLogger",
                    f"{service}.entrypoints.app:create_app()"]
        return [py, "-m", f"{service}.entrypoints.{role}"]

    def web_env(self, service: str, env: dict[str, str]) -> dict[str, str]:
        """What a web app's gunicorn needs beyond the common environment: notifikasi's shape, and
        with several workers a fresh Prometheus multiprocess folder, so ``/metrics`` sums every
        worker's values instead of showing whichever worker answered."""
        workers, threads = self.web_shape(service, env)
        extra: dict[str, str] = {}
        if service == "notifikasi":
            extra.update(NOTIFIKASI_WORKERS=str(workers), NOTIFIKASI_THREADS=str(threads))
        if workers > 1 and not env.get("PROMETHEUS_MULTIPROC_DIR"):
            folder = self.var_dir / "metrics" / service
            shutil.rmtree(folder, ignore_errors=True)  # values of a previous run's workers
            folder.mkdir(parents=True)
            extra["PROMETHEUS_MULTIPROC_DIR"] = str(folder)
        return extra

    # -- lifecycle ---------------------------------------------------------------------------
    def migrate(self) -> None:
        """Each service's ``<service>.entrypoints.migrate``, in order, in ONE Python process: a
        process of its own per service started Python and imported SQLAlchemy and Alembic four
        times (most of a migration's second or so), for a few DDL statements each."""
        subprocess.run([sys.executable, "-c", _MIGRATE_ALL, *self.services], env=self.env(), check=True,
                       capture_output=True)

    def start_process(self, service: str, role: str, instance: int = 1) -> Proc:
        name = process_name(service, role, instance)
        log = self.var_dir / "logs" / f"{name}.log"
        env = self.env()
        if instance > 1:
            # one metrics port per role and host: the first instance serves it
            env[f"{service.upper()}_{role.upper()}_METRICS_PORT"] = "0"
        if role == "web":
            env.update(self.web_env(service, env))
        env = cpu_priority.role_env(role, env)  # consumers and relays below the requests' CPU
        command = self.command(service, role, env)
        out = open(log, "ab")
        popen = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT,
                                 stdin=subprocess.DEVNULL, start_new_session=True)
        proc = Proc(name, popen, log, service, role, instance)
        self.procs = [p for p in self.procs if p.name != name] + [proc]
        return proc

    def instances(self, role: str) -> int:
        if role == "relay":
            return self.relays
        if role == "worker":
            return self.day_workers or day_workers_setting(self.env())
        return 1

    def start(self) -> None:
        for svc in self.services:  # a bad setting stops the start before anything runs
            self.web_shape(svc)
        cpu_priority.background_nice(self.env())
        self.instances("worker")
        self.migrate()
        for svc in self.services:
            for role in ROLES[svc]:
                for instance in range(1, self.instances(role) + 1):
                    self.start_process(svc, role, instance)

    def wait_ready(self, timeout_s: float = 60.0) -> None:
        deadline = time.monotonic() + timeout_s
        pending = list(self.services)
        while pending and time.monotonic() < deadline:
            for proc in self.procs:
                if proc.popen.poll() is not None:
                    raise RuntimeError(f"{proc.name} exited ({proc.popen.returncode}):\n{self.tail(proc)}")
            for svc in list(pending):
                try:
                    if requests.get(f"{self.url(svc)}/readyz?strict=1", timeout=2).status_code == 200:
                        pending.remove(svc)
                except requests.RequestException:
                    pass
            if pending:
                time.sleep(0.1)
        if pending:
            raise RuntimeError(f"not ready after {timeout_s}s: {pending}")

    def process(self, name: str) -> Proc:
        return next(p for p in self.procs if p.name == name)

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        proc = self.process(name)
        try:
            os.killpg(proc.popen.pid, sig)
        except ProcessLookupError:
            pass
        proc.popen.wait(30)

    def stop(self, timeout_s: float = 20.0) -> None:
        for proc in self.procs:
            if proc.popen.poll() is None:
                try:
                    os.killpg(proc.popen.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + timeout_s
        for proc in self.procs:
            try:
                proc.popen.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(proc.popen.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                proc.popen.wait(10)
        self.procs = []

    @staticmethod
    def tail(proc: Proc, lines: int = 30) -> str:
        try:
            return "\n".join(proc.log.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return ""
