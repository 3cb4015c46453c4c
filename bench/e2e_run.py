"""One measured run of bench/e2e_latency.py (imported by it; not a script): which ASN-day each punch
hits, the punches sent open loop, and each streamed punch's latency read from the live streams."""
from __future__ import annotations

import time
from datetime import date

from benchlib import load, pct, pcts_ms
from benchlib.lag import LagMonitor
from benchlib.senders import send_open_loop
from benchlib.streams import StreamReaders

AGENCY = "bench-e2e"
STEP = 2.5  # TL1 0.5 + PSW4 2: a 07:45 arrival on a day that is over, with no departure


def nip_of(i: int) -> str:
    return f"19900101{i:010d}"


# -- stream clients (processes of their own) -------------------------------------------------------
def score_frame(nip: str, msg) -> tuple | None:
    """(nip, month, disiplin, arrival) of a ``score.updated`` frame about the stream's own ASN's month."""
    if msg.event == "score.updated" and msg.data:
        p = msg.data.get("payload") or {}
        if p.get("nip") == nip and p.get("disiplin") is not None and len(str(p.get("period", ""))) == 7:
            return nip, p["period"], float(p["disiplin"]), time.time()
    return None


class Streams(StreamReaders):
    def __init__(self, port: int, nips: list[str], processes: int = 1):
        super().__init__(port, nips, processes, agency=AGENCY, pick=score_frame)
        # (nip, period) -> list of (disiplin, arrival time), in arrival order
        self.by_month: dict[tuple[str, str], list[tuple[float, float]]] = {}

    def drain(self) -> None:
        for nip, period, disiplin, at in self.frames():
            self.by_month.setdefault((nip, period), []).append((disiplin, at))

    def arrival(self, nip: str, period: str, threshold: float) -> float | None:
        for disiplin, at in self.by_month.get((nip, period), ()):
            if disiplin <= threshold + 1e-6:
                return at
        return None


# -- sending ------------------------------------------------------------------------------------
class Plan:
    """Which ASN-day each punch hits: ASN round-robin, each ASN's next unused past workday."""

    def __init__(self, n_asn: int, sampled_every: int, days: list[date]):
        self.n_asn, self.every, self.days = n_asn, sampled_every, days
        self.next_day = [0] * n_asn
        self.cursor = 0
        self.count: dict[tuple[str, str], int] = {}  # (nip, month) -> punches so far

    def take(self, n: int) -> list[tuple[int, str, date, float | None]]:
        """n punches: (pin, nip, day, disiplin threshold for a streamed ASN else None)."""
        out = []
        for _ in range(n):
            i = self.cursor % self.n_asn
            self.cursor += 1
            k = self.next_day[i]
            if k >= len(self.days):
                raise SystemExit("out of distinct workdays: raise --asn")
            self.next_day[i] += 1
            day = self.days[k]
            nip = nip_of(i)
            threshold = None
            if i % self.every == 3:  # streamed (not an atasan: i % 20 != 0)
                key = (nip, day.strftime("%Y-%m"))
                self.count[key] = self.count.get(key, 0) + 1
                threshold = 100 - STEP * self.count[key]
            out.append((i + 1, nip, day, threshold))
        return out



def one_run(stack, streams: Streams, senders, plan: Plan, token: list[str], rate: int, seconds: float,
            connections: int, drain_s: float, batch: int, lagmon: LagMonitor | None = None,
            http_timeout: float = 900) -> dict:
    n = int(rate * seconds)
    run_began = time.time()
    punches = plan.take(n)
    load_before = load()
    out = send_open_loop(senders, stack.url("kehadiran"), token, punches, rate, connections, batch, http_timeout,
                         while_waiting=streams.drain)
    results = out["results"]
    sends = [r[0] for r in results]
    first, last_sent = min(sends), max(sends)
    last_response = max(r[1] for r in results)
    ok = sum(1 for r in results if r[2])
    failures = {}
    for r in results:
        if not r[2]:
            failures[str(r[3])] = failures.get(str(r[3]), 0) + 1
    sampled = [(i, p) for i, p in enumerate(punches) if p[3] is not None and results[i][2]]
    deadline = time.monotonic() + drain_s
    latencies: dict[int, float] = {}
    while time.monotonic() < deadline:
        streams.drain()
        for i, (_pin, nip, day, thr) in sampled:
            if i not in latencies:
                at = streams.arrival(nip, day.strftime("%Y-%m"), thr)
                if at is not None:
                    latencies[i] = at - results[i][0]
        if len(latencies) == len(sampled):
            break
        time.sleep(0.2)
    # let the little that is left (unstreamed ASN behind the last streamed one) settle: no frame for 3 s
    quiet_until = time.monotonic() + 3
    seen = sum(len(v) for v in streams.by_month.values())
    while time.monotonic() < min(quiet_until, deadline + 30):
        time.sleep(0.5)
        streams.drain()
        now_seen = sum(len(v) for v in streams.by_month.values())
        if now_seen != seen:
            seen, quiet_until = now_seen, time.monotonic() + 3
    lat = list(latencies.values())
    # percentiles over every streamed punch that was accepted: one not delivered within the drain
    # counts as slower than all that were, so a saturated run cannot report the fast few as its p50
    lat_all = lat + [float("inf")] * (len(sampled) - len(lat))
    latency_ms = {k: (None if v is None or v == float("inf") else round(1000 * v, 1))
                  for k, v in ((k, pct(lat_all, q)) for k, q in (("p50", .5), ("p95", .95), ("p99", .99), ("max", 1.)))}
    last_arrival = max((results[i][0] + v for i, v in latencies.items()), default=None)
    response_s = [r[1] - r[0] for r in results if r[2]]
    return {
        "offered_per_s": rate, "batch": batch, "punches": n, "accepted": ok, "failures": failures,
        "sent_per_s": round(n / max(last_sent - first, 1e-9), 1),
        "accepted_per_s": round(ok / max(last_response - first, 1e-9), 1),
        "max_sender_lag_s": round(out["max_sender_lag_s"], 3),
        "last_response_after_last_send_s": round(last_response - last_sent, 2),
        "http_response_ms": pcts_ms(response_s),
        "streamed": len(sampled), "delivered": len(lat),
        "latency_ms": latency_ms, "latency_delivered_ms": pcts_ms(lat), "drain_s": drain_s,
        "kept_up": len(lat) == len(sampled) and ok == n,
        "last_delivery_after_last_send_s": round(last_arrival - last_sent, 2) if last_arrival else None,
        "load_before": load_before, "load_after": load(),
        "consumer_lag": lagmon.summary(run_began, last_sent) if lagmon else {},
    }
