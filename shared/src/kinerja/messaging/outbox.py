"""The transactional outbox: a service writes its rows and the events about them in one
transaction; the relay publishes the events later. Also the ``processed_events`` table that makes
consumers idempotent, and the trimming that keeps both bounded.

Both tables are added to each service's own metadata, so each service's Alembic history owns them.

Writing: :meth:`Outbox.add_many` takes :class:`Event` objects; a hot path that builds its events
as plain dicts and encodes each once passes finished rows to :meth:`Outbox.add_rows` (see
:func:`outbox_row`), one multi-row INSERT either way. On PostgreSQL a statement trigger sends
``NOTIFY kinerja_outbox`` with each insert (delivered when the transaction commits), which wakes
the relays at once instead of their poll.

Trimming (DESIGN §4, bounded storage):

- sent outbox rows: deleted once they have been sent for longer than the relay's retention
  (``KINERJA_OUTBOX_RETENTION_S``). A sent row is already on the topic; keeping it a while only
  serves people and checks that read the table.
- ``processed_events``: deleted once processed longer ago than ``KINERJA_PROCESSED_RETENTION_S``
  (7 days). A record only has to outlive every way the same event can come back:
  a consumer that dies before committing its offsets gets the messages since its last commit
  again (it commits after every poll: seconds); a relay that dies between publishing and marking
  sent has those rows published again by the next relay to own them (another running relay:
  about a second; all relays of a service down: when one is started again); Kafka only forgets
  a group's committed offsets after the group has been empty for ``offsets.retention.minutes``
  (7 days by default; the local broker and the cluster manifests set 30 days), so a service
  whose consumers are all down for longer than that must be rebuilt rather than restarted (see
  the README). Re-sent device punches are no such case: kehadiran deduplicates them on
  (device, PIN, time) in its own table, and gives them the same event id. So the window has to
  exceed the longest time a service's relays or consumers may all stay down; 7 days does with a
  wide margin, and costs one row per event of those 7 days.
"""
from __future__ import annotations

import json
import time
from datetime import datetime, timedelta, timezone
from typing import Iterable

from sqlalchemy import (
    DDL,
    BigInteger,
    Column,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    bindparam,
    event,
    insert,
    select,
    text,
)
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from kinerja.after_commit_notify import trigger_body
from kinerja.db import UtcDateTime, planned_each_time
from kinerja.events.envelope import Event
from kinerja.messaging import topics
from kinerja.wakeup import OUTBOX_CHANNEL

ID_TYPE = BigInteger().with_variant(Integer, "sqlite")
NOTIFY_CHANNEL = OUTBOX_CHANNEL  # SQLite: kinerja.wakeup.announce_inserts signals it
# the same statements as kinerja.migration_steps (each publishing service's migration "outbox notify
# trigger"); that copy stays frozen with the history it wrote
# (a transaction that deferred its notifications sends none from it: ``kinerja.after_commit_notify``)
NOTIFY_FUNCTION_SQL = (
    "CREATE OR REPLACE FUNCTION kinerja_outbox_notify() RETURNS trigger LANGUAGE plpgsql AS "
    + trigger_body(NOTIFY_CHANNEL)
)
NOTIFY_TRIGGER_SQL = ("CREATE TRIGGER outbox_notify AFTER INSERT ON outbox "
                      "FOR EACH STATEMENT EXECUTE FUNCTION kinerja_outbox_notify()")
PROCESSED_RETENTION_S = 7 * 24 * 3600.0
OUTBOX_RETENTION_S = 600.0


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def outbox_table(metadata: MetaData) -> Table:
    if "outbox" in metadata.tables:
        return metadata.tables["outbox"]
    table = Table(
        "outbox",
        metadata,
        Column("id", ID_TYPE, primary_key=True, autoincrement=True),
        Column("event_id", String(64), nullable=False, unique=True),
        Column("topic", String(200), nullable=False),  # base name; the relay adds the prefix
        Column("key", String(64), nullable=False),
        Column("value", Text, nullable=False),
        Column("created_at", UtcDateTime(), nullable=False, default=utcnow),
        Column("sent_at", UtcDateTime(), nullable=True),
        # the unsent rows only, in id order (the relays' reads and depth gauges all ask for
        # ``sent_at IS NULL``): a mark leaves it rather than adding an entry to it, and it stays the
        # size of the backlog rather than of everything the retention keeps. Nothing else indexes
        # ``sent_at``; the trim walks the primary key (``trim_sent``)
        Index("ix_outbox_unsent", "id", postgresql_where=text("sent_at IS NULL"),
              sqlite_where=text("sent_at IS NULL")),
    )
    # tables made with create_all (tests, tools) wake relays like migrated ones
    event.listen(table, "after_create", DDL(NOTIFY_FUNCTION_SQL).execute_if(dialect="postgresql"))
    event.listen(table, "after_create", DDL(NOTIFY_TRIGGER_SQL).execute_if(dialect="postgresql"))
    return table


def processed_events_table(metadata: MetaData) -> Table:
    if "processed_events" in metadata.tables:
        return metadata.tables["processed_events"]
    return Table(
        "processed_events",
        metadata,
        Column("event_id", String(200), primary_key=True),
        Column("topic", String(200), nullable=False),
        Column("partition", Integer, nullable=False),
        Column("offset", BigInteger, nullable=False),
        Column("processed_at", UtcDateTime(), nullable=False, default=utcnow),
        Index("ix_processed_events_processed_at", "processed_at"),
    )


def add_plumbing_tables(metadata: MetaData) -> tuple[Table, Table]:
    return outbox_table(metadata), processed_events_table(metadata)


