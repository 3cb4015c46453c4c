"""Dirty markers: what a transaction changed that the day worker must recompute, and the worker's
claims on them.

- ``dirty_days(nip, day)``: something dated ``day`` changed for ``nip`` (a punch whose local date
  it is, leave, a schedule, the roster's TMT, a correction, the closer reaching the day). The
  worker recomputes ``day`` and the days that own the punches dated ``day`` (a night shift's).
- ``dirty_pins(agency, pin)``: a punch of this PIN waits in quarantine, or the roster just named
  the PIN; the worker releases what it can.

A marker is a row, not a flag: writers only ever INSERT (no unique key, so a request never waits
for a worker holding the same key), and a worker DELETEs the rows it claims in the transaction
that acts on them (PostgreSQL: ``FOR UPDATE SKIP LOCKED``, and only markers of ASN whose lock the
claim gets without waiting, so N workers claim disjoint ASN; SQLite serialises writers). A marker inserted while its key is being worked on is a new row the worker
did not claim, so the key is worked on again: nothing is lost, whatever the order.

On PostgreSQL a statement trigger sends ``NOTIFY kehadiran_dirty`` with every insert, delivered
at commit, which wakes the workers at once.
"""
from __future__ import annotations

from datetime import date
from typing import Iterable, NamedTuple

from sqlalchemy import DDL, BigInteger, Column, Date, Index, Integer, MetaData, String, Table, event, text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from kehadiran.adapters.orm import metadata
from kehadiran.adapters.raw_sql import Raw
from kinerja.after_commit_notify import trigger_body

ID_TYPE = BigInteger().with_variant(Integer, "sqlite")
NOTIFY_CHANNEL = "kehadiran_dirty"
# the day worker processes without the lead wait on this (``wakeup.PgWaker``; ``cue_helpers``)
BACKLOG_CHANNEL = "kehadiran_days_backlog"
_CUE = text(f"SELECT pg_notify('{BACKLOG_CHANNEL}', '')")
# the same statements are in the migrations "day worker markers" and "notify after commit"; a
# transaction that deferred its notifications (a punch request's) sends none from it
# (``kinerja.after_commit_notify``)
NOTIFY_FUNCTION_SQL = (
    "CREATE OR REPLACE FUNCTION kehadiran_dirty_notify() RETURNS trigger LANGUAGE plpgsql AS "
    + trigger_body(NOTIFY_CHANNEL)
)


def trigger_sql(table: str) -> str:
    return (f"CREATE TRIGGER {table}_notify AFTER INSERT ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION kehadiran_dirty_notify()")


def add_marker_tables(metadata: MetaData) -> tuple[Table, Table]:
    days = Table("dirty_days", metadata,
                 Column("id", ID_TYPE, primary_key=True, autoincrement=True),
                 Column("nip", String(18), nullable=False),
                 Column("day", Date, nullable=False),
                 # the claim sweeps every marker of the keys it took (``claim``)
                 Index("ix_dirty_days_nip_day", "nip", "day"))
    pins = Table("dirty_pins", metadata,
                 Column("id", ID_TYPE, primary_key=True, autoincrement=True),
                 Column("agency", String(64), nullable=False),
                 Column("pin", String(20), nullable=False))
    for table in (days, pins):
        # tables made with create_all (tests, tools) wake workers like migrated ones
        event.listen(table, "after_create", DDL(NOTIFY_FUNCTION_SQL).execute_if(dialect="postgresql"))
        event.listen(table, "after_create", DDL(trigger_sql(table.name)).execute_if(dialect="postgresql"))
    return days, pins


