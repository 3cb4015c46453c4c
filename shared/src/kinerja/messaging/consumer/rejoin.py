"""A group join that kafka-python 3.0.12 finishes but never applies, and how the loop repairs it.

kafka-python runs a group (re-)join as one task on its IO thread (JoinGroup, then, on the
leader, ``_perform_assignment`` and SyncGroup). ``poll()`` awaits that task only
while ``coordinator.need_rejoin()`` is true; when the poll's timer runs out first, the task goes
on in the background and the next poll awaits it again. The leader's rejoin after a metadata
change (``kinerja topics grow`` adding partitions, or the topic's partitions becoming known only
after a first, empty join) is not flagged by ``rejoin_needed``: ``need_rejoin()`` is true only
because the metadata it assigned from (``_assignment_snapshot``) differs from the current one.
``_perform_assignment``, inside the task, makes the two equal again. If that happens while the
loop is between polls (handling a batch) or after a poll gave up waiting for the SyncGroup,
``need_rejoin()`` is false from then on: no poll awaits the finished task, its assignment is never
applied (``_on_join_complete`` never runs), the member stays in REBALANCING with its heartbeat
switched off, the broker drops it after the session timeout, and it reads nothing until some other
metadata change makes it rejoin. No later kafka-python release fixes it (3.0.12 is the newest).

The state is precise: ``coordinator.rejoining`` (a join was started and not completed) while
``need_rejoin()`` is false (nothing will ever complete it). An empty assignment alone says nothing
(with more members than partitions it is legitimate). In that state the loop asks for a rejoin:
the next poll either awaits the task still in flight and applies its result, or, when the task has
finished, joins again and gets a fresh assignment (a leader's JoinGroup starts one more rebalance;
the loop acts within a poll or a batch of the stranding, long before the 10 s session timeout).
The check runs on the loop's thread between polls: ``rejoining`` is only cleared inside a poll, so
a false reading can at worst ask for one rejoin too many."""
from __future__ import annotations

import logging

from kafka import KafkaConsumer

log = logging.getLogger("kinerja.messaging.consumer")


def join_left_unapplied(consumer: KafkaConsumer) -> bool:
    """True when a group join was started but nothing will ever apply its result."""
    coordinator = getattr(consumer, "_coordinator", None)
    if coordinator is None or not getattr(coordinator, "rejoining", False):
        return False
    return not coordinator.need_rejoin()


def repair_unapplied_join(consumer: KafkaConsumer) -> bool:
    """Ask for a rejoin when a join was left unapplied; True when it did."""
    if not join_left_unapplied(consumer):
        return False
    log.warning("group join finished outside a poll and was never applied; rejoining",
                extra={"assigned": sorted(f"{tp.topic}:{tp.partition}" for tp in consumer.assignment())})
    consumer._coordinator.request_rejoin()
    return True
