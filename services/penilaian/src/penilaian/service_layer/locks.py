"""The advisory locks of a penilaian transaction, and the one order every transaction takes them in.

Several consumer processes (and the API) write the same rows: a task's fact may move from one
ASN's partition to another's, a policy version belongs to an agency, not to a partition. Every
row a transaction writes is guarded by a key it locks first, and the keys are taken in one total
order, so two transactions may wait on each other but never in a cycle (no deadlock):

    FACT    a task's or an innovation's id (the rows that name the ASN they belong to)
  < ASN     a NIP: its day facts, ratings, roster entry, memberships, score rows
  < AGENCY  its policy versions and their recompute queue, the organisation's predikat

and within a class by the lock's number. A consumer's transaction records its events' ids in
``processed_events`` before any of these (``claim``: the insert that says which ids are new waits
for another transaction holding the same ids, and no transaction takes an id after a key), so
the ids come first in the order; on PostgreSQL the claim and the first pass of keys go as ONE
statement (``adapters.claims``). A batch takes them in two passes (``batch.Batch.prepare``):
the FACT keys first, then, having read the rows those guard (they name a task's or innovation's
previous owner, stable now), every ASN and AGENCY key in one statement. After that the set is
sealed: asking for a key not held is a bug and raises ``LockOrderError`` rather than waiting out
of order. Taking a key lower than one already held raises too.

On PostgreSQL a key is ``pg_advisory_xact_lock(class, number)`` (the two-key form, its own key
space; the class numbers come from a name of their own, as the relay's claims' do) with the number
a stable 32-bit hash of the name computed here, so the order is the order of the locks themselves: two names with one
number are one lock, never a broken order. SQLite serialises writers already (BEGIN IMMEDIATE);
the keys are still ordered and checked there.
"""
from __future__ import annotations

import hashlib
import zlib
from typing import Iterable, NamedTuple

from sqlalchemy import Table, text
from sqlalchemy.orm import Session

from penilaian.adapters.claims import claim_and_lock

FACT, ASN, AGENCY = 0, 1, 2
_CLASS_NAMES = ("fact", "asn", "agency")
_BASE = zlib.crc32(b"kinerja.penilaian.locks") & 0x7FFFFFF0  # + class: stays a positive int4


class LockKey(NamedTuple):
    """A lock in its place in the order: (class, number); ``name`` says what it guards."""
    klass: int
    number: int
    name: str

    @property
    def order(self) -> tuple[int, int]:
        return (self.klass, self.number)


def _number(name: str) -> int:
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=4).digest(), "big", signed=True)


def key(klass: int, name: str) -> LockKey:
    return LockKey(klass, _number(f"{_CLASS_NAMES[klass]}:{name}"), name)


def task_key(task_id: str) -> LockKey:
    return key(FACT, "task:" + task_id)


def innovation_key(innovation_id: str) -> LockKey:
    return key(FACT, "innovation:" + innovation_id)


def asn_key(nip: str) -> LockKey:
    return key(ASN, nip)


def agency_key(agency: str) -> LockKey:
    return key(AGENCY, agency)


class Claim(NamedTuple):
    """A consumer transaction's ``processed_events`` rows (distinct ids, in id order)."""
    table: Table
    rows: list[dict]


class LockOrderError(RuntimeError):
    """A lock asked for out of the order (or after the batch sealed its set): a bug in the caller."""


class Locks:
    """The keys one transaction holds, taken in increasing order. ``taken`` lists them in the
    order they were taken (what the tests check)."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.postgres = session.get_bind().dialect.name == "postgresql"
        self.held: set[tuple[int, int]] = set()
        self.taken: list[LockKey] = []
        self.sealed = False

    def take(self, keys: Iterable[LockKey], claim: Claim | None = None) -> set[str] | None:
        """Take the keys not held yet, in one statement, in order. Each must come after every key
        held already (else ``LockOrderError``; a key held is never taken again). ``claim``: the
        transaction's event ids recorded first, in the same statement on PostgreSQL
        (``adapters.claims``); returns the ids that were new (None without ``claim``)."""
        todo: dict[tuple[int, int], LockKey] = {}
        for k in keys:
            if k.order not in self.held:
                todo.setdefault(k.order, k)
        if claim is not None:
            if self.taken:
                raise LockOrderError("event ids claimed after a lock was taken")
            ordered = [todo[o] for o in sorted(todo)]
            self.held.update(todo)
            self.taken.extend(ordered)
            return claim_and_lock(self.session, claim.table, claim.rows,
                                  [(_BASE + k.klass, k.number) for k in ordered] if self.postgres else [])
        if not todo:
            return None
        ordered = [todo[o] for o in sorted(todo)]
        if self.sealed:
            raise LockOrderError(f"lock {ordered[0].name!r} asked for after the batch took its locks")
        if self.taken and ordered[0].order < max(self.held):
            raise LockOrderError(f"lock {ordered[0].name!r} asked for after a later one")
        self.held.update(todo)
        self.taken.extend(ordered)
        if self.postgres:
            # unnest gives the arrays' elements in order, each lock taken as its row is produced
            self.session.execute(
                text("SELECT pg_advisory_xact_lock(c, n) FROM unnest(CAST(:cs AS integer[]), "
                     "CAST(:ns AS integer[])) AS k(c, n)"),
                {"cs": [_BASE + k.klass for k in ordered], "ns": [k.number for k in ordered]}).all()
        return None

    def seal(self) -> None:
        self.sealed = True

    def holds(self, k: LockKey) -> bool:
        return k.order in self.held


def lock_agency(session: Session, agency: str) -> None:
    """The agency's key alone (``set_policy`` numbers versions under it), before anything else."""
    Locks(session).take([agency_key(agency)])
