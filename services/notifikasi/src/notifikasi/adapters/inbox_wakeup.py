"""Who wakes the web processes' inbox tailers when inbox rows commit.

On PostgreSQL the ``notifications_notify`` trigger does (``NOTIFY notifikasi_inbox``, see ``orm``).
On SQLite the writing process does, after the commit: ``announce_inbox_writes`` watches the sessions
of a session factory, and when a transaction that inserted into ``notifications`` has committed it
signals the tailers through ``kinerja.wakeup.LocalWakeup`` (one datagram per waiting worker). Every
session of the runtime is watched, so any process that writes the inbox (the consumer, the mailer
telling admins about undeliverable mail) wakes the tailers without knowing of them.
"""
from __future__ import annotations

import threading

from sqlalchemy import Engine, Insert, event
from sqlalchemy.orm import Session, sessionmaker

from kinerja import wakeup
from notifikasi.adapters.orm import INBOX_CHANNEL, Notification

_FLAG = "notifikasi.inbox_written"
TABLE = Notification.__table__


def listen(engine: Engine, wake: threading.Event) -> wakeup.Listener | None:
    """A tailer's wake-up source on this database (None: nothing can wake it; it polls)."""
    return wakeup.listen(engine, INBOX_CHANNEL, wake)


def announce_inbox_writes(session_factory: sessionmaker, engine: Engine) -> wakeup.LocalWakeup | None:
    """On SQLite, signal the tailers after each commit that inserted inbox rows (nothing to do on
    PostgreSQL, where the trigger notifies). Returns the wake-up used, if any."""
    local = wakeup.local_wakeup(engine, INBOX_CHANNEL)
    if local is None or not local.available:
        return None

    @event.listens_for(session_factory, "do_orm_execute")
    def _core_insert(state) -> None:  # session.execute(insert(notifications), rows)
        if ((state.is_insert and isinstance(state.statement, Insert) and state.statement.table is TABLE)
                or state.execution_options.get("inserts_into") is TABLE):  # kinerja.fixed_inserts
            state.session.info[_FLAG] = True

    @event.listens_for(session_factory, "after_flush")
    def _orm_insert(session: Session, _ctx) -> None:  # session.add(Notification(...))
        if any(isinstance(obj, Notification) for obj in session.new):
            session.info[_FLAG] = True

    @event.listens_for(session_factory, "after_commit")
    def _committed(session: Session) -> None:
        if session.info.pop(_FLAG, False):
            local.signal()

    @event.listens_for(session_factory, "after_rollback")
    def _rolled_back(session: Session) -> None:
        session.info.pop(_FLAG, None)

    return local