def outbox_row(event_id: str, event_type: str, subject: str, value: str | bytes,
               created_at: datetime | None = None) -> dict:
    """One outbox row from an event already encoded (``value``: its JSON envelope)."""
    return {
        "event_id": event_id,
        "topic": topics.topic_for_event_type(event_type),
        "key": subject,
        "value": value.decode() if isinstance(value, (bytes, bytearray)) else value,
        "created_at": created_at or utcnow(),
    }


class Outbox:
    """Adds events to the current transaction of a session (or a Core connection)."""

    def __init__(self, metadata: MetaData):
        self.table = outbox_table(metadata)

    def add(self, session: Session, event: Event) -> None:
        self.add_many(session, [event])

    def add_many(self, session: Session | Connection, events: list[Event]) -> None:
        if not events:
            return
        now = utcnow()
        self.add_rows(session, [
            outbox_row(e.id, e.type, e.subject, json.dumps(e.to_dict(), separators=(",", ":"), default=str), now)
            for e in events
        ])

    def add_rows(self, session: Session | Connection, rows: list[dict]) -> None:
        """Rows as :func:`outbox_row` makes them, in one INSERT (executemany)."""
        if rows:
            session.execute(insert(self.table), rows)


# -- trimming ---------------------------------------------------------------------------------
def delete_in_chunks(engine: Engine, table: Table, key: Column, condition, *, chunk: int = 5000,
                     budget_s: float = 0.5) -> int:
    """Delete the rows matching ``condition``, ``chunk`` at a time, each chunk its own short
    transaction (no long lock on a hot table), until none is left or ``budget_s`` has passed;
    returns how many were deleted. What is left is deleted by the next call.

    Planned with its parameters each time (``planned_each_time``): the table swings from empty
    (a quiet hour trimmed the outbox) to tens of thousands of rows, and a plan kept from an empty
    table joined the chunk to the table by a nested loop, rescanning the chunk's subquery for
    each row: one chunk of 5,000 over 40,000 rows took 90 s (``test_queue_plans``)."""
    deleted = 0
    deadline = time.monotonic() + budget_s
    while True:
        with engine.begin() as conn, planned_each_time(conn):
            ids = select(key).where(condition).limit(chunk).scalar_subquery()
            n = conn.execute(table.delete().where(key.in_(ids))).rowcount
        deleted += n
        if n < chunk or time.monotonic() >= deadline:
            return deleted


def trim_sent(engine: Engine, table: Table, retention_s: float, *, now: datetime | None = None,
              chunk: int = 5000, budget_s: float = 0.5) -> int:
    """Delete outbox rows sent more than ``retention_s`` ago: of the ``chunk`` lowest ids, those
    sent before the cutoff, each chunk its own short transaction, until a chunk deletes nothing or
    ``budget_s`` has passed; returns how many were deleted.

    Walked in id order through the primary key, a chunk at a time, because nothing indexes
    ``sent_at`` for the sent rows (``ix_outbox_unsent`` holds the unsent ones only, so a mark adds
    no entry to it): rows are sent about in id order, so the oldest sent rows are the lowest ids,
    and a chunk examines ``chunk`` rows however big the table. A row left among the lowest (unsent,
    or sent within the retention) is stepped over; the trim goes on while a chunk deletes anything,
    so only ``chunk`` such rows at the bottom of the table would hold it up until they are sent
    (a relay that cannot send a row for that long keeps its key's later rows unsent too).

    On PostgreSQL the chunk's rows are deleted by their row address (``ctid``, a TID scan): as
    ``id IN (<the chunk>)``, under statistics taken during a burst (a few of many rows unsent) the
    chunk was joined by hash to a sequential scan of the whole outbox, every chunk
    (``test_queue_plans``). A row updated between the chunk's read and its delete has another
    address by then and is left for the next trim."""
    cutoff = (now or utcnow()) - timedelta(seconds=retention_s)
    if engine.dialect.name == "postgresql":
        cutoff_param = bindparam("cutoff", cutoff, type_=UtcDateTime())
        statement = text(
            f"DELETE FROM {engine.dialect.identifier_preparer.format_table(table)} WHERE ctid = ANY(ARRAY("
            f"SELECT ctid FROM (SELECT ctid, sent_at FROM {engine.dialect.identifier_preparer.format_table(table)} "
            "ORDER BY id LIMIT :chunk) AS lowest WHERE sent_at < :cutoff))").bindparams(
            cutoff_param, bindparam("chunk", chunk))
    else:
        lowest = select(table.c.id, table.c.sent_at).order_by(table.c.id).limit(chunk).subquery()
        ids = select(lowest.c.id).where(lowest.c.sent_at < cutoff).scalar_subquery()
        statement = table.delete().where(table.c.id.in_(ids))
    deleted = 0
    deadline = time.monotonic() + budget_s
    while True:
        with engine.begin() as conn, planned_each_time(conn):
            n = conn.execute(statement).rowcount
        deleted += n
        if not n or time.monotonic() >= deadline:
            return deleted


def trim_processed(engine: Engine, table: Table, retention_s: float, *, now: datetime | None = None, **kw) -> int:
    """Delete ``processed_events`` records older than ``retention_s`` (see the module's doc for
    why the default window is safe)."""
    cutoff = (now or utcnow()) - timedelta(seconds=retention_s)
    return delete_in_chunks(engine, table, table.c.event_id, table.c.processed_at < cutoff, **kw)


def table_sizes(engine: Engine, tables: Iterable[Table]) -> dict[str, int]:
    from sqlalchemy import func

    with engine.connect() as conn:
        return {t.name: conn.execute(select(func.count()).select_from(t)).scalar_one() for t in tables}
