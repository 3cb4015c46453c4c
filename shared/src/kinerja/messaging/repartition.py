"""Adding partitions to running topics without breaking per-NIP order (``kinerja topics grow``).

A record's partition is murmur2(key) mod the partition count, so adding partitions moves most NIPs
to another partition: a NIP's events published before the change stay on its old partition, those
after go to the new one, and a consumer that still has old ones to read could apply a later event
before an earlier one. That cannot happen if, while the count changes, nothing is published and
every consumer group has read everything published before: then each NIP's old events are all
applied before the first of its new ones exists. Hence the order of the steps in deploy/README.md
("Adding partitions to a running topic"): stop the relays, let every group drain, grow, then start
the relays (their producers learn the new count when they start).

``grow`` checks what it can see before it changes anything: the count only goes up, the topic is
not the compacted roster, every consumer group that reads the topic is at its end (lag 0), and
the ends do not move for ``quiet_s`` (nothing publishes). It cannot see a relay that runs but has
nothing to send: stopping the relays stays the operator's first step.

``pegawai.v1`` is never grown: it is compacted (the latest record per NIP), and compaction works
per partition, so after a change a NIP's old record would stay on its old partition beside the new
one, and a service rebuilt from offset 0 could read the old one last. It is light (a record per
roster change), so its count from creation is enough; the consumers that read only it (kehadiran's,
tugas's) scale up to its partitions.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition

from kinerja.messaging import topics

GROWABLE = (topics.KEHADIRAN, topics.TUGAS, topics.PENILAIAN)


class NotDrained(RuntimeError):
    """The topics are not safe to grow now; the message says what still has to happen."""


@dataclass
class GrowReport:
    before: dict[str, int]
    after: dict[str, int] = field(default_factory=dict)
    grown: list[str] = field(default_factory=list)


def _admin(bootstrap: str) -> KafkaAdminClient:
    return KafkaAdminClient(bootstrap_servers=bootstrap, client_id="kinerja-topics", request_timeout_ms=15000)


def partition_counts(admin: KafkaAdminClient, names: list[str]) -> dict[str, int]:
    out = {}
    for t in admin.describe_topics(names):
        if t.get("error_code", 0) != 0 or not t.get("partitions"):
            raise NotDrained(f"topic {t.get('name')} does not exist (kinerja topics create makes it)")
        out[t["name"]] = len(t["partitions"])
    return out


def end_offsets(bootstrap: str, counts: dict[str, int]) -> dict[TopicPartition, int]:
    probe = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None, client_id="kinerja-topics-ends")
    try:
        return probe.end_offsets([TopicPartition(n, p) for n, c in counts.items() for p in range(c)])
    finally:
        probe.close()


def groups_behind(admin: KafkaAdminClient, ends: dict[TopicPartition, int]) -> dict[str, int]:
    """Every consumer group that has committed offsets on these partitions, with how many records it
    has still to read (a partition it never committed counts from offset 0: it reads from the
    earliest). Groups at their end are left out."""
    names = {tp.topic for tp in ends}
    groups = [g.get("group_id") or g.get("groupId") for g in admin.list_groups()]
    groups = [g for g in groups if g]
    behind: dict[str, int] = {}
    if not groups:
        return behind
    for group, committed in admin.list_group_offsets({g: None for g in groups}).items():
        reads = {tp.topic for tp in committed} & names
        lag = 0
        for tp, end in ends.items():
            if tp.topic not in reads:
                continue
            at = committed.get(tp)
            position = at.offset if at is not None and at.offset >= 0 else 0
            lag += max(0, end - position)
        if lag:
            behind[group] = lag
    return behind


def grow(bootstrap: str, prefix: str, partitions: int, bases: tuple[str, ...] = GROWABLE,
         quiet_s: float = 5.0) -> GrowReport:
    """Raise ``bases`` (with ``prefix``) to ``partitions`` each, or raise ``NotDrained`` saying why
    not. Topics already at that count are left alone, so a run that was interrupted can be repeated."""
    refused = [b for b in bases if b not in GROWABLE]
    if refused:
        raise NotDrained(f"{', '.join(refused)}: only {', '.join(GROWABLE)} are grown "
                         f"({topics.PEGAWAI} is compacted: see kinerja.messaging.repartition)")
    names = [topics.topic(b, prefix) for b in bases]
    admin = _admin(bootstrap)
    try:
        counts = partition_counts(admin, names)
        report = GrowReport(before=dict(counts))
        lower = {n: c for n, c in counts.items() if c > partitions}
        if lower:
            raise NotDrained(f"partitions can only be added: {lower} already have more than {partitions}")
        todo = {n: c for n, c in counts.items() if c < partitions}
        if not todo:
            report.after = dict(counts)
            return report
        ends = end_offsets(bootstrap, todo)
        behind = groups_behind(admin, ends)
        if behind:
            raise NotDrained(f"consumer groups still have records to read on {', '.join(sorted(todo))}: {behind}; "
                             "wait until every group is at lag 0 (relays stopped, consumers running)")
        time.sleep(quiet_s)  # nothing may publish while the count changes
        moved = {tp: e for tp, e in end_offsets(bootstrap, todo).items() if e != ends.get(tp)}
        if moved:
            raise NotDrained(f"records are still being published to {sorted({tp.topic for tp in moved})}: "
                             "stop every relay (and roster imports) first")
        admin.create_partitions({n: partitions for n in todo}, timeout_ms=30000)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            described = admin.describe_topics(list(todo))
            if all(len(t.get("partitions") or ()) == partitions
                   and all(p.get("leader_id", -1) >= 0 for p in t["partitions"]) for t in described):
                break
            time.sleep(0.2)
        report.after = partition_counts(admin, names)
        report.grown = sorted(todo)
        return report
    finally:
        admin.close()
