"""Replaying topics from offset 0, as a rebuild does: ``read_to_end`` reads every message up to
the end offsets captured when it starts (manual assignment: no group, nothing committed), and
``replayed_offsets`` is the table a service keeps of how far a replay applied each partition.

A replay that folds events into final rows does not record one ``processed_events`` row per event;
it records, per (topic, partition), the offset after the last message it applied. The consumer
loop (``kinerja.messaging.consumer``) treats every message below that offset as already applied,
so a live consumer started on the replayed database (from offset 0 or from its group's offsets)
never applies one of them twice.
"""
from __future__ import annotations

import time
from collections import deque
from typing import Any, Callable, Iterator

from sqlalchemy import BigInteger, Column, DateTime, Integer, MetaData, String, Table, select
from sqlalchemy.orm import Session

REPLAYED_OFFSETS = "replayed_offsets"


def replayed_offsets_table(metadata: MetaData) -> Table:
    """The table (added to ``metadata`` once): topic, partition, the next offset not replayed."""
    if REPLAYED_OFFSETS in metadata.tables:
        return metadata.tables[REPLAYED_OFFSETS]
    return Table(
        REPLAYED_OFFSETS, metadata,
        Column("topic", String(255), primary_key=True),
        Column("partition", Integer, primary_key=True, autoincrement=False),
        Column("next_offset", BigInteger, nullable=False),
        Column("replayed_at", DateTime(timezone=True), nullable=False),
    )


def replayed_below(session: Session, table: Table) -> dict[tuple[str, int], int]:
    """(topic, partition) → the first offset a replay did not apply (a few rows: one per partition)."""
    return {(r.topic, r.partition): r.next_offset for r in session.execute(
        select(table.c.topic, table.c.partition, table.c.next_offset))}


def read_to_end(bootstrap: str, names: list[str], *, timeout_s: float = 600.0, client_id: str = "kinerja-replay",
                partitions: Callable[[str, int], bool] | None = None, ends_out: dict | None = None,
                consumer_factory: Callable[..., Any] | None = None) -> Iterator[tuple[str, list]]:
    """Every message of ``names`` from offset 0 to the end offsets captured now, topic by topic
    (yielded in poll-sized lists, each list from one partition, in offset order), by manual
    assignment: no group, nothing committed. ``partitions(topic, p)`` (optional) picks the
    partitions read, e.g. to share a replay between processes. Empty partitions are passed over."""
    from kafka import KafkaConsumer, TopicPartition

    consumer = (consumer_factory or KafkaConsumer)(
        bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False, client_id=client_id,
        max_poll_records=5000, fetch_max_bytes=64 * 1024 * 1024, max_partition_fetch_bytes=16 * 1024 * 1024)
    try:
        deadline = time.monotonic() + timeout_s
        plan = []
        for name in names:
            parts = None
            while not parts and time.monotonic() < deadline:
                parts = consumer.partitions_for_topic(name)
                if not parts:
                    time.sleep(0.2)
            if not parts:
                raise RuntimeError(f"topic {name} not found")
            tps = [TopicPartition(name, p) for p in sorted(parts) if partitions is None or partitions(name, p)]
            plan.append((name, tps))
        all_tps = [tp for _, tps in plan for tp in tps]
        ends = consumer.end_offsets(all_tps) if all_tps else {}
        if ends_out is not None:
            ends_out.update({(tp.topic, tp.partition): off for tp, off in ends.items()})
        for name, tps in plan:
            todo = {tp for tp in tps if ends[tp] > 0}
            if not todo:
                continue
            consumer.assign(list(todo))
            consumer.seek_to_beginning(*todo)
            while todo:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{name}: not read to its end offsets in {timeout_s:.0f} s")
                records = consumer.poll(timeout_ms=500)
                for tp, msgs in records.items():
                    if tp not in todo:
                        continue
                    end = ends[tp]
                    if msgs and msgs[-1].offset >= end:
                        msgs = [m for m in msgs if m.offset < end]
                    if msgs:
                        yield name, msgs
                    if msgs and msgs[-1].offset + 1 >= end or consumer.position(tp) >= end:
                        todo.discard(tp)
                        consumer.pause(tp)
    finally:
        consumer.close(autocommit=False)



class RecentIds:
    """The ids of the last ``size`` records of each partition: a replay's duplicate check that
    does not grow with the topic (a re-send lands soon after its original, in its partition)."""

    def __init__(self, size: int) -> None:
        self.size = max(1, size)
        self._order: dict[int, deque[str]] = {}
        self._ids: dict[int, set[str]] = {}

    def seen(self, partition: int, event_id: str) -> bool:
        """True when ``event_id`` is among the partition's recent ids; else it becomes one."""
        ids = self._ids.get(partition)
        if ids is None:
            ids, order = self._ids[partition], self._order[partition] = set(), deque()
        else:
            order = self._order[partition]
        if event_id in ids:
            return True
        if len(order) >= self.size:
            ids.discard(order.popleft())
        order.append(event_id)
        ids.add(event_id)
        return False

    def partitions(self) -> list[int]:
        return sorted(self._order)

    def last(self, partition: int, n: int) -> list[str]:
        order = self._order.get(partition, ())
        return list(order)[-n:] if n > 0 else []

    def clear(self) -> None:
        self._order.clear()
        self._ids.clear()
