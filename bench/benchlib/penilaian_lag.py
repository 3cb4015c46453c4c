"""A penilaian consumer group's lag (end offset − committed, a partition it never committed counting
from 0) over every partition of penilaian's topics, as the penilaian benchmarks wait on it. Apart
from ``benchlib.lag`` (every group of a running system, sampled in a thread): these benchmarks ask
one group, at their own moments."""
from __future__ import annotations

import time

from kinerja.messaging.topics import topic
from penilaian.entrypoints.consumer import TOPICS


class GroupLag:
    """``ends_once``: the end offsets read once, here (nothing is published during the run:
    ``penilaian_apply.py``); else read again at each call (the stream is published meanwhile:
    ``penilaian_drain_cpu.py``)."""

    def __init__(self, bootstrap: str, prefix: str, group: str, *, ends_once: bool = False):
        from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition

        self.group = group
        self.admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="bench-lag")
        self.probe = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None, client_id="bench-lag-ends")
        self.ends = None
        try:
            self.tps = [TopicPartition(topic(t, prefix), p) for t in TOPICS
                        for p in sorted(self.probe.partitions_for_topic(topic(t, prefix)) or ())]
            if ends_once:
                self.ends = self.probe.end_offsets(self.tps)
        finally:
            if ends_once:
                self.probe.close()
                self.probe = None

    def __call__(self) -> int | None:
        """The lag, or None while the broker cannot say (its group coordinator is starting)."""
        from kafka.errors import KafkaError

        try:
            ends = self.ends if self.ends is not None else self.probe.end_offsets(self.tps)
            committed = self.admin.list_group_offsets({self.group: None}).get(self.group, {})
        except KafkaError:
            return None
        return sum(max(0, end - (committed[tp].offset if tp in committed and committed[tp].offset >= 0 else 0))
                   for tp, end in ends.items())

    def wait_zero(self, proc, timeout_s: float = 600) -> None:
        """Until the lag is 0; ends the benchmark if ``proc`` (the consumer) exits or it takes longer."""
        deadline = time.monotonic() + timeout_s
        while True:
            if proc.poll() is not None:
                raise SystemExit(f"consumer exited {proc.returncode}")
            if self() == 0:
                return
            if time.monotonic() > deadline:
                raise SystemExit("no drain")
            time.sleep(0.1)

    def close(self) -> None:
        self.admin.close()
        if self.probe is not None:
            self.probe.close()
