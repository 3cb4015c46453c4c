"""What each agency decides about its days and terminals (``agency_settings``): its time zone (from
the roster), whether a terminal's PIN leading zeros tell people apart, and the burst window within
which one person's punches on any terminals are one punch.

Every reader goes through an ``AgencyDirectory``: the whole table (a row per agency) read at most
every ``ttl_s`` seconds per process, so a punch request or a worker round pays no look-up per
agency; an agency with no row, or a NULL, has the deployment's default (``KINERJA_TIMEZONE``,
``KEHADIRAN_BURST_WINDOW_S``). A change reaches the other processes within ``ttl_s``.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from kehadiran.adapters import markers
from kehadiran.adapters.orm import AgencySettings, Employee
from kinerja.zones import ZONES, zone

DEFAULT_BURST_S = 180  # a few minutes: lobby and floor terminals, a finger read twice
MAX_BURST_S = 1800  # beyond half an hour a "burst" would swallow a short working day's ends
TTL_S = 5.0


@dataclass(frozen=True)
class AgencyRules:
    zone: ZoneInfo
    ignore_pin_zeros: bool
    burst: timedelta
    zone_from_roster: bool  # False: the deployment's default zone

    @property
    def zone_name(self) -> str:
        return self.zone.key


class AgencyDirectory:
    """agency → ``AgencyRules``; callable as a ``ZoneOf`` (agency → its zone)."""

    def __init__(self, engine: Engine, default_tz: str, default_burst_s: int = DEFAULT_BURST_S, ttl_s: float = TTL_S):
        self.engine = engine
        self.default_zone = zone(default_tz)
        self.default_burst = timedelta(seconds=default_burst_s)
        self.ttl_s = ttl_s
        self._rows: dict[str, tuple[str | None, bool, int | None]] = {}
        self._loaded_at: float | None = None
        self._lock = threading.Lock()

    def __call__(self, agency: str) -> ZoneInfo:
        return self.rules(agency).zone

    def name(self, agency: str) -> str:
        return self.rules(agency).zone.key

    def burst(self, agency: str) -> timedelta:
        return self.rules(agency).burst

    def rules(self, agency: str, conn: Connection | Session | None = None) -> AgencyRules:
        """``agency``'s rules. Read again when older than ``ttl_s`` *on ``conn``* (the caller's
        transaction: SQLite takes its write lock when a transaction begins, so a second
        connection of the same process would wait for the first); without ``conn`` the last
        reading serves, and only a directory never read opens a connection of its own."""
        if conn is not None:
            self.refresh(conn)
        elif self._loaded_at is None:
            self.refresh()
        tz, zeros, burst_s = self._rows.get(agency, (None, False, None))
        return AgencyRules(zone(tz) if tz in ZONES else self.default_zone, zeros,
                           timedelta(seconds=burst_s) if burst_s is not None else self.default_burst,
                           tz in ZONES)

    def refresh(self, conn: Connection | Session | None = None, *, force: bool = False) -> None:
        """Read the table again when it is older than ``ttl_s``, on ``conn`` when given."""
        now = time.monotonic()
        if not force and self._loaded_at is not None and now - self._loaded_at < self.ttl_s:
            return
        with self._lock:
            stmt = select(AgencySettings.agency, AgencySettings.timezone, AgencySettings.ignore_pin_zeros,
                          AgencySettings.burst_window_s)
            if conn is not None:
                rows = conn.execute(stmt).all()
            else:
                with self.engine.connect() as own:
                    rows = own.execute(stmt).all()
            self._rows = {a: (tz, bool(z), b) for a, tz, z, b in rows}
            self._loaded_at = now

    def forget(self) -> None:
        """Read the table on the next use (this process just changed it)."""
        self._loaded_at = None


def _row(session: Session, agency: str) -> AgencySettings:
    row = session.get(AgencySettings, agency, with_for_update=session.get_bind().dialect.name == "postgresql")
    if row is None:
        row = AgencySettings(agency=agency, ignore_pin_zeros=False)
        session.add(row)
    return row


def note_roster_zone(session: Session, agency: str, tz: str | None) -> bool:
    """The zone a roster event names for ``agency`` (none: nothing changes); True when it changed."""
    if tz not in ZONES:
        return False
    row = session.get(AgencySettings, agency)
    if row is not None and row.timezone == tz:
        return False  # the usual case, a roster event of an agency whose zone is known
    row = _row(session, agency)
    changed = row.timezone != tz
    row.timezone = tz
    return changed


def describe(rules: AgencyRules, agency: str, row: AgencySettings | None, default_burst: timedelta) -> dict[str, Any]:
    return {
        "agency": agency, "timezone": rules.zone_name, "timezone_from_roster": rules.zone_from_roster,
        "ignore_pin_zeros": rules.ignore_pin_zeros,
        "burst_window_s": int(rules.burst.total_seconds()),
        "burst_window_default": row is None or row.burst_window_s is None,
        "default_burst_window_s": int(default_burst.total_seconds()),
        "updated_at": row.updated_at if row else None, "updated_by": row.updated_by if row else None,
    }


def update_settings(session: Session, directory: AgencyDirectory, agency: str, changes: dict[str, Any], *,
                    actor: str, now: datetime, recompute_from=None, today=None) -> tuple[AgencySettings, int]:
    """Apply an admin's changes (``ignore_pin_zeros``, ``burst_window_s``: None for the default);
    with ``recompute_from``, the agency's days from then to ``today`` are marked for the day
    worker, so the new rules apply to them. Returns the row and how many days were marked.
    Turning ``ignore_pin_zeros`` on marks the PINs waiting in quarantine: a '007' may now be '7'."""
    row = _row(session, agency)
    before = row.ignore_pin_zeros
    if "ignore_pin_zeros" in changes:
        row.ignore_pin_zeros = bool(changes["ignore_pin_zeros"])
    if "burst_window_s" in changes:
        row.burst_window_s = changes["burst_window_s"]
    row.updated_at, row.updated_by = now, actor[:64]
    session.flush()
    marked = 0
    if row.ignore_pin_zeros and not before:
        from kehadiran.adapters.orm import PunchRow

        pins = session.execute(select(PunchRow.person_key).where(
            PunchRow.agency == agency, PunchRow.nip.is_(None)).distinct()).scalars().all()
        markers.mark_pins(session.connection(), agency, pins)
    if recompute_from is not None and today is not None and recompute_from <= today:
        nips = session.execute(select(Employee.nip).where(Employee.agency == agency, Employee.active.is_(True))
                               .order_by(Employee.nip)).scalars().all()
        days = [recompute_from + timedelta(days=k) for k in range((today - recompute_from).days + 1)]
        marked = markers.mark_days(session, [(nip, day) for nip in nips for day in days])
    directory.forget()
    return row, marked
