"""Where the backlog sits: each consumer group's lag (end offset − committed) on the system's topics,
sampled once a second."""
from __future__ import annotations

import threading
import time

from kafka import KafkaAdminClient, KafkaConsumer


class LagMonitor:
    """Polls every consumer group's lag (end offset − committed) on the service topics; after a run
    says when each group had caught up (lag 0) and its greatest lag."""

    def __init__(self, bootstrap: str, prefix: str):
        self.admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="bench-lag")
        self.offsets = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None, client_id="bench-lag-ends")
        self.samples: list[tuple[float, dict[str, int]]] = []
        self.prefix = prefix + "."
        self.stop_flag = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def lags(self) -> dict[str, int]:
        out = {}
        groups = [g.get("group_id") or g.get("groupId") for g in self.admin.list_groups()]
        groups = [g[len(self.prefix):] for g in groups if g and g.startswith(self.prefix)]
        if not groups:
            return out
        for group, committed in self.admin.list_group_offsets([self.prefix + g for g in groups]).items():
            group = group[len(self.prefix):]
            tps = [tp for tp in committed if not tp.topic.endswith(".dlq")]
            if not tps:
                continue
            ends = self.offsets.end_offsets(tps)
            out[group] = sum(max(0, ends[tp] - committed[tp].offset) for tp in tps)
        return out

    def _run(self) -> None:
        while not self.stop_flag.is_set():
            try:
                self.samples.append((time.time(), self.lags()))
            except Exception:  # noqa: BLE001 - a sample missed is fine
                pass
            self.stop_flag.wait(1.0)

    def summary(self, since: float, last_send: float) -> dict[str, dict]:
        out: dict[str, dict] = {}
        for at, lags in self.samples:
            if at < since:
                continue
            for g, lag in lags.items():
                d = out.setdefault(g, {"max_lag": 0, "caught_up_after_last_send_s": None})
                d["max_lag"] = max(d["max_lag"], lag)
                if at >= last_send and "lag_at_last_send" not in d:
                    d["lag_at_last_send"], d["_t0"] = lag, at
                d["lag_at_end"], d["_t1"] = lag, at
                if lag > 0:
                    d["caught_up_after_last_send_s"] = None
                elif d["caught_up_after_last_send_s"] is None and at >= last_send:
                    d["caught_up_after_last_send_s"] = round(at - last_send, 1)
        for d in out.values():
            t0, t1 = d.pop("_t0", None), d.pop("_t1", None)
            if d.get("lag_at_end") and t0 is not None and t1 > t0 and d["lag_at_last_send"] > d["lag_at_end"]:
                rate = (d["lag_at_last_send"] - d["lag_at_end"]) / (t1 - t0)
                d["drain_msgs_per_s"] = round(rate, 1)
                d["projected_caught_up_after_last_send_s"] = round(t1 - last_send + d["lag_at_end"] / rate)
        return out

    def close(self) -> None:
        self.stop_flag.set()
        self.thread.join(5)
        self.admin.close()
        self.offsets.close()


def caught_up(lagmon: LagMonitor, timeout_s: float) -> bool:
    """True once every consumer group of the system is at lag 0 (polled, up to ``timeout_s``)."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            lags = lagmon.lags()
            if lags and not any(lags.values()):
                return True
        except Exception:  # noqa: BLE001 - the broker is busy; ask again
            pass
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.5)
