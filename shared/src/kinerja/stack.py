"""The whole system on one machine as real processes: per service its migrations, its web app
under gunicorn, its consumer and its relay (``relays`` of them: they share the outbox, see
``kinerja.messaging.relay``). ``make run`` and the end-to-end tests both use it.

This is orchestration only: it knows each service's commands, none of its code.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

from kinerja.config import DEFAULT_PORTS

SERVICES = ("kehadiran", "tugas", "penilaian", "notifikasi")
# notifikasi publishes nothing, so it has no relay; it delivers webhooks and e-mail instead
# kehadiran's day worker recomputes the days its requests mark (kehadiran.entrypoints.worker)
ROLES = {"kehadiran": ("web", "consumer", "worker", "relay"), "tugas": ("web", "consumer", "relay"),
         "penilaian": ("web", "consumer", "relay"),
         "notifikasi": ("web", "consumer", "webhooks", "mailer")}


def day_workers_setting(env) -> int:
    """``KEHADIRAN_DAY_WORKERS``: how many kehadiran day worker processes to run (default 1)."""
    raw = env.get("KEHADIRAN_DAY_WORKERS") or "1"
    try:
        count = int(raw)
    except ValueError:
        raise ValueError(f"KEHADIRAN_DAY_WORKERS={raw!r} is not a whole number") from None
    if not 1 <= count <= 64:
        raise ValueError(f"KEHADIRAN_DAY_WORKERS={count} is outside 1..64")
    return count


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
    web_workers: int = 1
    web_threads: int = 16
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

    def command(self, service: str, role: str) -> list[str]:
        py = sys.executable
        if role == "web" and service == "notifikasi":
            # its own gunicorn settings: stream threads, tokens kept out of the access log
            return [py, "-m", "gunicorn", "-c", "python:notifikasi.entrypoints.gunicorn_conf",
                    "--bind", f"127.0.0.1:{self.ports[service]}", "--workers", str(self.web_workers),
                    f"{service}.entrypoints.app:create_app()"]
        if role == "web":
            threads = self.web_threads if service != "notifikasi" else max(self.web_threads, 64)
            return [py, "-m", "gunicorn", "--bind", f"127.0.0.1:{self.ports[service]}",
                    "--workers", str(self.web_workers), "--worker-class", "gthread", "--threads", str(threads),
                    "--graceful-timeout", "5", "--timeout", "60", "--access-logfile", "-",
                    # a token in a query string (?access_token=) never reaches the log
                    "--logger-class", "kinerja.accesslog.RedactingLogger",
                    f"{service}.entrypoints.app:create_app()"]
        return [py, "-m", f"{service}.entrypoints.{role}"]

    # -- lifecycle ---------------------------------------------------------------------------
    def migrate(self) -> None:
        for svc in self.services:
            subprocess.run([sys.executable, "-m", f"{svc}.entrypoints.migrate"], env=self.env(), check=True,
                           capture_output=True)

    def start_process(self, service: str, role: str, instance: int = 1) -> Proc:
        name = process_name(service, role, instance)
        log = self.var_dir / "logs" / f"{name}.log"
        out = open(log, "ab")
        env = self.env()
        if instance > 1:
            # one metrics port per role and host: the first instance serves it
            env[f"{service.upper()}_{role.upper()}_METRICS_PORT"] = "0"
        popen = subprocess.Popen(self.command(service, role), env=env, stdout=out, stderr=subprocess.STDOUT,
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
