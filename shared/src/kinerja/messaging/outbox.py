"""The transactional outbox: a service writes its rows and the events about them in one
transaction; the relay publishes the events later. Also the ``processed_events`` table that makes
consumers idempotent.

Both tables are added to each service's own metadata, so each service's Alembic history owns them.
"""
from __future__ import annotations

import json
from datetime import datetime, timezone

from sqlalchemy import (
    BigInteger,
    Column,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    insert,
)
from sqlalchemy.orm import Session

from kinerja.db import UtcDateTime
from kinerja.events.envelope import Event
from kinerja.messaging import topics

ID_TYPE = BigInteger().with_variant(Integer, "sqlite")


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def outbox_table(metadata: MetaData) -> Table:
    if "outbox" in metadata.tables:
        return metadata.tables["outbox"]
    return Table(
        "outbox",
        metadata,
        Column("id", ID_TYPE, primary_key=True, autoincrement=True),
        Column("event_id", String(64), nullable=False, unique=True),
        Column("topic", String(200), nullable=False),  # base name; the relay adds the prefix
        Column("key", String(64), nullable=False),
        Column("value", Text, nullable=False),
        Column("created_at", UtcDateTime(), nullable=False, default=utcnow),
        Column("sent_at", UtcDateTime(), nullable=True),
        Index("ix_outbox_unsent", "sent_at", "id"),
    )


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
    )


def add_plumbing_tables(metadata: MetaData) -> tuple[Table, Table]:
    return outbox_table(metadata), processed_events_table(metadata)


class Outbox:
    """Adds events to the current transaction of a session."""

    def __init__(self, metadata: MetaData):
        self.table = outbox_table(metadata)

    def add(self, session: Session, event: Event) -> None:
        self.add_many(session, [event])

    def add_many(self, session: Session, events: list[Event]) -> None:
        if not events:
            return
        now = utcnow()
        session.execute(
            insert(self.table),
            [
                {
                    "event_id": e.id,
                    "topic": topics.topic_for_event_type(e.type),
                    "key": e.subject,
                    "value": json.dumps(e.to_dict(), separators=(",", ":"), default=str),
                    "created_at": now,
                }
                for e in events
            ],
        )