DIRTY_DAYS, DIRTY_PINS = add_marker_tables(metadata)
_SCOPE = " AND nip IN (SELECT nip FROM employees WHERE agency = :agency)"
# the ASN's lock (``day_store.lock_asn``): the same key, so a worker holding it claims that ASN's
# markers and recomputes its days with nobody else's round on the ASN in between
ASN_LOCK_KEY = "hashtextextended('kehadiran.asn:' || {nip}, 0)"
_CLAIM_DAYS = {
    # SQLite has one writer at a time: the oldest markers
    ("sqlite", scoped): text(
        "DELETE FROM dirty_days WHERE id IN (SELECT id FROM dirty_days WHERE id <= :upto"
        + (_SCOPE if scoped else "") + " ORDER BY id LIMIT :n) RETURNING nip, day"
    ).columns(DIRTY_DAYS.c.nip, DIRTY_DAYS.c.day)
    for scoped in (False, True)
}
# PostgreSQL, any number of workers: the oldest markers no other worker has in hand (SKIP LOCKED),
# of the ASN whose lock this worker gets without waiting; a marker of an ASN another worker's round
# holds stays for a later round. So the workers' rounds share no ASN and never wait for each other
# (where claiming markers only, two rounds with markers of one ASN would queue on its lock, one
# after the other). Locks taken in a statement are the transaction's.
#
# The claimed keys' other markers go in the same statement (a day marked again and again while it
# waited, as when a big upload's requests each touch the same ASN-days), so a round recomputes a
# key once for all of them, not once per request that marked it. Safe whatever the order: a marker
# this statement sees was committed with what it marks, which the round's later statements read
# (PostgreSQL's read committed; SQLite's one writer); one committed after it stays for a later
# round. A marker another worker has in hand (SKIP LOCKED) stays too: recomputed once more, never
# lost. The keys are of ASN whose lock this round holds, so no other round works on them. The two
# DELETEs touch disjoint rows (the sweep skips the claimed ones), as one statement must.
#
# One row: the markers the claim looked at, those it left to another round's ASN, and the keys
# (JSON, decoded by the caller), so the worker knows whether markers were left behind (``Claim.more``).
#
# Linear in the markers it claims, whatever statistics the table has (a queue: empty one moment,
# tens of thousands of rows the next, analysed at either, or never), as long as its plan is made
# for the table's size of the moment (the round sends it unprepared:
# ``day_store.plans_of_the_moment``): no join of the table with a set the claim made. Each ASN's lock is tried per claimed marker (a lock this transaction holds
# is granted again at once; an ASN another round released between two of its markers only leaves
# the first for a later round); the claimed markers are deleted by primary key from one array,
# and each key's other markers are found by a look-up of its own in (nip, day) (a LATERAL query
# with OFFSET 0, which the planner keeps as one index probe per key rather than joining the table
# to the keys). Where a statement of the claim's shape joined the table to the claimed markers,
# a plan made while the queue was empty rescanned the table for each of its rows: one claim of
# 1,000 markers took 80 s (``test_day_round_plans``). This shape under such a plan still reads the
# table once per key (a seq scan for a table taken to be empty), which is why no plan is kept.
_CLAIM_PG = (
    "WITH claimable AS MATERIALIZED (SELECT id, nip FROM dirty_days WHERE id <= :upto{scope} "
    "ORDER BY id LIMIT :n FOR UPDATE SKIP LOCKED), "
    f"tried AS MATERIALIZED (SELECT id, pg_try_advisory_xact_lock({ASN_LOCK_KEY.format(nip='nip')}) AS mine "
    "FROM claimable), "
    "taken AS (DELETE FROM dirty_days WHERE id = ANY(ARRAY(SELECT id FROM tried WHERE mine)) "
    "RETURNING id, nip, day), "
    "keys AS MATERIALIZED (SELECT DISTINCT nip, day FROM taken), "
    "swept AS (DELETE FROM dirty_days WHERE id = ANY(ARRAY(SELECT o.id FROM keys AS k CROSS JOIN LATERAL "
    "(SELECT x.id FROM dirty_days AS x WHERE x.nip = k.nip AND x.day = k.day AND x.id <= :upto "
    "AND x.id NOT IN (SELECT id FROM taken) OFFSET 0 FOR UPDATE SKIP LOCKED) AS o))) "
    "SELECT (SELECT count(*) FROM tried), (SELECT count(*) FILTER (WHERE NOT mine) FROM tried), "
    "(SELECT json_agg(json_build_array(nip, day)) FROM keys)"
)
_CLAIM_DAYS.update({("postgresql", scoped): text(_CLAIM_PG.format(scope=_SCOPE if scoped else ""))
                    for scoped in (False, True)})
# SQLite: a key's markers up to an id, found in the (nip, day) index whatever the file's statistics
# say (INDEXED BY: taken while the queue was nearly empty, they made a join of the keys to the
# markers a scan of the markers per key). As ``id <= ? AND (nip, day) IN (VALUES ...)`` the sweep
# walked every marker up to the id: a backlog of 20,000 markers in rounds of 100 read ~2 million rows
# (a tenth of the round's CPU). One execution a key, in the driver's C loop (``executemany``).
_SWEEP_SQLITE = "DELETE FROM dirty_days INDEXED BY ix_dirty_days_nip_day WHERE nip = ? AND day = ? AND id <= ?"


