"""Punch ingest: what a device's or phone's request does, and only what must be atomic.

One transaction per request: the new punches (one multi-row ``INSERT ... ON CONFLICT DO NOTHING
RETURNING``), their ``kehadiran.punch.recorded.v1`` outbox rows (plain dicts, encoded once), and
a dirty marker per touched (ASN, local date) for the day worker. On PostgreSQL the three are one
statement (``adapters.punch_write``: the outbox rows and markers chained to the INSERT's
``RETURNING``), sent with the COMMIT; SQLite runs an INSERT each, its rows all built before the
file's write lock is taken (``adapters.punch_write_sqlite``). No day is recomputed here, no
lock is taken beyond the rows inserted, nothing goes through the ORM.

A punch from a PIN the roster does not know is stored without a NIP (quarantine) and its PIN
marked dirty; the day worker releases it once the roster names the PIN (``day_worker``). The
roster event marks the PIN too, so whichever of the two commits second leaves a marker that the
worker claims after both committed, and finds both: no punch waits for a roster change that
already happened, whatever the interleaving.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Iterable, Mapping

from sqlalchemy.engine import Connection

from kehadiran.adapters import outbox_events, punch_store, punch_write, punch_write_group, punch_write_sqlite
from kehadiran.adapters.raw_sql_text import sqlite_datetime
from kinerja.zones import zone


@dataclass
class PunchInput:
    """One punch as a device reported it, already validated for shape."""

    person_key: str  # PIN, or NIP when the caller names the person directly
    device_time: datetime  # naive, the device's own clock
    status: str | None = None
    by_nip: bool = False
    # the instant when it is not the device clock's: a phone's punch is the moment it arrived
    instant: datetime | None = None


@dataclass(frozen=True)
class DeviceRef:
    """What the ingest needs of a device."""

    sn: str
    agency: str
    tz_offset_minutes: int
    agency_zone: str | None = None  # the agency's zone from the roster; None: the caller's default
    ignore_pin_zeros: bool = False  # the agency's rule: '007' and '7' are one person

    @classmethod
    def of(cls, device) -> "DeviceRef":
        return cls(device.sn, device.agency, device.tz_offset_minutes, getattr(device, "agency_zone", None),
                   bool(getattr(device, "ignore_pin_zeros", False)))


class IngestResult:
    """What became of a request's punches: new (``accepted``), stored already (``duplicates``),
    kept in quarantine, refused (``rejected``, the caller's). On PostgreSQL which punches were new
    is the answer of the write that goes out with the COMMIT (``punch_write``): it is read when a
    count is first asked for (``settle``), which the callers do once they have committed."""

    def __init__(self, *, accepted: int = 0, duplicates: int = 0, quarantined: int = 0) -> None:
        self._accepted, self._duplicates, self._quarantined = accepted, duplicates, quarantined
        self.rejected: list[dict[str, Any]] = []
        self._written: punch_write.Written | None = None
        self._sent = 0
        # SQLite: the ``contact`` given to ``record_punches`` was written in the punches' transaction
        self.contact_written = False

    def answered_by(self, written: punch_write.Written, sent: int) -> "IngestResult":
        """The counts of ``sent`` punches are ``written``'s answer."""
        self._written, self._sent = written, sent
        return self

    def settle(self) -> "IngestResult":
        """Reads the write's answer now (at the latest when a count is asked for)."""
        if self._written is not None:
            known, unknown = self._written.counts()
            self._written = None
            self._accepted += known
            self._quarantined += unknown
            # the rest were stored already (by a concurrent request, after waiting for its commit)
            self._duplicates += self._sent - known - unknown
        return self

    @property
    def accepted(self) -> int:
        self.settle()
        return self._accepted

    @property
    def duplicates(self) -> int:
        self.settle()
        return self._duplicates

    @property
    def quarantined(self) -> int:
        self.settle()
        return self._quarantined

    def as_dict(self) -> dict[str, Any]:
        return {"accepted": self.accepted, "duplicates": self.duplicates,
                "quarantined": self.quarantined, "rejected": self.rejected}


# up to this many punches, a batch is not checked for stored ones before the INSERT
SMALL_BATCH = 4
# SQLite: requests of more punches than this may be written in one transaction with others waiting
# for the write lock (``punch_write_group``); one-punch requests too: at 50 terminals pushing as they
# go, each took a lock turn and a COMMIT of its own
GROUP_FROM = 0


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def record_punches(conn: Connection, device: DeviceRef, items: Iterable[PunchInput], *, channel: str,
                   agency_tz: str, now: datetime | None = None,
                   pin_nips: Mapping[str, str | None] | None = None,
                   writes: Callable[[], None] = lambda: None, alone: bool = False,
                   contact: tuple[str, list] | None = None) -> IngestResult:
    """Store new punches with their events and dirty markers; a re-sent punch is counted as a
    duplicate, a punch from an unknown PIN is kept in quarantine. A few statements a batch,
    whatever its size; on PostgreSQL the writes are one statement (``punch_write``).
    ``pin_nips``: PINs whose NIP (None: nobody active) the caller looked up in this transaction
    already (``device_store.get(..., pin=)``); the others are looked up here. ``writes``
    (SQLite): called once everything is read and built, right before the first write, to take
    the write lock (``punch_transaction.punch_connection``'s ``transaction``); not called when
    nothing is new. ``alone`` (SQLite): the punches (and ``contact``) are the transaction's only writes, so
    they may be written with other requests' waiting for the lock at the same time
    (``punch_write_group``); the transaction is then committed when this returns. ``contact``
    (SQLite): the device's contact UPDATE (``device_store.contact_update``), written with the
    punches when any may be new (``IngestResult.contact_written``; else the caller's to write)."""
    now = now or utcnow()
    items = list(items)
    duplicates = 0
    # a few punches (a phone's one, a terminal pushing as it goes) skip the look-up: the INSERT
    # skips those stored already; for a re-sent batch the look-up spares building their events
    seen = (punch_store.stored_keys(conn, device.sn, [(it.person_key, it.device_time) for it in items])
            if len(items) > SMALL_BATCH else set())
    fresh: list[PunchInput] = []
    for item in items:
        key = (item.person_key, item.device_time)
        if key in seen:
            duplicates += 1
            continue
        seen.add(key)
        fresh.append(item)
    if not fresh:
        return IngestResult(duplicates=duplicates)
    pins = [it.person_key for it in fresh if not it.by_nip]
    if pin_nips is not None and all(pin in pin_nips for pin in pins):
        by_pin = {pin: pin_nips[pin] for pin in pins if pin_nips[pin] is not None}
    else:
        by_pin = punch_store.nips_by_pin(conn, device.agency, pins, ignore_zeros=device.ignore_pin_zeros)
    by_nip = punch_store.known_nips(conn, device.agency, [it.person_key for it in fresh if it.by_nip])
    offset = timezone(timedelta(minutes=device.tz_offset_minutes))
    rows: list[dict[str, Any]] = []
    for item in fresh:
        nip = (item.person_key if item.person_key in by_nip else None) if item.by_nip else by_pin.get(item.person_key)
        punch_id, event_id = outbox_events.punch_ids(device.sn, item.person_key, item.device_time)
        rows.append({
            "id": punch_id, "device_sn": device.sn, "agency": device.agency, "person_key": item.person_key,
            "device_time": item.device_time,
            "time": item.instant or item.device_time.replace(tzinfo=offset).astimezone(timezone.utc),
            "nip": nip, "status": item.status, "channel": channel, "received_at": now,
            "event_id": event_id if nip else None, "correction_id": None,
        })
    # the agency's own zone decides which day a punch marks (``agency_tz``: the deployment's default)
    tz = zone(device.agency_zone or agency_tz)
    # a phone's NIP the roster does not know waits like an unknown PIN, but is never released
    quarantine_pins = {it.person_key for it in fresh if not it.by_nip} - {it.person_key for it in fresh if it.by_nip}
    if conn.dialect.name == "postgresql":
        return _write_at_once(conn, rows, tz, quarantine_pins, channel=channel, now=now, duplicates=duplicates)
    # SQLite: every row built first, then the write lock (``writes``) and only the INSERTs
    events, days = [], []
    at = now.isoformat()
    for row in rows:
        if row["nip"] is not None:
            events.append(_event_of(row, channel, at))
            days.append((row["id"], row["nip"], row["time"].astimezone(tz).date()))
    outbox_rows = outbox_events.rows(events, created_at=sqlite_datetime(now.astimezone(timezone.utc)))
    punch_of_event = [punch_id for punch_id, _nip, _day in days]
    prepared = punch_write_sqlite.prepare(device.agency, rows, zip(punch_of_event, outbox_rows), days,
                                          quarantine_pins, now, contact)
    if alone and len(rows) > GROUP_FROM:
        known, unknown = punch_write_group.write(conn, prepared, writes)
    else:
        writes()
        known, unknown = prepared.write(conn)
    # rows a concurrent request stored first are duplicates
    result = IngestResult(accepted=known, quarantined=unknown, duplicates=duplicates + len(rows) - known - unknown)
    result.contact_written = contact is not None
    return result


def _write_at_once(conn: Connection, rows: list[dict[str, Any]], tz, quarantine_pins: set[str], *, channel: str,
                   now: datetime, duplicates: int) -> IngestResult:
    """PostgreSQL: the events and day markers of every punch that may be new, built here and
    written in the punches' own statement for those the INSERT stores (``punch_write``); the
    counts are its answer, read after the commit."""
    events, days = [], []
    at = now.isoformat()
    for row in rows:
        if row["nip"] is not None:
            events.append(_event_of(row, channel, at))
            days.append(punch_write.DayMark(row["event_id"], row["nip"], row["time"].astimezone(tz).date()))
    written = punch_write.write(conn, rows, outbox_events.rows(events, created_at=now), days, quarantine_pins)
    return IngestResult(duplicates=duplicates).answered_by(written, len(rows))


def _event_of(row: dict[str, Any], channel: str, at: str) -> dict[str, Any]:
    return outbox_events.punch_recorded(
        row["event_id"], punch_id=row["id"], nip=row["nip"], agency=row["agency"], device_sn=row["device_sn"],
        pin=row["person_key"], time=row["time"], status=row["status"], channel=channel, at=at)
