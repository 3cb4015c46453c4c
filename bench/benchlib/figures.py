"""Percentiles of a run, and the median (min–max) over the runs as the tables print it."""
from __future__ import annotations

import statistics


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


def fmt_median(values: list[float]) -> str:
    """"median (min–max)" of the runs' figures, whole numbers."""
    med = statistics.median(values)
    return f"{med:,.0f} ({min(values):,.0f}–{max(values):,.0f})"


def lat_spread(values: list[float | None]) -> dict:
    """median and spread of one percentile over the runs; None (not delivered within the drain) ranks
    above every figure, and the median of runs where most did not arrive is None."""
    ranked = sorted(values, key=lambda v: (v is None, v or 0))
    median = ranked[(len(ranked) - 1) // 2] if len(ranked) % 2 else None
    if len(ranked) % 2 == 0:
        a, b = ranked[len(ranked) // 2 - 1], ranked[len(ranked) // 2]
        median = None if a is None or b is None else round((a + b) / 2, 1)
    return {"median": median, "min": ranked[0], "max": ranked[-1], "runs": values}


def fmt_lat(s: dict) -> str:
    f = lambda v: "not delivered" if v is None else f"{v:,}"  # noqa: E731
    return f"{f(s['median'])} ({f(s['min'])}–{f(s['max'])})"
