"""The day worker's statements: an ASN's lock, the facts of many (ASN, day) keys read a few
statements at a time, and the day records written in bulk. Core, built once."""
from __future__ import annotations

from datetime import date, datetime, timezone
from types import SimpleNamespace
from typing import Any, Iterable, NamedTuple

import orjson
from sqlalchemy import JSON, Date, DateTime, Integer, String, Text, bindparam, func, select, text, type_coerce, union_all
from sqlalchemy.types import TypeDecorator
from sqlalchemy.engine import Connection

from kehadiran.adapters.calendar_orm import Leave, Tracking
from kehadiran.adapters.markers import ASN_LOCK_KEY
from kehadiran.adapters.orm import DaySummaryRow, Employee, PunchRow
from kehadiran.adapters import outbox_events
from kehadiran.adapters.raw_sql import Raw, pg_insert_text, sqlite_datetime
from kehadiran.adapters.union_reads import kind, none
from kinerja.db import UtcDateTime, planned_each_time


class JsonList(TypeDecorator):
    """A list of strings bound as one JSON text: orjson encodes it in C, where psycopg dumps an
    array parameter element by element in Python (a regex search each: a fifth of a round's CPU)."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return orjson.dumps(list(value)).decode()


def _member_pg(column, name: str):
    # one parameter: the statement's text is the same whatever the count, where an expanding IN
    # is compiled again, and parsed again by the driver, every execution. ARRAY(SELECT ...) is an
    # InitPlan: the server expands the list once per execution, never once per row, and the
    # column's index takes it as it takes an array parameter, under a generic plan too
    # (``test_day_round_plans``; 9ef9b0d's ``string_to_array($n)`` was an expression of its own)
    listed = text(f"(ARRAY(SELECT json_array_elements_text(CAST(:{name} AS json))))").bindparams(
        bindparam(name, type_=JsonList()))
    return column.op("= ANY")(listed)


def _member_sqlite(column, name: str):
    # one JSON parameter, as on PostgreSQL: an expanding IN was rendered again for every execution
    # (a bind name per value, ~15 % of a SQLite round's CPU) and split into chunks of the driver's
    # parameter limit; the index on ``column`` is probed once per element (``LIST SUBQUERY``)
    return column.in_(select(func.json_each(bindparam(name, type_=JsonList())).table_valued("value").c.value))


# ``column`` is one of the list parameter ``name``, as each database does it best
MEMBER = {"postgresql": _member_pg, "sqlite": _member_sqlite}


def lists(conn: Connection, seq: list) -> list[list]:
    """``seq`` in the pieces one statement takes: whole (one JSON parameter on either database)."""
    return [seq] if seq else []

class Asn(NamedTuple):
    """What the recompute needs of an ASN (the attributes schedules' context loading reads)."""

    nip: str
    agency: str
    unit: str
    tmt: date | None
    active: bool


class StoredPunch(NamedTuple):
    nip: str
    id: str
    time: datetime  # aware (PostgreSQL: in the session's zone; SQLite: UTC)
    status: str | None
    event_id: str | None
    correction_id: str | None


class StoredDay(NamedTuple):
    version: int
    payload: dict


def _reads(member) -> SimpleNamespace:
    return SimpleNamespace(
        asn_since=select(Employee.nip, Employee.agency, Employee.unit, Employee.tmt, Employee.active,
                         Tracking.since).outerjoin(Tracking, Tracking.nip == Employee.nip).where(
            member(Employee.nip, "nips")),
    )


_READS = {dialect: _reads(member) for dialect, member in MEMBER.items()}


# a punch's instant as the driver gives it, aware in the session's zone: the recompute takes it to the
# agency's zone at once, so ``UtcDateTime``'s conversion to UTC first (and its per-row result
# processing) was a call and an ``astimezone`` an ASN-day for nothing (PostgreSQL; SQLite stores a
# naive UTC text, which ``UtcDateTime`` makes aware)
_AWARE = DateTime(timezone=True)


def _facts_read(member, payload=DaySummaryRow.payload, instant=_AWARE):
    """A window's three reads as one statement (each list one parameter): a row per fact, its kind
    first (``d`` a day record, ``l`` leave, ``p`` a punch), the others' columns NULL."""
    return union_all(
        select(kind("d"), DaySummaryRow.nip, DaySummaryRow.day, DaySummaryRow.version, payload,
               none(String), none(instant), none(String), none(String), none(String)).where(
            member(DaySummaryRow.nip, "nips"), DaySummaryRow.day >= bindparam("lo"),
            DaySummaryRow.day <= bindparam("hi")),
        select(kind("l"), Leave.nip, Leave.day, none(Integer), none(JSON), none(String), none(instant),
               Leave.kind, none(String), none(String)).where(
            member(Leave.nip, "nips"), Leave.day >= bindparam("lo"), Leave.day <= bindparam("hi")),
        select(kind("p"), PunchRow.nip, none(Date), none(Integer), none(JSON), PunchRow.id,
               type_coerce(PunchRow.time, instant).label("time"),
               PunchRow.status, PunchRow.event_id, PunchRow.correction_id).where(
            member(PunchRow.nip, "nips"), PunchRow.time >= bindparam("start"), PunchRow.time < bindparam("end")),
    )


_FACTS = {"postgresql": _facts_read(MEMBER["postgresql"]),
          # SQLite: the payloads as text, decoded by orjson (the JSON type's ``json.loads`` was most of
          # the read's CPU where the days had records: an upload's departures)
          "sqlite": _facts_read(MEMBER["sqlite"], type_coerce(DaySummaryRow.payload, Text), UtcDateTime())}


def reads(conn: Connection) -> SimpleNamespace:
    """The statements for ``conn``'s database."""
    return _READS[conn.dialect.name]


_DAY_COLUMNS = ("nip", "day", "version", "final", "payload", "updated_at")
_UPSERT_DAY = ("ON CONFLICT (nip, day) DO UPDATE SET version = excluded.version, final = excluded.final, "
               "payload = excluded.payload, updated_at = excluded.updated_at")
# one advisory lock per key, in the keys' order
_LOCK_KEYS = text(f"SELECT pg_advisory_xact_lock({ASN_LOCK_KEY.format(nip='k')}) "
                  "FROM unnest(CAST(:keys AS text[])) AS k")


def fast_json(conn: Connection) -> None:
    """On PostgreSQL, JSON columns (the day records' payloads a round reads, a year of them for
    the alerts) decoded by orjson on this connection, not the standard library's ``json``: the
    same values, a fifth of a big round's CPU less. Once per pooled connection."""
    if conn.dialect.name != "postgresql" or conn.connection.info.get("orjson"):
        return
    from psycopg.types.json import set_json_loads

    set_json_loads(orjson.loads, conn.connection.dbapi_connection)
    conn.connection.info["orjson"] = True


# every statement of the block planned for the tables as they are when it runs (the worker's queue
# statements; ``kinerja.db.planned_each_time`` says why: the 284.75 s stall after an upload)
plans_of_the_moment = planned_each_time


def lock_asn(conn: Connection, nips: list[str]) -> None:
    """On PostgreSQL, a transaction-scoped lock per ASN, taken in NIP order (two workers cannot
    deadlock): every write of an ASN's day records and alerts happens under it, so a worker
    reads the records another worker committed for that ASN, never a version it is still
    writing. SQLite serialises writers already."""
    if conn.dialect.name == "postgresql" and nips:
        conn.execute(_LOCK_KEYS, {"keys": sorted(set(nips))}).all()


# PostgreSQL: one primary-key probe of ``employees`` and of ``tracking`` per NIP of the list, whatever
# the tables' statistics. As ``employees.nip = ANY(<the list>)`` a table never analysed (a new
# database, a roster just loaded) was read whole every round, each row checked against the round's
# 500 NIPs one by one, and ``tracking`` joined by hash after a scan of its own: 40 ms of the
# backend a round at 5,000 ASN, 0.08 ms an ASN-day, more than the rest of the round's statements
# together. A LATERAL query with OFFSET 0 stays one index probe per outer row (``markers`` claims
# the same way); ``test_asn_read_plans`` holds it to the list's size.
_ASN_SINCE_PG = text(
    "SELECT e.nip, e.agency, e.unit, e.tmt, e.active, t.since "
    "FROM json_array_elements_text(CAST(:nips AS json)) AS k(nip) "
    "CROSS JOIN LATERAL (SELECT nip, agency, unit, tmt, active FROM employees WHERE employees.nip = k.nip "
    "OFFSET 0) AS e "
    "LEFT JOIN LATERAL (SELECT since FROM tracking WHERE tracking.nip = k.nip OFFSET 0) AS t ON true"
).bindparams(bindparam("nips", type_=JsonList()))


def asns_tracked(conn: Connection, nips: Iterable[str]) -> tuple[dict[str, Asn], dict[str, date]]:
    """``asns`` and ``tracked_since`` of ``nips`` in one statement."""
    people: dict[str, Asn] = {}
    since: dict[str, date] = {}
    stmt = _ASN_SINCE_PG if conn.dialect.name == "postgresql" else reads(conn).asn_since
    for chunk in lists(conn, sorted(set(nips))):
        for nip, agency, unit, tmt, active, tracked in conn.execute(stmt, {"nips": chunk}).all():
            people[nip] = Asn(nip, agency, unit, tmt, active)
            if tracked is not None:
                since[nip] = tracked
    return people, since


def facts(conn: Connection, nips: list[str], lo: date, hi: date, start: datetime, end: datetime
          ) -> tuple[dict[tuple[str, date], StoredDay], dict[tuple[str, date], str], list[StoredPunch]]:
    """Day records and leave of ``nips`` from ``lo`` to ``hi``, and their punches from ``start``
    to ``end`` (instants)."""
    days: dict[tuple[str, date], StoredDay] = {}
    leaves: dict[tuple[str, date], str] = {}
    punches: list[StoredPunch] = []
    decode = orjson.loads if conn.dialect.name == "sqlite" else None
    # one statement, not three
    for kind, nip, day, version, payload, pid, t, status, event_id, correction_id in conn.execute(
            _FACTS[conn.dialect.name], {"nips": nips, "lo": lo, "hi": hi, "start": start, "end": end}).all():
        if kind == "p":
            punches.append(StoredPunch(nip, pid, t, status, event_id, correction_id))
        elif kind == "d":
            days[(nip, day)] = StoredDay(version, decode(payload) if decode else payload)
        else:
            leaves[(nip, day)] = status
    return days, leaves, punches


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
