"""The punch ingest's statements, built once (building one costs more CPU than running it on
SQLite), Core only: the request reads and writes tuples, never ORM objects."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Iterable

from sqlalchemy import bindparam, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection

from kehadiran.adapters.orm import Employee, PunchRow

# at most this many values in one IN (...) list, rows in one INSERT
CHUNK = 500
PUNCHES = PunchRow.__table__


def _in(name: str):
    return bindparam(name, expanding=True)


_EMPLOYEES_BY_NIP = select(Employee.nip, Employee.agency).where(Employee.nip.in_(_in("nips")))
_EMPLOYEES_BY_PIN = select(Employee.pin, Employee.nip).where(
    Employee.agency == bindparam("agency"), Employee.pin.in_(_in("pins")), Employee.active.is_(True)
).order_by(Employee.pin, Employee.nip)
_STORED_KEYS = select(PunchRow.person_key, PunchRow.device_time).where(
    PunchRow.device_sn == bindparam("sn"), PunchRow.person_key.in_(_in("keys")),
    PunchRow.device_time.in_(_in("times")))
# ON CONFLICT DO NOTHING: a punch a concurrent request stored first is skipped (after waiting for
# that request's commit), and RETURNING says which rows this statement stored; SQLAlchemy sends
# the executemany as multi-row INSERT ... VALUES (...), (...) ... RETURNING on both databases
_INSERT_PUNCHES = {
    name: insert(PUNCHES).on_conflict_do_nothing(index_elements=["device_sn", "person_key", "device_time"])
    .returning(PUNCHES.c.id)
    for name, insert in (("postgresql", postgresql_insert), ("sqlite", sqlite_insert))
}
_QUARANTINED = select(PunchRow.id, PunchRow.device_sn, PunchRow.person_key, PunchRow.device_time, PunchRow.time,
                      PunchRow.status, PunchRow.channel).where(
    PunchRow.agency == bindparam("agency"), PunchRow.person_key == bindparam("pin"), PunchRow.nip.is_(None)
).order_by(PunchRow.time, PunchRow.id)
_RELEASE = update(PUNCHES).where(PUNCHES.c.id == bindparam("pid"), PUNCHES.c.nip.is_(None)).values(
    nip=bindparam("to_nip"), event_id=bindparam("eid"))


def chunks(seq: list, size: int = CHUNK):
    for i in range(0, len(seq), size):
        yield seq[i:i + size]


def nips_by_pin(conn: Connection, agency: str, pins: Iterable[str]) -> dict[str, str]:
    """The active ASN of ``agency`` each PIN names; a PIN two active ASN share goes to the lower NIP."""
    found: dict[str, str] = {}
    for chunk in chunks(sorted(set(pins))):
        for pin, nip in conn.execute(_EMPLOYEES_BY_PIN, {"agency": agency, "pins": chunk}):
            found.setdefault(pin, nip)
    return found


def known_nips(conn: Connection, agency: str, nips: Iterable[str]) -> set[str]:
    """The NIPs of ``nips`` the roster has in ``agency``."""
    found: set[str] = set()
    for chunk in chunks(sorted(set(nips))):
        found.update(nip for nip, emp_agency in conn.execute(_EMPLOYEES_BY_NIP, {"nips": chunk})
                     if emp_agency == agency)
    return found


def stored_keys(conn: Connection, device_sn: str, keys: list[tuple[str, datetime]]) -> set[tuple[str, datetime]]:
    """The (PIN, device time) pairs of ``keys`` this device stored already, a statement per chunk."""
    found: set[tuple[str, datetime]] = set()
    for chunk in chunks(keys):
        rows = conn.execute(_STORED_KEYS, {"sn": device_sn, "keys": list({k for k, _ in chunk}),
                                           "times": list({t for _, t in chunk})})
        found.update((k, t) for k, t in rows)
    return found


def insert_new(conn: Connection, rows: list[dict[str, Any]]) -> set[str]:
    """Insert the punches, skipping those stored already; the ids of the rows stored."""
    stmt = _INSERT_PUNCHES[conn.dialect.name]
    stored: set[str] = set()
    for chunk in chunks(rows):
        stored.update(conn.execute(stmt, chunk).scalars())
    return stored


def quarantined(conn: Connection, agency: str, pin: str, *, for_update: bool) -> list:
    """The punches of ``pin`` waiting in quarantine, locked on PostgreSQL (``for_update``): a
    second worker releasing the same PIN waits, then finds them released."""
    stmt = _QUARANTINED.with_for_update() if for_update else _QUARANTINED
    return conn.execute(stmt, {"agency": agency, "pin": pin}).all()


def release(conn: Connection, rows: list[dict[str, str]]) -> None:
    """``[{pid, to_nip, eid}]``: each punch (still quarantined) is the ASN's, with its event id."""
    if rows:
        conn.execute(_RELEASE, rows)
