"""Queries over the inbox (the ``notifications`` table)."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Sequence

from sqlalchemy import Row, bindparam, func, select, update
from sqlalchemy.orm import Session

from kinerja.db import planned_each_time
from notifikasi.adapters.orm import Notification

# the recipient of what an agency's admins are told (mail that cannot be delivered): every admin of
# the agency reads these rows beside their own (not a NIP, so never a person's inbox)
ADMINS = "admin"


def recipients_of(nip: str, role: str) -> list[str]:
    """The recipients whose rows a person reads: their own NIP, and an admin the agency's admin rows."""
    return [nip, ADMINS] if role == "admin" else [nip]


def max_id(session: Session) -> int:
    return session.execute(select(func.max(Notification.id))).scalar() or 0


_TABLE = Notification.__table__
# the tailer's read, built once; plain rows (the columns by name, as ``as_dict`` reads them), not
# ORM objects: nothing is tracked, and a tick costs a third fewer Python calls
# ``id < after_id + AHEAD`` is always true (ids are never that far apart); it makes the condition a
# range, which the planner takes as narrow where the table has no statistics yet (a new database:
# a range is estimated at 0.5 % of the rows where ``id > x`` alone is a third), so it reads the
# primary key from ``after_id`` and stops at the limit instead of scanning and sorting the table
AHEAD = 2**40
_ROWS_AFTER = (select(_TABLE).where(_TABLE.c.id > bindparam("after_id"), _TABLE.c.id < bindparam("before_id"))
               .order_by(_TABLE.c.id).limit(bindparam("limit")))


def rows_after(session: Session, after_id: int, limit: int) -> Sequence[Row]:
    """Every recipient's rows with id > ``after_id``, oldest first (the tailer's one query).

    Planned with its parameters each time (``kinerja.db.planned_each_time``), and a range (see
    ``AHEAD``): the tailer polls while nothing comes, and where the inbox had no statistics (a new
    database) or the plan was kept from polls of it empty, the read scanned and sorted every row
    of the table at every poll (20,000 rows read for 100: ``test_queue_plans``) until the table
    was next analysed."""
    with planned_each_time(session):
        return session.execute(_ROWS_AFTER, {"after_id": after_id, "before_id": after_id + AHEAD,
                                             "limit": limit}).all()


def rows_by_ids(session: Session, ids: list[int]) -> Sequence[Row]:
    return session.execute(select(_TABLE).where(_TABLE.c.id.in_(ids)).order_by(_TABLE.c.id)).all()


def _mine(nips: Sequence[str] | str, agency: str):
    nips = [nips] if isinstance(nips, str) else list(nips)
    who = Notification.recipient_nip == nips[0] if len(nips) == 1 else Notification.recipient_nip.in_(nips)
    return (who, Notification.agency == agency)


def own_rows_after(session: Session, *, nip: Sequence[str] | str, agency: str, after_id: int,
                   limit: int) -> Sequence[Notification]:
    """One recipient's rows (or several's: ``recipients_of``) with id > ``after_id``, oldest first
    (a stream resume)."""
    return session.execute(
        select(Notification).where(*_mine(nip, agency), Notification.id > after_id)
        .order_by(Notification.id).limit(limit)
    ).scalars().all()


def inbox_page(session: Session, *, nip: Sequence[str] | str, agency: str, limit: int, before_id: int | None = None,
               unread_only: bool = False) -> Sequence[Notification]:
    """One recipient's rows, newest first; the next page starts before the last id of this one."""
    query = select(Notification).where(*_mine(nip, agency))
    if before_id is not None:
        query = query.where(Notification.id < before_id)
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    return session.execute(query.order_by(Notification.id.desc()).limit(limit)).scalars().all()


def unread_count(session: Session, *, nip: Sequence[str] | str, agency: str) -> int:
    return session.execute(
        select(func.count()).select_from(Notification).where(*_mine(nip, agency), Notification.read_at.is_(None))
    ).scalar_one()


def mark_read(session: Session, *, notification_id: int, nip: Sequence[str] | str, agency: str,
              now: datetime) -> Notification | None:
    """Mark one of the caller's own rows read (the first time only). None if it is not theirs."""
    session.execute(
        update(Notification)
        .where(Notification.id == notification_id, *_mine(nip, agency), Notification.read_at.is_(None))
        .values(read_at=now)
    )
    return session.execute(
        select(Notification).where(Notification.id == notification_id, *_mine(nip, agency))
    ).scalars().first()


def mark_all_read(session: Session, *, nip: Sequence[str] | str, agency: str, now: datetime,
                  up_to_id: int | None = None) -> int:
    """Mark every unread row of the caller read (up to ``up_to_id``, the newest the caller has seen,
    when given, so what arrived meanwhile stays unread); how many."""
    query = update(Notification).where(*_mine(nip, agency), Notification.read_at.is_(None))
    if up_to_id is not None:
        query = query.where(Notification.id <= up_to_id)
    return session.execute(query.values(read_at=now).execution_options(synchronize_session=False)).rowcount or 0


def as_dict(row: Notification) -> dict[str, Any]:
    return {
        "id": row.id,
        "kind": row.kind,
        "title": row.title,
        "body": row.body,
        "audience": row.audience,
        "subject_nip": row.subject_nip,
        "recipient_nip": row.recipient_nip,
        "agency": row.agency,
        "event_id": row.event_id,
        "event_type": row.event_type,
        "payload": row.payload,
        "created_at": _iso(row.created_at),
        "read_at": _iso(row.read_at),
    }


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:  # SQLite hands back naive datetimes; they were stored as UTC
        return value.isoformat() + "+00:00"
    return value.isoformat()
