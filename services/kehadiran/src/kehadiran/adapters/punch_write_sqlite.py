"""A punch request's write on SQLite, in two steps: ``prepare`` builds every row the request may
write (the punches, the outbox rows and day markers of those that may be new, as the driver takes
them) before the file's one write lock is taken; ``Prepared.write`` then runs only the INSERTs.

Why: every writer of the file (the web's workers and threads, the day worker, the relays' marks)
waits for whoever holds the lock, and the holder, a thread among many, waits for the GIL again
after each statement it sends. Building the events (ids, envelopes, JSON), formatting the times
and reading what the roster and the device know, under the lock, made each request hold it for
all of that; what is left under it is three INSERTs (four with quarantined PINs) and the COMMIT.

What only the punches' INSERT knows (which punches are new: a re-sent one, or one a concurrent
request stored first, is skipped by ``ON CONFLICT DO NOTHING``) decides which of the prepared
outbox rows and markers are written: a punch not stored adds nothing (PostgreSQL decides the same
inside its one statement, ``punch_write``).
"""
from __future__ import annotations

from datetime import date, datetime, timezone
from operator import itemgetter
from typing import Any, Iterable

from sqlalchemy.engine import Connection

from kehadiran.adapters.outbox_events import OUTBOX_COLUMNS
from kehadiran.adapters.punch_store import PUNCH_COLUMNS
from kehadiran.adapters.raw_sql import Raw
from kehadiran.adapters.raw_sql_text import sqlite_datetime

_OUTBOX_VALUES = itemgetter(*OUTBOX_COLUMNS)
_INSERT_SUFFIX = "ON CONFLICT (device_sn, person_key, device_time) DO NOTHING RETURNING id"


class Prepared:
    """The rows of one request, ready for the driver; ``write`` inserts those that are new."""

    __slots__ = ("agency", "punches", "outbox", "days", "pins", "contact")

    def __init__(self, agency: str, punches: list[tuple], outbox: list[tuple[str, tuple]],
                 days: list[tuple[str, str, str]], pins: dict[str, str],
                 contact: tuple[str, list] | None = None):
        self.agency = agency
        self.punches = punches  # PUNCH_COLUMNS values
        self.outbox = outbox  # (punch id, OUTBOX_COLUMNS values), in the order given
        self.days = days  # (punch id, NIP, local date as text)
        self.pins = pins  # punch id -> PIN, for the quarantined punches whose PIN is marked
        # the device's contact UPDATE (``device_store.contact_update``), last in the transaction
        self.contact = contact

    def write(self, conn: Connection) -> tuple[int, int]:
        """The INSERTs (in the caller's write transaction); (new punches with a NIP, new punches
        in quarantine)."""
        return write_many(conn, [self])[0]


def write_many(conn: Connection, requests: list[Prepared]) -> list[tuple[int, int]]:
    """Several requests' rows in the caller's write transaction, one INSERT a table (a chunk of
    ``raw_sql.CHUNK`` rows at a time) whatever their number; each request's (new punches with a
    NIP, new punches in quarantine), in order. A punch two of them carry (a device re-sending
    while its first request waits) is the first one's: the later one counts it as stored."""
    raw = Raw(conn)
    new = {row_id for (row_id,) in raw.insert_rows(
        "punches", PUNCH_COLUMNS, [row for p in requests for row in p.punches], suffix=_INSERT_SUFFIX)}
    answers, outbox, days, pins = [], [], set(), set()
    for p in requests:
        stored = {row[0] for row in p.punches if row[0] in new}
        new -= stored
        written = [values for punch_id, values in p.outbox if punch_id in stored]
        outbox += written
        # comprehensions, not generators: one Python call a request, not one a punch
        days.update({(nip, day) for punch_id, nip, day in p.days if punch_id in stored})
        if p.pins:
            pins.update({(p.agency, pin) for punch_id, pin in p.pins.items() if punch_id in stored})
        answers.append((len(written), len(stored) - len(written)))
    if outbox:
        # no wake-up for the relays: the day's summary brings them these rows (``punch_write``'s doc)
        raw.insert_rows("outbox", OUTBOX_COLUMNS, outbox, wake=False)
    if days:
        raw.insert_rows("dirty_days", ("nip", "day"), sorted(days))
    if pins:
        raw.insert_rows("dirty_pins", ("agency", "pin"), sorted(pins))
    # the devices' rows last: each stays locked only from its UPDATE to the COMMIT
    for p in requests:
        if p.contact is not None:
            raw.cursor.execute(*p.contact)
    return answers


def prepare(agency: str, rows: list[dict[str, Any]], outbox_rows: Iterable[tuple[str, dict[str, Any]]],
            days: Iterable[tuple[str, str, date]], quarantine_pins: set[str],
            received_at: datetime, contact: tuple[str, list] | None = None) -> Prepared:
    """``rows``: the punches (dicts of ``PUNCH_COLUMNS``, their ``received_at`` not read: every
    one's is ``received_at``, aware; ``device_time`` naive, ``time`` aware); ``outbox_rows``:
    (punch id, its event as a dict of ``OUTBOX_COLUMNS``) of those with a NIP; ``days``: (punch id, NIP, local date) of those;
    ``quarantine_pins``: PINs whose punches stored without a NIP mark the PIN; ``contact``: the
    device's contact UPDATE, written in the same transaction."""
    # every punch of a request arrived at once (``received_at``): that instant formatted once
    at = _instant(received_at)
    punches = [(r["id"], r["device_sn"], r["agency"], r["person_key"], sqlite_datetime(r["device_time"]),
                _instant(r["time"]), r["nip"], r["status"], r["channel"], at, r["event_id"], r["correction_id"])
               for r in rows]
    # itemgetter, not a generator: a generator's every step is a Python call, ~6 a punch here
    outbox = [(punch_id, _OUTBOX_VALUES(o)) for punch_id, o in outbox_rows]
    marks = [(punch_id, nip, day.isoformat()) for punch_id, nip, day in days]
    pins = {r["id"]: r["person_key"] for r in rows if r["nip"] is None and r["person_key"] in quarantine_pins}
    return Prepared(agency, punches, outbox, marks, pins, contact)


def _instant(value):
    """An instant as ``Raw.instant`` writes it on SQLite."""
    return None if value is None else sqlite_datetime(value.astimezone(timezone.utc))
