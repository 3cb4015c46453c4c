"""The Kafka ceiling's tables (``bench/kafka_ceiling.py``): its produce → consume latencies, and every
other benchmark's latest figure as a ratio to the ceiling."""
from __future__ import annotations

from benchlib.figures import fmt_spread
from benchlib.results import latest_throughputs, read_result


def latency_table(rates: list[dict]) -> list[str]:
    """One row per offered rate: the median (min–max) percentiles, each run's achieved rate and count."""
    lines = ["| offered msgs/s | p50 ms | p95 ms | p99 ms | achieved msgs/s | received |", "|---:|---|---|---|---:|---:|"]
    for r in rates:
        lines.append(f"| {r['offered_per_s']:,} | {fmt_spread(r['p50'])} | {fmt_spread(r['p95'])} | {fmt_spread(r['p99'])} | "
                     f"{', '.join(str(x['achieved_per_s']) for x in r['runs'])} | "
                     f"{', '.join(str(x['received']) + '/' + str(x['sent']) for x in r['runs'])} |")
    return lines


def throughput_ratios(ceiling: float) -> list[str]:
    """The other benchmarks' latest throughputs, each as a ratio to ``ceiling``."""
    ratios = ["| figure | per s | ratio to the ceiling | source |", "|---|---:|---:|---|"]
    for what, value, src in latest_throughputs():
        ratios.append(f"| {what} | {value:,.0f} | {value / ceiling:.3f} ({100 * value / ceiling:.1f} %) | {src} |")
    return ratios


def latency_ratios(rates: list[dict]) -> list[str]:
    """The end-to-end benchmark's latest percentiles against Kafka's own at the same offered rate."""
    e2e = read_result("e2e_latency")
    lat_ratio = []
    if e2e:
        for r in e2e["rates"]:
            k = next((x for x in rates if x["offered_per_s"] == r["offered_per_s"]), None)
            if k and r["p50"]["median"] is not None and k["p50"]["median"]:
                lat_ratio.append(f"- at {r['offered_per_s']:,}/s offered{' (' + r['database'] + ')' if 'database' in r else ''}: end-to-end p50 {r['p50']['median']:,} ms vs Kafka "
                                 f"{k['p50']['median']} ms ({r['p50']['median'] / k['p50']['median']:.0f}×); p99 "
                                 f"{r['p99']['median']:,} ms vs {k['p99']['median']} ms "
                                 f"({r['p99']['median'] / max(k['p99']['median'], 0.1):.0f}×)")
    return lat_ratio
