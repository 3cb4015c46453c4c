"""Topic names (with an optional deployment prefix) and their creation."""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from kafka import KafkaAdminClient
from kafka.admin import NewTopic
from kafka.errors import KafkaError, TopicAlreadyExistsError

from kinerja.config import default_partitions

log = logging.getLogger(__name__)

KEHADIRAN = "kehadiran.v1"
TUGAS = "tugas.v1"
PENILAIAN = "penilaian.v1"
PEGAWAI = "pegawai.v1"
ALL = (KEHADIRAN, TUGAS, PENILAIAN, PEGAWAI)


def topic(name: str, prefix: str = "") -> str:
    """``kehadiran.v1`` with prefix ``kalianda`` → ``kalianda.kehadiran.v1``."""
    return f"{prefix}.{name}" if prefix else name


def dlq(name: str) -> str:
    return f"{name}.dlq"


def topic_for_event_type(event_type: str, prefix: str = "") -> str:
    """Events go to the topic named by the first segment of their type."""
    base = event_type.split(".", 1)[0] + ".v1"
    if base not in ALL:
        raise ValueError(f"no topic for event type {event_type!r}")
    return topic(base, prefix)


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int
    config: dict[str, str]


# the roster topic never needs more: a record per roster change, and it is never grown later
# (compacted: see kinerja.messaging.repartition)
ROSTER_MAX_PARTITIONS = 12


def topic_specs(prefix: str = "", partitions: int | None = None) -> list[TopicSpec]:
    """Every topic of one installation; ``partitions`` None: ``KINERJA_PARTITIONS`` (12) for the
    event topics, as many but at most ``ROSTER_MAX_PARTITIONS`` for the roster. A ``.dlq`` topic
    has one partition: it is read by people, not by a group."""
    if partitions is None:
        partitions = default_partitions()
    specs: list[TopicSpec] = []
    for base in ALL:
        name = topic(base, prefix)
        if base == PEGAWAI:
            # the roster: latest record per NIP is all anyone needs
            cfg = {"cleanup.policy": "compact", "min.compaction.lag.ms": "0"}
            specs.append(TopicSpec(name, min(partitions, ROSTER_MAX_PARTITIONS), cfg))
        else:
            cfg = {"cleanup.policy": "delete", "retention.ms": "-1"}
            specs.append(TopicSpec(name, partitions, cfg))
        specs.append(TopicSpec(dlq(name), 1, {"cleanup.policy": "delete"}))
    return specs


def ensure_topics(bootstrap: str, prefix: str = "", partitions: int | None = None,
                  timeout_s: float = 60.0) -> list[str]:
    """Create any missing topic; existing ones are left as they are (never re-partitioned here:
    that moves keys to other partitions, see deploy/README.md). Returns the names created.
    ``partitions`` None: ``KINERJA_PARTITIONS``."""
    specs = topic_specs(prefix, partitions)
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="kinerja-admin",
                                     request_timeout_ms=15000)
            break
        except KafkaError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)
    created: list[str] = []
    try:
        existing = set(admin.list_topics())
        missing = [s for s in specs if s.name not in existing]
        for spec in missing:
            try:
                admin.create_topics(
                    [NewTopic(spec.name, spec.partitions, 1, topic_configs=spec.config)],
                    timeout_ms=30000,
                )
                created.append(spec.name)
            except TopicAlreadyExistsError:
                pass
        # wait for every topic's metadata to show leaders, so the first produce does not fail
        names = [s.name for s in specs]
        while time.monotonic() < deadline:
            described = admin.describe_topics(names)
            if all(t.get("error_code", 0) == 0 and t.get("partitions")
                   and all(p.get("leader_id", -1) >= 0 for p in t["partitions"]) for t in described):
                break
            time.sleep(0.2)
    finally:
        admin.close()
    if created:
        log.info("topics created", extra={"topics": created})
    return created
