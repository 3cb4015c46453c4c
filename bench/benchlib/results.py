"""Where the figures go: JSON under ``artifacts/bench/`` (what ``kafka_ceiling.py`` turns into ratios)
and a section appended to BENCHMARKS.md; and the other benchmarks' latest figures read back."""
from __future__ import annotations

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "artifacts" / "bench"


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


def latest_section(text: str, heading_start: str) -> str | None:
    parts = re.split(r"\n(?=## )", text)
    found = [p for p in parts if p.startswith(heading_start)]
    return found[-1] if found else None


def latest_throughputs() -> list[tuple[str, float, str]]:
    """(what, figure per second, where it came from) of the other benchmarks' latest throughput figures."""
    out: list[tuple[str, float, str]] = []
    bench_md = ROOT / "BENCHMARKS.md"
    text = bench_md.read_text() if bench_md.exists() else ""
    ingest = read_result("bench_ingest")
    for r in (ingest or {}).get("rows", []):
        out.append((f"ingest {r['kind']}/s ({r['database']}, {r['batch']} per request)", r["median"],
                    "artifacts/bench/bench_ingest.json"))
    notif = read_result("notifikasi_apply")
    for r in (notif or {}).get("rows", []):
        out.append((f"notifikasi score updates/s applied ({r['database']}, batch {r['batch']})",
                    r["score_updates_per_s"]["median"], "artifacts/bench/notifikasi_apply.json"))
    section = latest_section(text, "## penilaian: events applied")
    if section:
        for line in section.splitlines():
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            num = lambda c: float(c.split(" ")[0].replace(",", ""))  # noqa: E731
            if len(cells) == 5 and cells[0] in ("sqlite", "postgresql"):  # one consumer (before issue 13)
                out.append((f"penilaian live events applied/s ({cells[0]})", num(cells[2]), "BENCHMARKS.md"))
                out.append((f"penilaian rebuild events applied/s ({cells[0]})", num(cells[4]), "BENCHMARKS.md"))
            elif len(cells) == 10 and cells[0] in ("sqlite", "postgresql"):  # database, consumers, ...
                out.append((f"penilaian live events applied/s ({cells[0]}, {cells[1]} consumer(s))", num(cells[2]),
                            "BENCHMARKS.md"))
                if cells[9] not in ("–", ""):
                    out.append((f"penilaian rebuild events applied/s ({cells[0]})", num(cells[9]), "BENCHMARKS.md"))
    e2e = read_result("e2e_latency")
    if e2e:
        best = max(e2e["rates"], key=lambda r: r["achieved_accepted_per_s"]["median"])
        out.append((f"end-to-end punches/s accepted at {best['offered_per_s']}/s offered"
                    + (f" ({best['database']})" if "database" in best else ""),
                    best["achieved_accepted_per_s"]["median"], "artifacts/bench/e2e_latency.json"))
    growth = read_result("growth")
    if growth:
        for r in growth.get("rebuild", []):
            if r.get("measured"):
                out.append((f"rebuild of {r['events']:,} events (events/s)", r["events_per_s"],
                            "artifacts/bench/growth.json"))
    return out
