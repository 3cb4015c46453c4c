"""CPU seconds spent by each part of the system over a window, read from ``/proc``: each process
of a ``kinerja.stack.Stack`` with its descendants (gunicorn's workers), PostgreSQL's processes,
the Kafka broker, and the benchmark's own client processes (senders, stream readers). Per punch
these are load-independent enough to say where a punch's CPU goes on two cores, which a latency
figure cannot."""
from __future__ import annotations

import os
from pathlib import Path

_TICK = os.sysconf("SC_CLK_TCK")


def _procs() -> dict[int, tuple[int, str, float]]:
    """pid → (parent pid, command name, CPU seconds: user + system)."""
    out = {}
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            raw = (d / "stat").read_text()
        except OSError:
            continue
        comm = raw[raw.index("(") + 1:raw.rindex(")")]
        f = raw[raw.rindex(")") + 2:].split()
        out[int(d.name)] = (int(f[1]), comm, (int(f[11]) + int(f[12])) / _TICK)
    return out


def snapshot(stack_pids: dict[int, str]) -> dict[str, float]:
    """CPU seconds so far per part: a stack process's name for it and its descendants,
    ``postgresql``, ``kafka broker``, and ``benchmark client`` for the rest of this process's tree."""
    procs = _procs()
    me = os.getpid()
    parts: dict[str, float] = {}
    for pid, (_, comm, cpu) in procs.items():
        part, p, seen = None, pid, 0
        while p in procs and seen < 64:
            if p in stack_pids:
                part = stack_pids[p]
                break
            if p == me:
                part = "benchmark client"
                break
            p, seen = procs[p][0], seen + 1
        if comm == "postgres" or comm.startswith("postgres"):
            part = "postgresql"
        elif comm == "java":
            part = "kafka broker"
        if part is not None:
            parts[part] = parts.get(part, 0.0) + cpu
    return parts


def stack_pids(stack) -> dict[int, str]:
    return {p.popen.pid: p.name for p in stack.procs if p.popen.poll() is None}


def report(before: dict[str, float], after: dict[str, float], punches: int, wall_s: float) -> str:
    """CPU ms per punch per part, and the share of the machine's cores over the window."""
    cores = os.cpu_count() or 1
    rows = sorted(((after[k] - before.get(k, 0.0), k) for k in after), reverse=True)
    total = sum(d for d, _ in rows)
    per = (lambda d: f"{1000 * d / punches:10.2f}") if punches else (lambda d: f"{'-':>10}")
    lines = [f"CPU over the run ({wall_s:.0f} s, {punches} punches; {cores} cores = {cores * wall_s:.0f} CPU s):",
             f"{'part':<28}{'CPU s':>8}{'ms/punch':>10}{'of the cores':>14}"]
    for d, k in rows:
        if d >= 0.005:
            lines.append(f"{k:<28}{d:8.1f}{per(d)}{100 * d / (cores * wall_s):13.1f}%")
    lines.append(f"{'all':<28}{total:8.1f}{per(total)}{100 * total / (cores * wall_s):13.1f}%")
    return "\n".join(lines)
