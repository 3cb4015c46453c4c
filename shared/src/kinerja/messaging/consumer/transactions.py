"""How the consumer loop cuts one poll into transactions (``TransactionShape``).

A record is visible (its score out, its inbox row readable) only when the transaction holding it
commits, so in a poll applied as one transaction every record waits for the whole poll, the
first ASN of a 1,000-event poll for the other 999. Cutting it costs a transaction each (the id
look-up, the id insert, the commit: a few ms on PostgreSQL), which is what a consumer that is
behind cannot spare. The rule, per poll:

- **behind** (the poll came back full, ``batch_size`` records): transactions of at most
  ``max_keys`` keys, or the whole poll in one when ``max_keys`` is None (PostgreSQL:
  throughput first; SQLite: a small cap, as each transaction holds the file's one write lock);
- **caught up** (fewer records): latency first. The first transaction takes ``first_keys`` keys,
  each next one twice as many as the one before, up to ``max_keys``: the first ASN's result
  is out after its own work instead of the poll's, a key at position p waits for at most about
  2p keys' work, and a poll of K keys costs about log2(K) transactions instead of one, an
  overhead that shrinks beside the work as polls grow (a consumer nearing its capacity gets
  fuller polls, hence few, big transactions, so the rule does not tip it over). Cutting pays
  only when ``first_keys`` is well above a transaction's own cost counted in keys: the first
  keys gain the rest of the poll's work, every later key loses one transaction's cost (penilaian
  on PostgreSQL measured ~10 keys' worth a transaction; cut from one key up, it got slower).

A key (the record key: an ASN's NIP for most events) is never split: its messages go in one
transaction, in their order, so nothing of one ASN is recomputed twice in a poll and per-key
order holds. Across keys the order is free, as across partitions. Messages the consumer passes
over without a transaction (``skip``, a replay's offsets) are left out before cutting, so they
count for no key.

Offsets are not this module's business: the loop commits them after the last transaction of the
poll, below the first message not done with (``BatchPath``).
"""
from __future__ import annotations

import os
from dataclasses import dataclass

from kinerja.config import whole_number


@dataclass(frozen=True)
class TransactionShape:
    max_keys: int | None = None  # keys per transaction when behind (None: the poll in one)
    first_keys: int | None = None  # first transaction of a caught-up poll, doubling (None: as behind)

    @property
    def whole_poll(self) -> bool:
        """Every poll in one transaction (the shape before this module)."""
        return self.max_keys is None and not self.first_keys

    def chunks(self, msgs: list, *, full: bool) -> list[list]:
        """``msgs`` cut into transactions (see the module docstring); ``full``: the poll came back
        with as many records as it asked for (the consumer is behind)."""
        by_key: dict = {}
        for msg in msgs:
            by_key.setdefault(msg.key, []).append(msg)
        ramp = not full and bool(self.first_keys)
        cap = self.first_keys if ramp else self.max_keys
        chunks: list[list] = [[]]
        keys = 0
        for run in by_key.values():
            if cap is not None and keys >= cap:
                chunks.append([])
                keys = 0
                if ramp:
                    cap = cap * 2 if self.max_keys is None else min(cap * 2, self.max_keys)
            chunks[-1].extend(run)
            keys += 1
        return [chunk for chunk in chunks if chunk]

    @classmethod
    def of_service(cls, prefix: str, dialect: str, *, sqlite_max_keys: int | None = None,
                   first_keys: int | None = None) -> "TransactionShape":
        """Read when called (a consumer's factory), never at import:
        ``<prefix>_KEYS_PER_TRANSACTION`` (``max_keys``; ``0``: the poll in one; default
        ``sqlite_max_keys`` on SQLite, None elsewhere) and ``<prefix>_FIRST_KEYS_PER_TRANSACTION``
        (``first_keys``; ``0``: caught-up polls cut as full ones; default ``first_keys``)."""
        def keys(name: str, default: int | None) -> int | None:
            return whole_number(os.environ, f"{prefix}_{name}", default or 0, low=0) or None  # 0 is None

        max_default = sqlite_max_keys if dialect == "sqlite" else None
        return cls(max_keys=keys("KEYS_PER_TRANSACTION", max_default),
                   first_keys=keys("FIRST_KEYS_PER_TRANSACTION", first_keys))
