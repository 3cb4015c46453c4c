"""The outbox relay: publishes unsent outbox rows with the idempotent producer (``acks=all``) and
marks them sent only after the broker acknowledged them.

Streaming. The relay keeps sending while earlier sends wait for their acks (up to
``max_in_flight`` rows), and marks the acknowledged rows sent by id, in bulk, at most
``mark_interval_s`` (0.5 s, ``KINERJA_RELAY_MARK_INTERVAL_MS``) after a send: not one UPDATE per ack,
nor one per read, when rows come one at a time.
An acknowledged row not yet marked is on the topic: the relay's reads leave it out.
Killed between publishing and marking, it leaves those rows unsent and they are published again
(by the next relay to hold them): consumers drop the duplicates by event id. With Kafka down the
sends wait (the relay's producer never gives a record up, see ``RELAY_PRODUCER``), then drain
in order when it returns; nothing is lost or reordered.

Several relays at once (``claims.py``): rows are spread over buckets by a hash of their key and
each bucket is held by one relay, so every row is published once and the work is shared. On
PostgreSQL the relays hold buckets with advisory locks; on SQLite one relay is the claimer and
the others stand by.

Why one key's events stay in order, with any number of relays. Each round a relay reads the
lowest unsent ids of its buckets, leaves out the ones it has in flight, and sends the rest in id
order; it never skips a row because another relay is busy with it (that is what a plain
``SKIP LOCKED`` claim does, and it lets a second relay publish a key's next event before the
first relay's earlier one). Take two rows r < s of one key, r committed before s (one key's
writes are serialised by the service's locks). When s is first sent, by relay X: if r was
already marked sent, it was acknowledged, so it is on the topic before s; if r was in X's
flight, X sent it earlier on the same partition, and the idempotent producer appends a
partition's records in the order sent; otherwise r was unsent and not in X's flight, so X's read
found it too, before s, and sends it first. The first copy of each event is therefore on the
topic in key order; later copies (re-sends after a crash) are duplicates that consumers drop.
Rows of concurrent transactions are published in the order they became visible.

A send that fails ends the producer at once (its sender thread too: records it still held must
not follow), rows still in flight are read and sent again from the lowest unsent, after a
backoff. Kafka can only append a later record of a partition after a failed earlier one when
the producer resets its id (a record expired, or the broker lost producer state); the relay's
producer never expires records, so only the broker losing data can cause that.

Woken when there is work: on PostgreSQL a trigger sends ``NOTIFY kinerja_outbox`` with every
insert (see ``outbox.py``) and a listener thread wakes the loop; the loop still looks every
``notify_poll_s`` (a missed notification, a table without the trigger) and, on SQLite, every
``idle_interval_s``. The housekeeping relay (one per outbox) deletes rows sent longer ago than
``retention_s``, in chunks. After a read that found rows but fewer than a batch, the next read
waits until ``round_gap_s`` (``KINERJA_RELAY_ROUND_GAP_MS``, 5 ms) after it: rows committed a few
ms apart go in one read and one produce request; a row after a quiet spell is read at once.

Held types (``hold_types``; kehadiran's relay: its punch rows). A read that found fewer rows than a
batch, every one of a held type, sends nothing: the rows stay unsent in the table and the next read
(the next row's notification, or ``hold_s`` = 0.1 s after the first such read at the latest) reads
them again with whatever followed and sends them first, in id order. Nothing is kept in memory, so
the order argument above holds unchanged (a held row is an unsent row not in flight), and a relay
that stops or dies leaves them to the next. What it buys: a punch's row and the day summary the day
worker commits ~10 ms later go in one produce request, and each consumer that passes punches over
(penilaian, notifikasi) fetches once for both instead of once each. kehadiran's punch requests do not
wake the relays at all (``kehadiran.adapters.punch_write``): the summary's commit does, so at a trickle
the held read is the exception (a summary committed while a read is under way), not one a punch.
"""
from kinerja.messaging.relay.outbox_relay import OutboxRelay
from kinerja.messaging.relay.producer_session import MARK_CHUNK, RELAY_PRODUCER, RelayFailed, close_producer_now

__all__ = ["MARK_CHUNK", "RELAY_PRODUCER", "OutboxRelay", "RelayFailed", "close_producer_now"]
