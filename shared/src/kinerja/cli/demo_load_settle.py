"""The end of the demo load: waiting until the pipeline has settled (every consumer group read
its topics to the end, no topic growing), so the scores and inboxes show the history. Apart from
``demo_load`` because it watches Kafka, not the services' doors."""
from __future__ import annotations

import time

from kinerja.cli.demo_load_client import DemoError, Services


def wait_settled(svc: Services, groups: dict[str, tuple[str, ...]], quiet_s: float = 1.5,
                 timeout_s: float = 300.0) -> float:
    """Until every consumer group has read its topics to the end and no topic has grown for
    ``quiet_s``: the relays have published what the outboxes held and the consumers applied it.
    Returns the seconds waited."""
    from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition

    from kinerja.messaging.topics import topic

    began = time.monotonic()
    admin = KafkaAdminClient(bootstrap_servers=svc.kafka_bootstrap, client_id="kinerja-demo")
    probe = KafkaConsumer(bootstrap_servers=svc.kafka_bootstrap, client_id="kinerja-demo-probe",
                          enable_auto_commit=False)
    try:
        names = sorted({topic(t, svc.topic_prefix) for ts in groups.values() for t in ts})
        parts = [TopicPartition(n, p) for n in names for p in sorted(probe.partitions_for_topic(n) or ())]
        last_ends, quiet_since = None, None
        while True:
            ends = probe.end_offsets(parts)
            lag = 0
            for group, ts in groups.items():
                wanted = {topic(t, svc.topic_prefix) for t in ts}
                name = topic(group, svc.topic_prefix)
                done = admin.list_group_offsets(name).get(name, {})
                for tp in parts:
                    if tp.topic in wanted:
                        committed = done.get(tp)
                        lag += ends[tp] - (committed.offset if committed is not None and committed.offset >= 0 else 0)
            now = time.monotonic()
            if lag == 0 and ends == last_ends:
                quiet_since = quiet_since or now
                if now - quiet_since >= quiet_s:
                    return now - began
            else:
                quiet_since = None
            if now - began > timeout_s:
                raise DemoError(f"the pipeline did not settle in {timeout_s:.0f} s (lag {lag})")
            last_ends = ends
            time.sleep(0.25)
    finally:
        probe.close()
        admin.close()


CONSUMERS = {"penilaian": ("kehadiran.v1", "tugas.v1", "pegawai.v1", "penilaian.v1"),
             "notifikasi": ("pegawai.v1", "penilaian.v1", "tugas.v1", "kehadiran.v1")}
