"""The day worker's writes: a round's day records and their ``kehadiran.day.summarized.v1``
outbox rows in bulk (PostgreSQL: one statement; SQLite: rows built before the write turn). Apart
from ``day_store`` (the reads and the ASN's lock) because a round writes once, after all its reads,
and SQLite's round builds these rows outside the store's connection (``day_round_sqlite``)."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, NamedTuple

import orjson
from sqlalchemy.engine import Connection

from kehadiran.adapters import outbox_events
from kehadiran.adapters.raw_sql import Raw
from kehadiran.adapters.raw_sql_text import pg_insert_text, sqlite_datetime

_DAY_COLUMNS = ("nip", "day", "version", "final", "payload", "updated_at")
_UPSERT_DAY = ("ON CONFLICT (nip, day) DO UPDATE SET version = excluded.version, final = excluded.final, "
               "payload = excluded.payload, updated_at = excluded.updated_at")

# PostgreSQL: a round's day records (an upsert) and their events' outbox rows, one statement (two
# JSON parameters: the records, then the outbox rows); kept for records without their events
_DAYS_AND_EVENTS_PG = (f"WITH days AS ({pg_insert_text('day_summaries', _DAY_COLUMNS, _UPSERT_DAY)}) "
                       + pg_insert_text("outbox", outbox_events.OUTBOX_COLUMNS, ""))
# PostgreSQL, the round's usual write: each record once (short keys, its event's id and agency), and
# its ``kehadiran.day.summarized.v1`` outbox value put together by the server from the record's JSON
# text (a ``json`` value keeps the text it was given, orjson's) and the envelope's fixed parts
# (``outbox_events.day_envelope_parts``), byte for byte what ``outbox_events.encode`` makes of
# ``day_summarized`` (``test_day_round_write``). The record was sent and parsed twice before, once
# as the payload and once escaped inside the event's text: this way the backend parses half the
# bytes, 20 -> 16 us of CPU an ASN-day for the statement (8 interleaved pairs, 5,000 records), and
# Python encodes no event. The outbox's serial ids follow the events' order (ORDINALITY).
_RECORDS_WITH_EVENTS_PG = (
    "WITH r AS MATERIALIZED (SELECT * FROM ROWS FROM (json_to_recordset(%s::json) "
    "AS (n text, d date, v integer, f boolean, p json, i text, a text)) WITH ORDINALITY AS r), "
    "days AS (INSERT INTO day_summaries (nip, day, version, final, payload, updated_at) "
    f"SELECT n, d, v, f, p, %s FROM r {_UPSERT_DAY}) "
    "INSERT INTO outbox (event_id, topic, key, value, created_at) "
    "SELECT i, %s, n, %s || i || %s || to_json(n)::text || %s || to_json(a)::text || %s || p::text || '}', %s "
    "FROM r ORDER BY r.ordinality"
)


def _records_with_events(rows: list[dict[str, Any]], events: list[dict[str, Any]]) -> list[dict[str, Any]] | None:
    """``rows`` in ``events``' order, each as ``_RECORDS_WITH_EVENTS_PG`` takes it; None unless
    every row has its day event, all of one round (one time, one ``updated_at``)."""
    if len(rows) != len(events):
        return None
    first = events[0]
    when, updated = first["time"], rows[0]["updated_at"]
    by_key = {(r["nip"], r["payload"]["date"]): r for r in rows}
    out = []
    for e in events:
        data = e["data"]
        r = by_key.get((e["subject"], data["date"]))
        if (r is None or r["payload"] is not data or e["time"] != when or r["updated_at"] != updated
                or e["type"] != outbox_events.DAY_SUMMARIZED or len(e) != 8):
            return None
        out.append({"n": r["nip"], "d": r["day"], "v": r["version"], "f": r["final"], "p": data, "i": e["id"],
                    "a": e["agency"]})
    return out


def write_days(conn: Connection, new: list[dict[str, Any]], changed: list[dict[str, Any]],
               events: list[dict[str, Any]] = (), *, at: datetime | None = None) -> None:
    """``new``: rows to insert (nip, day, version, final, payload, updated_at); ``changed``: the
    same keys for rows that exist; ``events``: their ``kehadiran.day.summarized.v1`` events, written
    to the outbox (``created_at`` ``at``). The caller holds the ASN's lock, so nobody else writes them."""
    if conn.dialect.name == "postgresql":
        # one statement for the lot (see ``raw_sql``); an upsert, as the lock makes it safe
        rows = new + changed
        together = _records_with_events(rows, events) if rows and events else None
        if together is not None:
            raw = Raw(conn)
            head, after_id, after_subject, after_agency = outbox_events.day_envelope_parts(events[0]["time"])
            raw.cursor.execute(_RECORDS_WITH_EVENTS_PG, [
                orjson.dumps(together).decode(), rows[0]["updated_at"], outbox_events.DAY_TOPIC, head, after_id,
                after_subject, after_agency, raw.instant(at)])
            return
        if rows and events:
            # records and outbox rows in one statement: a round trip and a statement's overhead
            # less a round (the outbox's serial ids still follow the events' order)
            raw = Raw(conn)
            raw.cursor.execute(_DAYS_AND_EVENTS_PG, [
                orjson.dumps(rows).decode(),
                orjson.dumps(outbox_events.rows(events, created_at=raw.instant(at))).decode()])
            return
        if rows:
            Raw(conn).insert_records("day_summaries", _DAY_COLUMNS, rows, suffix=_UPSERT_DAY, few=0)
        outbox_events.write(conn, events, at=at)
        return
    write_sqlite(conn, SqliteRows.of(new, changed, events, at=at or datetime.now(timezone.utc)))


class SqliteRows(NamedTuple):
    """SQLite: a round's day records and outbox rows as the driver takes them, built before its
    write turn (``day_round_sqlite``): the turn, every writer's, holds only their INSERTs."""

    days: list[tuple]
    outbox: list[tuple]

    @classmethod
    def of(cls, new: list[dict[str, Any]], changed: list[dict[str, Any]], events: list[dict[str, Any]], *,
           at: datetime) -> "SqliteRows":
        instant = sqlite_datetime(at.astimezone(timezone.utc))
        # hand-written, the payload encoded by orjson (the JSON type's ``json.dumps`` and the
        # statement's per-row bind processing were ~10 Python calls an ASN-day); the changed
        # records in the same upsert as the new (an UPDATE each, executemany: twice a new one's CPU)
        return cls([(r["nip"], r["day"].isoformat(), r["version"], r["final"], orjson.dumps(r["payload"]).decode(),
                     instant) for r in new + changed],
                   [tuple(row[c] for c in outbox_events.OUTBOX_COLUMNS)
                    for row in outbox_events.rows(events, created_at=instant)])


def write_sqlite(conn: Connection, rows: SqliteRows) -> None:
    raw = Raw(conn)
    if rows.days:
        raw.insert_rows("day_summaries", _DAY_COLUMNS, rows.days, suffix=_UPSERT_DAY)
    if rows.outbox:
        raw.insert_rows("outbox", outbox_events.OUTBOX_COLUMNS, rows.outbox)
