"""The processes ``make run`` starts, as the kernel schedules them: the consumers and relays run
below the web apps and the day worker (``kinerja.cpu_priority``), each in a session of its own,
so the lowered priority is that session's autogroup's as well as the process's."""
from __future__ import annotations

import os
from pathlib import Path

from kinerja.cpu_priority import BACKGROUND_ROLES
from kinerja.testing import wait_until


def _nice(pid: int) -> int:
    stat = Path(f"/proc/{pid}/stat").read_text()
    return int(stat[stat.rindex(")") + 2:].split()[16])  # field 19: nice


def _autogroup_nice(pid: int) -> str | None:
    path = Path(f"/proc/{pid}/autogroup")
    words = path.read_text().split() if path.exists() else []  # empty: in no autogroup
    return words[-1] if words else None


def test_consumers_and_relays_run_below_the_web_apps_and_the_day_worker(running_stack):
    stack = running_stack(services=("kehadiran", "penilaian"))
    base = os.nice(0)
    seen = set()
    for proc in stack.procs:
        pid = proc.popen.pid
        seen.add(proc.role)
        if proc.role in BACKGROUND_ROLES:
            # lowered first thing in its main, which the web apps' answering does not wait for
            wait_until(lambda: _nice(pid) == min(19, base + 10), 60, interval_s=0.05,
                       message=f"{proc.name} lowered its priority")
            assert _autogroup_nice(pid) in ("10", None), proc.name
        else:
            assert _nice(pid) == base, proc.name
            assert _autogroup_nice(pid) in ("0", None), proc.name
    assert {"web", "worker", "consumer", "relay"} <= seen
