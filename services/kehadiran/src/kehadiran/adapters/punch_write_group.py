"""SQLite: the punch requests of one process that wait for the file's write lock at the same time
are written in ONE transaction (group commit), each still all or nothing with its outbox rows and
day markers, each answered only once that transaction has committed.

Why: on SQLite every writer of the file takes turns at one lock, and a turn costs far more than
its rows. Each commit writes every page it touched to the WAL, whole: a punch touches pages of
five indexes keyed by random ids or PINs (its id, its identity, the quarantine index, the outbox
event's id, ...), so a 100-punch commit wrote about 11-12 KiB of WAL a punch, where 20 such
requests in one commit write 3-4 KiB a punch (the same pages shared); and each turn pays the
BEGIN IMMEDIATE, the COMMIT, the hand-over to the next waiter (another process's polls) and a
thread's wait for the GIL after each statement. A request that finds another of its process
already waiting for (or holding) the lock leaves its rows with it and waits for the answer:
while one transaction is written, the next one gathers. Lock turns per request fall from 1 to
1 / (requests waiting together); statements per turn stay one INSERT a table.

One-punch requests come here too (``ingest.GROUP_FROM``): 2 processes x 8 threads of one-line
uploads committed 0.36-0.49 times a request instead of once, and wrote 32-42 KiB of WAL a request
instead of 47-54 (a loaded probe, interleaved).

Only a request whose punches are its transaction's only write comes here (no malformed lines, no
registry check to note in the same transaction: ``record_punches(alone=)``), but for the device's
contact UPDATE, which goes in with its rows (``Prepared.contact``, last in the transaction): the
request of each device due a contact (every ``device_store.CONTACT_EVERY``) took a turn of its own.
If the group's transaction fails on a constraint, each of its requests is written again in a
transaction of its own, so one bad request fails alone; any other failure (the lock not had in
time, the file gone) is every waiting request's, raised in each, nothing of any of them stored.
"""
from __future__ import annotations

import os
import sqlite3
import threading
from typing import Callable

from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from kehadiran.adapters.punch_write_sqlite import Prepared, write_many

# the punches one transaction takes at most: its turn stays short for the day worker and the relay
MAX_GROUP_PUNCHES = 2000


class _Ticket:
    __slots__ = ("prepared", "answer", "error", "done")

    def __init__(self, prepared: Prepared):
        self.prepared = prepared
        self.answer: tuple[int, int] | None = None
        self.error: BaseException | None = None
        self.done = False

    def result(self) -> tuple[int, int]:
        if self.error is not None:
            # raised in this request's thread: a copy, the leader's own is raised in the leader's
            raise _copy(self.error) from self.error
        if self.answer is None:
            raise sqlite3.OperationalError("the punches' group transaction was abandoned")
        return self.answer


class Group:
    """One process's punch writers of one file."""

    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.pending: list[_Ticket] = []
        self.leading = False
        self.waiting = 0  # requests asleep in ``cond.wait`` (none: no notify, its Python calls spared)
        # counts the tests read: transactions written, requests written in them
        self.transactions = 0
        self.requests = 0

    def write(self, conn: Connection, prepared: Prepared, lock: Callable[[], None]) -> tuple[int, int]:
        """``prepared`` written and committed, alone or with others; (new punches with a NIP, new
        punches in quarantine). ``lock``: takes the write lock on ``conn`` (BEGIN IMMEDIATE), called
        only when this request leads the transaction."""
        ticket = _Ticket(prepared)
        with self.cond:
            self.pending.append(ticket)
            while self.leading and not ticket.done:
                self.waiting += 1
                try:
                    self.cond.wait()
                finally:
                    self.waiting -= 1
            if ticket.done:
                return ticket.result()
            self.leading = True
        batch: list[_Ticket] = []
        try:
            lock()
            # whatever gathered while the lock was awaited goes in too (this request's first)
            with self.cond:
                batch = self._take(ticket)
            self._write(conn, batch)
        finally:
            with self.cond:
                self.leading = False
                if not batch:  # the lock not had: this request fails, and is not written later
                    self.pending.remove(ticket)
                    batch = [ticket]
                for t in batch:
                    t.done = True
                if self.waiting:
                    self.cond.notify_all()
        return ticket.result()

    def _take(self, own: _Ticket) -> list[_Ticket]:
        self.pending.remove(own)
        batch, rows = [own], len(own.prepared.punches)
        while self.pending and rows + len(self.pending[0].prepared.punches) <= MAX_GROUP_PUNCHES:
            t = self.pending.pop(0)
            batch.append(t)
            rows += len(t.prepared.punches)
        return batch

    def _write(self, conn: Connection, batch: list[_Ticket]) -> None:
        try:
            answers = write_many(conn, [t.prepared for t in batch])
            conn.commit()
        except (sqlite3.IntegrityError, IntegrityError) as exc:
            conn.rollback()
            if len(batch) == 1:
                batch[0].error = exc
                return
            for t in batch:  # one bad request fails alone
                try:
                    conn.begin()
                    t.answer = write_many(conn, [t.prepared])[0]
                    conn.commit()
                except (sqlite3.IntegrityError, IntegrityError) as one:
                    conn.rollback()
                    t.error = one
            self._count(len(batch), len(batch))
            return
        except BaseException as exc:
            if conn.in_transaction():
                conn.rollback()
            elif conn.connection.dbapi_connection.in_transaction:
                conn.connection.dbapi_connection.rollback()
            for t in batch:
                t.error = exc
            raise
        for t, answer in zip(batch, answers):
            t.answer = answer
        self._count(1, len(batch))

    def _count(self, transactions: int, requests: int) -> None:
        self.transactions += transactions
        self.requests += requests


def _copy(exc: BaseException) -> BaseException:
    try:
        copy = type(exc)(*exc.args)
    except Exception:
        return sqlite3.OperationalError(str(exc))
    for attr in ("sqlite_errorcode", "sqlite_errorname"):
        if hasattr(exc, attr):
            try:
                setattr(copy, attr, getattr(exc, attr))
            except AttributeError:
                pass
    return copy


_groups: dict[str, Group] = {}
_guard = threading.Lock()
# a group led by a thread of the parent at fork has no leader in the child
os.register_at_fork(after_in_child=lambda: _groups.clear())


def group_of(path: str) -> Group:
    group = _groups.get(path)
    if group is None:
        with _guard:
            group = _groups.setdefault(path, Group())
    return group


def write(conn: Connection, prepared: Prepared, lock: Callable[[], None]) -> tuple[int, int]:
    """``prepared`` written and committed (with other requests of this process waiting for the
    file's write lock at the same time, when there are); an in-memory database alone."""
    path = getattr(conn.connection.dbapi_connection, "_kinerja_path", None)
    if path is None:
        lock()
        answer = prepared.write(conn)
        conn.commit()
        return answer
    return group_of(path).write(conn, prepared, lock)
