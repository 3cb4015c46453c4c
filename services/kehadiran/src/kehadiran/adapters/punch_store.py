"""The punch ingest's statements: the request's own hand-written SQL on the DBAPI cursor
(``raw_sql``), reading and writing tuples, never ORM objects; the quarantine's (the day worker's)
as Core statements built once."""
from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Any, Iterable

import orjson
from sqlalchemy import bindparam, select, update
from sqlalchemy.engine import Connection

from kehadiran.adapters.orm import PunchRow, pin_key
from kehadiran.adapters.raw_sql import Raw
from kehadiran.adapters.raw_sql_text import sqlite_datetime

# at most this many values in one IN (...) list, rows in one INSERT
CHUNK = 500
PUNCHES = PunchRow.__table__


_QUARANTINED = select(PunchRow.id, PunchRow.device_sn, PunchRow.person_key, PunchRow.device_time, PunchRow.time,
                      PunchRow.status, PunchRow.channel).where(
    PunchRow.agency == bindparam("agency"), PunchRow.person_key.in_(bindparam("pins", expanding=True)),
    PunchRow.nip.is_(None)
).order_by(PunchRow.time, PunchRow.id)
_RELEASE = update(PUNCHES).where(PUNCHES.c.id == bindparam("pid"), PUNCHES.c.nip.is_(None)).values(
    nip=bindparam("to_nip"), event_id=bindparam("eid"))


def chunks(seq: list, size: int = CHUNK):
    for i in range(0, len(seq), size):
        yield seq[i:i + size]


def chunks_of(raw: Raw, seq: list):
    """``seq`` in chunks of IN (...) lists on SQLite; whole on PostgreSQL, where a list is one
    array parameter (``Raw.in_list``): a statement a look-up, whatever the batch's size."""
    if raw.pg:
        return [seq] if seq else []
    return chunks(seq)


PUNCH_COLUMNS = ("id", "device_sn", "agency", "person_key", "device_time", "time", "nip", "status", "channel",
                 "received_at", "event_id", "correction_id")


# PostgreSQL: a batch's lists as one JSON text each (orjson, in C; psycopg dumps an array
# parameter element by element in Python, a tenth of a 200-punch request's CPU for its five
# lists), made an array once per execution (an InitPlan) whose elements the index is probed with,
# under a generic plan too (``test_ingest_plans``; ``IN (SELECT ...)`` of the same set got a scan
# of the agency's whole roster)
_IN_JSON = "{column} = ANY(ARRAY(SELECT json_array_elements_text(CAST(? AS json))))"


def _in(raw: Raw, column: str, values: list) -> tuple[str, list]:
    if raw.pg:
        return _IN_JSON.format(column=column), [orjson.dumps(values).decode()]
    return raw.in_list(column, values)


# PostgreSQL: one probe of the (agency, PIN) index per key, the lower NIP of each (a subquery with
# LIMIT is never flattened, so the join stays a nested loop over the keys whatever the statistics
# say). As ``pin = ANY(<list>)`` it was planned, under statistics taken while the roster was empty
# (an agency's roster imported in seconds, its devices uploading before autovacuum analysed it), as
# a walk of the agency's whole roster with the list looked through per row, every request: 40,201
# rows for 200 punches, 4,400 punches/s where 11,000 were measured (``test_ingest_plans``)
_NIP_BY_PIN_PG = ("SELECT k.v, e.nip FROM json_array_elements_text(CAST(? AS json)) AS k(v) "
                  "CROSS JOIN LATERAL (SELECT nip FROM employees WHERE agency = ? AND active AND {column} = k.v "
                  "ORDER BY nip LIMIT 1) AS e")


def nips_by_pin(conn: Connection, agency: str, pins: Iterable[str], *, ignore_zeros: bool = False) -> dict[str, str]:
    """The active ASN of ``agency`` each PIN names; a PIN two active ASN share goes to the lower NIP.
    ``ignore_zeros`` (the agency's setting): PINs are matched without their leading zeros, so a
    terminal's ``007`` names the roster's ``7`` (and ``07``)."""
    found: dict[str, str] = {}
    raw = Raw(conn)
    pins = set(pins)
    column = "pin_key" if ignore_zeros else "pin"
    keys = {pin: pin_key(pin) if ignore_zeros else pin for pin in pins}
    by_key: dict[str, str] = {}
    for chunk in chunks_of(raw, sorted(set(keys.values()))):
        if raw.pg:
            rows = raw.query(_NIP_BY_PIN_PG.format(column=column), [orjson.dumps(chunk).decode(), agency])
        else:
            where, params = _in(raw, column, chunk)
            rows = raw.query(f"SELECT {column}, nip FROM employees WHERE agency = ? AND active AND {where} "
                             f"ORDER BY {column}, nip", [agency, *params])
        for key, nip in rows:
            by_key.setdefault(key, nip)
    for pin, key in keys.items():
        if key in by_key:
            found[pin] = by_key[key]
    return found


