"""penilaian's consumer as the benchmarks run it: ``python -m penilaian.entrypoints.consumer``
processes of their own (a session each, so a stop reaches the whole process group), their
environment, and their stop (SIGTERM, then SIGKILL after a minute; several consumers are all sent
SIGTERM first, then reaped). Shared by ``penilaian_apply.py`` and ``penilaian_drain_cpu.py``,
which start and stop them the same way."""
from __future__ import annotations

import os
import signal
import subprocess
import sys

CONSUMER = [sys.executable, "-m", "penilaian.entrypoints.consumer"]


def consumer_env(url: str, bootstrap: str, prefix: str, metrics_port: int, **more: str) -> dict[str, str]:
    """This process's environment with the consumer's database, broker, topic prefix and metrics
    port, and ``more`` on top."""
    return {**os.environ, "PENILAIAN_DATABASE_URL": url, "KINERJA_KAFKA_BOOTSTRAP": bootstrap,
            "KINERJA_TOPIC_PREFIX": prefix, "PENILAIAN_CONSUMER_METRICS_PORT": str(metrics_port), **more}


def spawn(cmd: list[str], env: dict[str, str], log) -> subprocess.Popen:
    """``cmd`` in a session of its own, its output into ``log`` (a file open for writing)."""
    return subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            start_new_session=True)


def terminate(p: subprocess.Popen) -> None:
    """SIGTERM to ``p``'s process group, if it still runs: the consumer commits and stops."""
    if p.poll() is None:
        os.killpg(p.pid, signal.SIGTERM)


def reap(p: subprocess.Popen) -> None:
    """``p`` waited for, SIGKILLed (its group) if it is not gone within a minute."""
    try:
        p.wait(60)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        p.wait(10)


def stop(p: subprocess.Popen) -> None:
    terminate(p)
    reap(p)