def sweep_sqlite(conn: Session | Connection, keys: list[tuple[str, date]], upto: int) -> None:
    """SQLite: the markers of ``keys`` with ids up to ``upto`` deleted."""
    if keys:
        Raw(conn).cursor.executemany(_SWEEP_SQLITE, [(nip, day.isoformat(), upto) for nip, day in keys])


_CLAIM_PINS = {
    "postgresql": text("DELETE FROM dirty_pins WHERE id IN (SELECT id FROM dirty_pins "
                       "ORDER BY id LIMIT :n FOR UPDATE SKIP LOCKED) RETURNING agency, pin"),
    "sqlite": text("DELETE FROM dirty_pins WHERE id IN (SELECT id FROM dirty_pins ORDER BY id LIMIT :n) "
                   "RETURNING agency, pin"),
}
_ANY_DAYS_UPTO = {
    False: text("SELECT 1 FROM dirty_days WHERE id <= :upto LIMIT 1"),
    True: text("SELECT 1 FROM dirty_days WHERE id <= :upto AND nip IN (SELECT nip FROM employees "
               "WHERE agency = :agency) LIMIT 1"),
}
_ANY = text("SELECT (SELECT 1 FROM dirty_days LIMIT 1), (SELECT 1 FROM dirty_pins LIMIT 1)")
_MAX_DAY_ID = text("SELECT max(id) FROM dirty_days")
EVERY_ID = 2**62


def _dialect(conn: Session | Connection) -> str:
    return conn.get_bind().dialect.name if isinstance(conn, Session) else conn.dialect.name


def mark_days(conn: Session | Connection, keys: Iterable[tuple[str, date]]) -> int:
    """One marker per distinct (NIP, date), in one multi-row INSERT."""
    keys = sorted(set(keys))
    if keys:
        raw = Raw(conn)
        raw.insert_rows("dirty_days", ("nip", "day"), [(nip, raw.day(day)) for nip, day in keys])
    return len(keys)


def mark_pins(conn: Session | Connection, agency: str, pins: Iterable[str]) -> None:
    pins = sorted(set(pins))
    if pins:
        Raw(conn).insert_rows("dirty_pins", ("agency", "pin"), [(agency, pin) for pin in pins])


class Claim(NamedTuple):
    keys: list[tuple[str, date]]  # distinct (NIP, date), sorted
    # markers may be left that the claim could have taken: it took as many as it may, or left some
    # of ASN another worker's round holds (that round's commit notifies nobody); without either,
    # every marker committed before the claim is taken, and any committed since notifies
    more: bool


def claim(conn: Session | Connection, limit: int, *, upto: int = EVERY_ID, agency: str | None = None) -> Claim:
    """Take up to ``limit`` day markers (the oldest, of ids at most ``upto``, of ``agency``'s ASN
    when given) and the other markers of their keys, deleted with this transaction."""
    stmt = _CLAIM_DAYS[(_dialect(conn), agency is not None)]
    params = {"n": limit, "upto": upto, "agency": agency}
    if _dialect(conn) == "postgresql":
        seen, held, listed = conn.execute(stmt, params).one()
        keys = sorted((nip, date.fromisoformat(day)) for nip, day in listed or ())
        return Claim(keys, seen >= limit or held > 0)
    rows = conn.execute(stmt, params).all()
    keys = sorted({(nip, day) for nip, day in rows})
    if keys:
        sweep_sqlite(conn, keys, upto)
    return Claim(keys, len(rows) >= limit)


def cue_helpers(conn: Session | Connection) -> None:
    """PostgreSQL: wake every day worker process at this transaction's commit (a round that left
    markers it could have taken: a backlog for all of them)."""
    conn.execute(_CUE)


def claim_days(conn: Session | Connection, limit: int, *, upto: int = EVERY_ID,
               agency: str | None = None) -> list[tuple[str, date]]:
    """``claim``'s keys."""
    return claim(conn, limit, upto=upto, agency=agency).keys


def claim_pins(conn: Session | Connection, limit: int) -> list[tuple[str, str]]:
    rows = conn.execute(_CLAIM_PINS[_dialect(conn)], {"n": limit}).all()
    return sorted({(agency, pin) for agency, pin in rows})


def any_pending(conn: Session | Connection) -> bool:
    days, pins = conn.execute(_ANY).one()
    return bool(days or pins)


def days_pending_upto(conn: Session | Connection, upto: int, *, agency: str | None = None) -> bool:
    return conn.execute(_ANY_DAYS_UPTO[agency is not None], {"upto": upto, "agency": agency}).first() is not None


def last_day_marker(conn: Session | Connection) -> int:
    return conn.execute(_MAX_DAY_ID).scalar() or 0
