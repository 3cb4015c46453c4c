"""The day worker's reads and its lock: an ASN's lock, and the facts of many (ASN, day) keys read a
few statements at a time. Core, built once. The day records a round writes are ``day_write``; the
list parameter these reads take is ``list_member``."""
from __future__ import annotations

from datetime import date, datetime
from types import SimpleNamespace
from typing import Iterable, NamedTuple

import orjson
from sqlalchemy import JSON, Date, DateTime, Integer, String, Text, bindparam, select, text, type_coerce, union_all
from sqlalchemy.engine import Connection

from kehadiran.adapters.calendar_orm import Leave, Tracking
from kehadiran.adapters.list_member import MEMBER, JsonList, lists
from kehadiran.adapters.markers import ASN_LOCK_KEY
from kehadiran.adapters.orm import DaySummaryRow, Employee, PunchRow
from kehadiran.adapters.union_reads import kind, none
from kinerja.db import UtcDateTime, planned_each_time


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


