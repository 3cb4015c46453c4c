"""A Docker engine for the tests and ``make test``: the one that answers on ``DOCKER_HOST`` (or the
default socket), else one this module starts, as the harness starts PostgreSQL and Kafka.

Starting one needs Debian's ``docker.io`` (``dockerd``) and root. It runs as the project's
machines allow: ``--iptables=false --ip6tables=false`` (containers then use the host's network:
nothing here publishes ports through a bridge), overlay2, its pid file and exec root under
``/run/kinerja-docker``, images in the default data root (``/var/lib/docker``) so they stay
cached between runs. ``stop`` stops only an engine this module started.

    python -m kinerja.docker_engine start     # prints where it answers, or why there is none (exit 0 / 1)
    python -m kinerja.docker_engine stop
    python -m kinerja.docker_engine status

``KINERJA_TEST_NO_DOCKER`` set: no engine, whatever answers.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

DEFAULT_SOCKET = "unix:///var/run/docker.sock"
RUN_DIR = Path(os.environ.get("KINERJA_DOCKER_RUN_DIR", "/run/kinerja-docker"))


def docker_host() -> str:
    return os.environ.get("DOCKER_HOST") or DEFAULT_SOCKET


def docker_cmd(*args: str) -> list[str]:
    """A docker CLI command line aimed at ``docker_host()`` (DOCKER_HOST is also what the
    Python SDK, testcontainers and compose read)."""
    return ["docker", "-H", docker_host(), *args]


def answers(timeout_s: float = 10.0) -> bool:
    if not shutil.which("docker"):
        return False
    try:
        return subprocess.run(docker_cmd("info", "--format", "{{.ServerVersion}}"), capture_output=True,
                              timeout=timeout_s).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def image_present(name: str) -> bool:
    try:
        return subprocess.run(docker_cmd("image", "inspect", "--format", "{{.Id}}", name), capture_output=True,
                              timeout=30).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def compose_available() -> bool:
    """``docker compose`` (Compose v2, the CLI plugin) is installed."""
    try:
        return subprocess.run(["docker", "compose", "version"], capture_output=True, timeout=30).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


@dataclass
class EngineStatus:
    available: bool
    started_here: bool
    reason: str  # why there is none, or where it answers


def _socket_path(host: str) -> Path | None:
    return Path(host[len("unix://"):]) if host.startswith("unix://") else None


def start(timeout_s: float = 60.0) -> EngineStatus:
    """An engine that answers: the running one, else a dockerd started here (when possible)."""
    if os.environ.get("KINERJA_TEST_NO_DOCKER"):
        return EngineStatus(False, False, "KINERJA_TEST_NO_DOCKER is set")
    if not shutil.which("docker"):
        return EngineStatus(False, False, "no docker CLI (apt-get install docker.io)")
    host = docker_host()
    if answers():
        return EngineStatus(True, False, f"a Docker engine answers on {host}")
    dockerd = shutil.which("dockerd") or ("/usr/sbin/dockerd" if Path("/usr/sbin/dockerd").exists() else None)
    if dockerd is None:
        return EngineStatus(False, False, f"no Docker engine on {host} and no dockerd to start (apt-get install docker.io)")
    if os.geteuid() != 0:
        return EngineStatus(False, False, f"no Docker engine on {host}, and starting dockerd needs root")
    sock = _socket_path(host)
    if sock is None:
        return EngineStatus(False, False, f"no Docker engine answers on {host} (not a local socket: not starting one)")
    RUN_DIR.mkdir(parents=True, exist_ok=True)
    pid_file = RUN_DIR / "dockerd.pid"
    log = open(RUN_DIR / "dockerd.log", "ab")
    proc = subprocess.Popen(
        [dockerd, "-H", host, "--iptables=false", "--ip6tables=false", "--storage-driver=overlay2",
         "--pidfile", str(pid_file), "--exec-root", str(RUN_DIR / "exec")],
        stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    (RUN_DIR / "started-by-kinerja").write_text(f"{proc.pid} {host}\n")
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = (RUN_DIR / "dockerd.log").read_text(errors="replace").splitlines()[-15:]
            (RUN_DIR / "started-by-kinerja").unlink(missing_ok=True)
            return EngineStatus(False, False, "dockerd exited at start:\n" + "\n".join(tail))
        if answers(timeout_s=5):
            return EngineStatus(True, True, f"dockerd started on {host} (pid {proc.pid}, log {RUN_DIR / 'dockerd.log'})")
        time.sleep(0.5)
    stop()
    return EngineStatus(False, False, f"dockerd did not answer on {host} within {timeout_s:.0f} s")


def running_containers() -> list[str]:
    try:
        out = subprocess.run(docker_cmd("ps", "-q"), capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return []
    return out.stdout.split() if out.returncode == 0 else []


def stop(timeout_s: float = 60.0, only_if_idle: bool = False) -> bool:
    """Stop the dockerd this module started (True), or do nothing (False). ``only_if_idle``: leave
    it running while it runs containers (another test session may be using it)."""
    marker = RUN_DIR / "started-by-kinerja"
    try:
        pid = int(marker.read_text().split()[0])
    except (FileNotFoundError, ValueError, IndexError):
        return False
    if only_if_idle and running_containers():
        return False
    try:
        os.kill(pid, signal.SIGTERM)  # dockerd stops its containers (their stop timeouts) and exits
    except ProcessLookupError:
        marker.unlink(missing_ok=True)
        return False
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and _alive(pid):
        time.sleep(0.2)
    if _alive(pid):
        os.kill(pid, signal.SIGKILL)
    marker.unlink(missing_ok=True)
    return True


def _alive(pid: int) -> bool:
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done == pid:
            return False
    except ChildProcessError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except (FileNotFoundError, IndexError):
        return False


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    what = argv[0] if argv else "status"
    if what == "start":
        status = start()
        print(status.reason, file=sys.stderr if not status.available else sys.stdout)
        return 0 if status.available else 1
    if what == "stop":
        print("stopped the dockerd started by kinerja" if stop() else "no dockerd started by kinerja is running")
        return 0
    if what == "status":
        ok = answers()
        print(f"a Docker engine answers on {docker_host()}" if ok else f"no Docker engine answers on {docker_host()}")
        return 0 if ok else 1
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
