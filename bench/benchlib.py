"""Helpers shared by bench/e2e_latency.py, bench/kafka_ceiling.py and bench/growth.py: the machine
description, load averages, percentiles, a broker and a PostgreSQL server of their own, and the
JSON results under ``artifacts/bench/`` that ``kafka_ceiling.py`` turns into ratios."""
from __future__ import annotations

import json
import os
import platform
import shutil
import statistics
import tempfile
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "artifacts" / "bench"


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


def pct(values: list[float], p: float) -> float | None:
    if not values:
        return None
    v = sorted(values)
    return v[min(len(v) - 1, int(round(p * (len(v) - 1))))]


def pcts_ms(values_s: list[float]) -> dict:
    """p50 / p95 / p99 / max in milliseconds of a list of seconds."""
    return {k: (round(1000 * pct(values_s, q), 1) if values_s else None)
            for k, q in (("p50", 0.50), ("p95", 0.95), ("p99", 0.99), ("max", 1.0))}


def spread(values: list[float], digits: int = 0) -> dict:
    """median, min, max and every run's figure."""
    r = (lambda x: round(x, digits)) if digits else (lambda x: round(x))
    return {"median": r(statistics.median(values)), "min": r(min(values)), "max": r(max(values)),
            "runs": [r(v) for v in values]}


def fmt_spread(s: dict, unit: str = "") -> str:
    return f"{s['median']:,}{unit} ({s['min']:,}–{s['max']:,})"


def write_result(name: str, data: dict) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(data, indent=2, default=str) + "\n")
    return path


def read_result(name: str) -> dict | None:
    path = RESULTS / f"{name}.json"
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def append_markdown(path: Path, text: str) -> None:
    """Append a section (BENCHMARKS.md is shared: append only)."""
    if not path.exists():
        path.write_text("# Benchmarks\n\nFigures measured on the machine named with each entry; the command reproduces them.\n")
    with path.open("a") as f:
        f.write(text if text.startswith("\n") else "\n" + text)
    print(f"appended to {path}")


@contextmanager
def own_broker(partitions: int | None = None) -> Iterator[str]:
    """``KINERJA_BENCH_KAFKA_BOOTSTRAP`` if set, else a LocalBroker on free ports with a temp data
    dir (its default partitions: ``partitions``, else ``KINERJA_PARTITIONS``)."""
    env = os.environ.get("KINERJA_BENCH_KAFKA_BOOTSTRAP")
    if env:
        yield env
        return
    from kinerja.localbroker import LocalBroker, find_kafka_home, free_port

    data_dir = Path(tempfile.mkdtemp(prefix="bench-kafka-"))
    broker = LocalBroker(home=find_kafka_home(), data_dir=data_dir, port=free_port(), controller_port=free_port(),
                         partitions=partitions)
    broker.start(create_topics=False)
    try:
        yield broker.bootstrap
    finally:
        broker.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


@contextmanager
def own_postgres() -> Iterator[str]:
    """A PostgreSQL server URL: ``KINERJA_TEST_POSTGRES_URL`` if set, else a throwaway cluster."""
    env = os.environ.get("KINERJA_TEST_POSTGRES_URL")
    if env:
        yield env
        return
    from kinerja.testing import ThrowawayPostgres

    pg = ThrowawayPostgres()
    url = pg.start()
    try:
        yield url
    finally:
        pg.stop()