def zero_forms(pin: str) -> list[str]:
    """Every PIN that is ``pin`` but for leading zeros, up to the column's width: ``7`` →
    ``7``, ``07``, ``007`` ... (what a quarantined punch of that person may carry)."""
    key = pin_key(pin)
    return ["0" * k + key for k in range(0, 20 - len(key) + 1)]


def known_nips(conn: Connection, agency: str, nips: Iterable[str]) -> set[str]:
    """The NIPs of ``nips`` the roster has in ``agency``."""
    found: set[str] = set()
    raw = Raw(conn)
    for chunk in chunks_of(raw, sorted(set(nips))):
        where, params = _in(raw, "nip", chunk)
        found.update(nip for (nip,) in raw.query(f"SELECT nip FROM employees WHERE agency = ? AND {where}",
                                                 [agency, *params]))
    return found


# one probe of the punch identity's index per key (a subquery with LIMIT is never flattened, so
# the join stays a nested loop over the keys): the two lists as ``= ANY(...)`` made PostgreSQL
# before 17 probe every (PIN, time) pair of their product, 40,000 descents for 200 punches; the
# keys as a recordset joined plainly got a hash join over every punch the device ever sent
_STORED_KEYS_PG = ("SELECT p.person_key, p.device_time FROM json_to_recordset(CAST(? AS json)) AS k(k varchar, t timestamp) "
                   "CROSS JOIN LATERAL (SELECT person_key, device_time FROM punches WHERE device_sn = ? "
                   "AND person_key = k.k AND device_time = k.t LIMIT 1) AS p")


@lru_cache(maxsize=64)
def _stored_keys_sqlite(n: int) -> str:
    """SQLite: the keys as a VALUES list joined to the punch identity's index, one probe a key.
    ``person_key IN (...) AND device_time IN (...)`` made SQLite probe every pair of the two
    lists' product (up to 40,000 for 200 punches): a 200-punch JSON request took 1,777 SQLite
    virtual-machine steps a punch in all, now 176 (``test_stored_keys_steps``)."""
    return (f"WITH k(p, t) AS (VALUES {', '.join(['(?, ?)'] * n)}) SELECT p.person_key, p.device_time FROM k "
            "JOIN punches AS p ON p.device_sn = ? AND p.person_key = k.p AND p.device_time = k.t")


def stored_keys(conn: Connection, device_sn: str, keys: list[tuple[str, datetime]]) -> set[tuple[str, datetime]]:
    """The (PIN, device time) pairs of ``keys`` this device stored already, a statement per chunk."""
    found: set[tuple[str, datetime]] = set()
    raw = Raw(conn)
    if raw.pg:
        if keys:
            rows = raw.query(_STORED_KEYS_PG, [orjson.dumps([{"k": k, "t": t} for k, t in set(keys)]).decode(),
                                               device_sn])
            found.update(rows)
        return found
    for chunk in chunks_of(raw, keys):
        texts = [sqlite_datetime(t) for _, t in chunk]
        by_text = dict(zip(texts, [t for _, t in chunk]))
        params = [v for (k, _), text in zip(chunk, texts) for v in (k, text)]
        params.append(device_sn)
        rows = raw.query(_stored_keys_sqlite(len(chunk)), params)
        # SQLite gives the stored text back
        found.update({(k, by_text.get(t, t)) for k, t in rows})
    return found


def insert_new(conn: Connection, rows: list[dict[str, Any]]) -> set[str]:
    """Insert the punches, skipping those stored already (``ON CONFLICT DO NOTHING``: a punch a
    concurrent request stored first, after waiting for that request's commit); the ids of the
    rows stored. One multi-row INSERT ... RETURNING a chunk of rows."""
    raw = Raw(conn)
    values = [(r["id"], r["device_sn"], r["agency"], r["person_key"], raw.wall(r["device_time"]), raw.instant(r["time"]),
               r["nip"], r["status"], r["channel"], raw.instant(r["received_at"]), r["event_id"], r["correction_id"])
              for r in rows]
    return {row_id for (row_id,) in raw.insert_rows(
        "punches", PUNCH_COLUMNS, values,
        suffix="ON CONFLICT (device_sn, person_key, device_time) DO NOTHING RETURNING id")}


def quarantined(conn: Connection, agency: str, pin: str, *, for_update: bool, ignore_zeros: bool = False) -> list:
    """The punches of ``pin`` (and, with ``ignore_zeros``, of its forms with leading zeros)
    waiting in quarantine, locked on PostgreSQL (``for_update``): a second worker releasing the
    same PIN waits, then finds them released."""
    stmt = _QUARANTINED.with_for_update() if for_update else _QUARANTINED
    return conn.execute(stmt, {"agency": agency, "pins": zero_forms(pin) if ignore_zeros else [pin]}).all()


def release(conn: Connection, rows: list[dict[str, str]]) -> None:
    """``[{pid, to_nip, eid}]``: each punch (still quarantined) is the ASN's, with its event id."""
    if rows:
        conn.execute(_RELEASE, rows)
