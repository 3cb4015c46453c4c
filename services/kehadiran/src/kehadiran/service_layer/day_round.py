"""What every day round shares, PostgreSQL's (``day_worker``) and SQLite's (``day_round_sqlite``):
its tally (``Round``), its phases' clock (``Phases``), and the release of a claimed PIN's
quarantined punches."""
from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from kehadiran.adapters import markers, outbox_events, punch_store
from kehadiran.service_layer.day_recompute import ZoneOf


class Phases:
    """A round's phases and the ms each took (the clock read a few times a round, not per key)."""

    def __init__(self) -> None:
        self.start = self.last = time.perf_counter()
        self.spent: dict[str, float] = {}

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.spent[name] = self.spent.get(name, 0.0) + now - self.last
        self.last = now

    def total_s(self) -> float:
        return self.last - self.start

    def ms(self) -> dict[str, int]:
        return {name: round(s * 1000) for name, s in self.spent.items()}


@dataclass
class Round:
    days: int = 0  # distinct (ASN, date) markers claimed
    published: int = 0  # day records with a new version
    pins: int = 0
    released: int = 0  # punches out of quarantine
    # markers were left that this round could not take: another worker's round holds their ASN
    # (PostgreSQL); they are free when it commits, which notifies nobody
    held: bool = False
    # markers may be left that a round now would take (``markers.Claim.more``), or pins: without
    # it, the next round is due only when something new commits (its notification wakes the worker)
    more: bool = False
    # the highest marker id the round saw (SQLite's round; 0 elsewhere): not higher than the last
    # round's, no marker came meanwhile (the worker's cue that an upload is over)
    newest: int = 0

    @property
    def worked(self) -> bool:
        return bool(self.days or self.pins)

    def add(self, other: "Round") -> None:
        self.days += other.days
        self.published += other.published
        self.pins += other.pins
        self.released += other.released



def release_quarantine(session: Session, agency: str, pin: str, *, zone_of: ZoneOf, now: datetime) -> int:
    """The punches kept from ``pin`` become the ASN's the roster now names for it (with their
    events, the ids they would have had, and markers for their days); none while it names nobody.
    Where the agency ignores PIN leading zeros, the punches of ``007`` are ``7``'s too."""
    conn = session.connection()
    rules = getattr(zone_of, "rules", None)
    zeros = rules(agency, conn).ignore_pin_zeros if rules is not None else False
    nip = punch_store.nips_by_pin(conn, agency, [pin], ignore_zeros=zeros).get(pin)
    if nip is None:
        return 0
    rows = punch_store.quarantined(conn, agency, pin, for_update=conn.dialect.name == "postgresql",
                                   ignore_zeros=zeros)
    if not rows:
        return 0
    tz = zone_of(agency)
    events, updates, days = [], [], set()
    for r in rows:
        _, event_id = outbox_events.punch_ids(r.device_sn, r.person_key, r.device_time)
        updates.append({"pid": r.id, "to_nip": nip, "eid": event_id})
        events.append(outbox_events.punch_recorded(
            event_id, punch_id=r.id, nip=nip, agency=agency, device_sn=r.device_sn, pin=r.person_key, time=r.time,
            status=r.status, channel=r.channel, at=now))
        days.add((nip, r.time.astimezone(tz).date()))
    punch_store.release(conn, updates)
    outbox_events.write(conn, events, at=now)
    markers.mark_days(conn, days)
    return len(rows)
