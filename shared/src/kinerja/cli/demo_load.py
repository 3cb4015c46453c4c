"""Carry out the demo's plan (``demo_history.make_plan``) through the services' own doors, never
their tables: attendance through kehadiran (its calendar and leave API, and the two registered
terminals pushing their logs with the ADMS protocol, device times and all), work through tugas's
own handlers at the times the plan gives (``python -m tugas.entrypoints.history``), ratings,
training and the organisation's predikat through penilaian's API. Everything downstream (day
records, scores, predikat, inboxes) comes from the events those produce.

Loading again adds nothing: punches are known by (device, PIN, time), leave and holidays are
upserts whose days recompute to the same record, tugas skips what it has, and what goes to
penilaian is only sent when it is not there yet.

This module runs the parts side by side and starts tugas's; each HTTP service's part is a module
of its own (``demo_load_kehadiran``, ``demo_load_penilaian``), their doors are
``demo_load_client``, and the wait for the pipeline to settle is ``demo_load_settle``."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable

from kinerja.cli.demo_history import Plan
from kinerja.cli.demo_load_client import Client, DemoError, Services
from kinerja.cli.demo_load_kehadiran import load_attendance
from kinerja.cli.demo_load_penilaian import load_appraisal
from kinerja.cli.demo_load_settle import CONSUMERS, wait_settled


# -- tugas: its own handlers in a process of its own, beside the other services' parts ---------
def start_work_history(plan: Plan, var_dir: Path) -> subprocess.Popen:
    """tugas loads the work history with its own handlers (SKP, tasks, feedback, innovations) at
    the plan's times; it runs beside the attendance upload."""
    path = var_dir / "demo-history.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(plan.history))
    return subprocess.Popen([sys.executable, "-m", "tugas.entrypoints.history", str(path)], env=dict(os.environ),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish_work_history(proc: subprocess.Popen) -> Counter:
    out, err = proc.communicate(timeout=600)
    if proc.returncode != 0:
        raise DemoError(f"tugas refused the work history ({proc.returncode}): {err.strip()[-800:]}")
    return Counter(json.loads(out.strip().splitlines()[-1]))


def load_plan(plan: Plan, svc: Services, *, admin_nip: str, say: Callable[[str], None] = lambda m: None) -> dict:
    """Everything of the plan, the three services' parts side by side (each service has its own
    database); returns counts and seconds per part."""
    began = time.monotonic()
    c = Client(svc)
    report: dict = {}
    work = start_work_history(plan, svc.var_dir)

    def timed(name: str, fn: Callable[[], Counter]) -> None:
        t = time.monotonic()
        report[name] = dict(fn())
        report[f"{name}_s"] = round(time.monotonic() - t, 1)

    try:
        with ThreadPoolExecutor(max_workers=2) as pool:
            parts = [pool.submit(timed, "kehadiran", lambda: load_attendance(c, plan, admin_nip)),
                     pool.submit(timed, "penilaian", lambda: load_appraisal(c, plan, admin_nip))]
            timed("tugas", lambda: finish_work_history(work))
            for part in parts:
                part.result()
    finally:
        if work.poll() is None:
            work.kill()
            work.wait()
    for name, label in (("kehadiran", "attendance (kehadiran)"), ("tugas", "work (tugas)"),
                        ("penilaian", "appraisal (penilaian)")):
        say(f"  {label}: {', '.join(f'{v} {k}' for k, v in report[name].items())} in {report[name + '_s']} s")
    report["settle_s"] = round(wait_settled(svc, CONSUMERS), 1)
    report["total_s"] = round(time.monotonic() - began, 1)
    say(f"  scores and inboxes caught up {report['settle_s']} s later; the history took {report['total_s']} s")
    return report
