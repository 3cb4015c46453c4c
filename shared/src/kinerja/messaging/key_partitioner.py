"""kafka-python's default partitioner with each key's partition remembered.

The default partitioner hashes every record's key with murmur2 written in pure Python (about 7 µs
for an 18-digit NIP) and sorts the topic's partitions on every call: together some 9 µs of the
~45 µs a ``send()`` costs the producer's thread. Our keys repeat (a NIP, a device serial, an
agency), so the hash is kept per key; the partition chosen is exactly the default partitioner's
(the same murmur2, the same sorted partitions, so per-key order and a key's partition do not
change), and a record without a key goes to the default partitioner's random choice.

The partition chosen for a key is remembered too, until the producer's cluster metadata next
changes: asking the metadata for the topic's partitions builds a new set each time, and that set
sorted again cost ~3 µs of a send (24 partitions, a loaded machine) after the hash was kept. The
metadata tells its listeners after each update (kafka-python's ``ClusterMetadata.add_listener``),
and an update drops every remembered choice, so a topic that grew sends a key where the default
partitioner now would.
"""
from __future__ import annotations

from kafka.partitioner.default import DefaultPartitioner, murmur2

# distinct keys remembered before the memory starts again (a map of bytes to int: ~10 MB at most)
MAX_KEYS = 65536


class KeyHashPartitioner(DefaultPartitioner):
    def __init__(self, max_keys: int = MAX_KEYS) -> None:
        self.max_keys = max_keys
        self._hashes: dict[bytes, int] = {}
        # topic → key → partition, under the metadata of ``_cluster`` as last updated. An update
        # replaces the map (never clears it in place): a choice made from the metadata before the
        # update is stored in the map it read from, which nobody reads again
        self._chosen: dict[str, dict[bytes, int]] = {}
        self._cluster = None

    def _metadata_updated(self, cluster) -> None:
        self._chosen = {}

    def partition(self, topic, key, serialized_key, value, serialized_value, cluster):
        chosen = self._chosen
        if cluster is self._cluster and type(serialized_key) is bytes:
            remembered = chosen.get(topic)
            if remembered is not None:
                p = remembered.get(serialized_key)
                if p is not None:
                    return p
        if serialized_key is None:
            return super().partition(topic, key, serialized_key, value, serialized_value, cluster)
        partitions = cluster.partitions_for_topic(topic)
        if partitions is None:
            raise ValueError("Topic %s not found in ClusterMetadata" % (topic,))
        if type(serialized_key) is not bytes:
            # a bytearray or memoryview could change after the send: hashed, never remembered
            return sorted(partitions)[(murmur2(serialized_key) & 0x7fffffff) % len(partitions)]
        hashes = self._hashes
        h = hashes.get(serialized_key)
        if h is None:
            if len(hashes) >= self.max_keys:
                hashes.clear()
            h = hashes[serialized_key] = murmur2(serialized_key) & 0x7fffffff
        p = sorted(partitions)[h % len(partitions)]
        if cluster is not self._cluster:
            # metadata that cannot say when it changes: nothing remembered. Otherwise remembered
            # from the next call on: this choice was read before the listener was there, so an
            # update in between would go unseen
            listen = getattr(cluster, "add_listener", None)
            if listen is not None:
                listen(self._metadata_updated)
                self._chosen = {}
                self._cluster = cluster
            return p
        remembered = chosen.get(topic)
        if remembered is None or len(remembered) >= self.max_keys:
            remembered = chosen[topic] = {}
        remembered[serialized_key] = p
        return p
