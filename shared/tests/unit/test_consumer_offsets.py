"""The offsets a poll's done messages leave to commit (``IdempotentConsumer._note_done``): each
partition's last done offset + 1, found per run of a partition's messages rather than set message
by message; the same offsets as the message-by-message way, whatever the poll's order or cut."""
import random

from kafka import TopicPartition
from kafka.structs import OffsetAndMetadata

from kinerja.messaging.consumer.loop import IdempotentConsumer
from kinerja.testing import consumer_record


def one_by_one(msgs, done_with):
    return {TopicPartition(m.topic, m.partition): OffsetAndMetadata(m.offset + 1, "", -1) for m in msgs[:done_with]}


def test_the_offsets_noted_are_each_partitions_last_done_one_plus_one():
    rng = random.Random(7)
    for _ in range(200):
        # a poll as kafka-python hands it (a partition's messages together), or shuffled (any order)
        msgs = [consumer_record(b"{}", 100 * p + k, f"t{p % 2}", partition=p) for p in range(4)
                for k in range(rng.randint(0, 5))]
        if rng.random() < 0.5:
            rng.shuffle(msgs)
        done_with = rng.randint(0, len(msgs))
        pending = {TopicPartition("other", 0): OffsetAndMetadata(9, "", -1)}  # from an earlier poll: kept
        whole = IdempotentConsumer._note_done(None, msgs, done_with, pending)
        assert whole == (done_with == len(msgs))
        assert pending == {TopicPartition("other", 0): OffsetAndMetadata(9, "", -1), **one_by_one(msgs, done_with)}
