"""bench_ingest's figures as Markdown: the table of its runs (one row a database, kind of run and
gunicorn shape) and the section it appends to BENCHMARKS.md, which says what was measured, how
and on what machine, so that a figure can be read without the script."""
from __future__ import annotations

from benchlib.figures import fmt_spread
from benchlib.machine import machine_line


def table(rows: list[dict]) -> list[str]:
    """The lines of the table of ``rows`` (``bench_ingest.bench``'s), the latencies of each row's
    median run."""
    lines = ["| database | what | gunicorn workers x threads | punches a request × in parallel | accepted/s | "
             "day summaries in the outbox after the last answer, s | applied by penilaian, s | "
             "arrival → day record, p50 / p99 ms (median run) | stdlib limit, /s (ratio) |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        mid = sorted(r["latency_ms"], key=lambda x: x["p50"] or 0)[len(r["latency_ms"]) // 2]
        lines.append(f"| {r['database']} | {r['kind']} ({r['punches']:,}) | {r['shape']} | "
                     f"{r['batch']} × {r['parallel']} | {fmt_spread(r)} | {fmt_spread(r['summaries_s'])} | "
                     f"{fmt_spread(r['applied_s'])} | {mid['p50']} / {mid['p99']} | "
                     f"{fmt_spread(r['limit'])} ({r['median'] / r['limit']['median']:.3f}) |")
    return lines


def section(result: dict, lines: list[str], argv: list[str]) -> str:
    """BENCHMARKS.md's section of a run (``result``: what ``bench_ingest`` wrote; ``argv``: its
    arguments, for the command line that repeats it)."""
    cmd = " ".join(["bench/bench_ingest.py", *argv])
    return "\n".join([
        f"\n## kehadiran ingest: punches accepted per second ({result['when']})\n",
        f"- machine: {machine_line(result['machine'])}; load average (1/5/15 min) before {result['load_before']}, "
        f"after {result['load_after']}",
        f"- command: `.venv/bin/python {cmd}`",
        f"- the real processes (kehadiran: gunicorn {' then '.join(result['shapes'])} workers x threads, day worker, "
        "consumer, relay; penilaian: consumer; a local broker); accepted = stored with its outbox event and its "
        "day's marker in one transaction, checked by counting rows after each run; then the seconds from the "
        "last answer until every ASN-day of the run is summarised in the outbox, and until penilaian has "
        f"applied them all. Median (min–max) of {result['runs']} runs, a fresh day each. The stdlib limit: the same "
        "client and requests against a minimal standard-library HTTP server (one process, threads, keep-alive) "
        "that stores nothing, in the same run.\n",
        *lines, ""])
