"""The machine a figure was measured on, its load average, and the time."""
from __future__ import annotations

import os
import platform
from datetime import datetime, timezone
from pathlib import Path


def machine() -> dict:
    cpu, mem_gib = platform.processor() or "?", 0.0
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem_gib = int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "ram_gib": round(mem_gib), "os": f"{platform.system()} {platform.release()}",
            "python": platform.python_version()}


def machine_line(m: dict | None = None) -> str:
    m = m or machine()
    return f"{m['cpu']}, {m['cores']} CPUs, {m['ram_gib']} GiB RAM, {m['os']}, Python {m['python']}"


def load() -> str:
    a, b, c = os.getloadavg()
    return f"{a:.1f} / {b:.1f} / {c:.1f}"


def now_utc() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
