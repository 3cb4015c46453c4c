"""PP 94/2021 alerts kept in step with the day records, both ways.

The day worker notes, per round, each (ASN, year) where whether a closed workday is TK changed
(closing it, a late punch, leave, a holiday, an approved correction), and reconciles them at the
end of the round, in its transaction: the year's standing alerts are recomputed from the stored
day records and compared with those raised before; new ones are raised
(``kehadiran.discipline.alert.v1``), ones that no longer hold are withdrawn
(``kehadiran.discipline.alert.withdrawn.v1``). The worker holds the ASN's lock (``day_store``),
so two workers never reconcile one ASN at once, and each reads the days the other committed.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Callable, Iterable
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from kehadiran.adapters import alert_store
from kehadiran.domain.alerts import counts, reconcile, standing
from kinerja.events import make_event
from kinerja.events.kehadiran import DISCIPLINE_ALERT, DISCIPLINE_ALERT_WITHDRAWN
from kinerja.messaging.outbox import Outbox

SOURCE = "kinerja/kehadiran"


def counts_as_tk(payload: dict | None) -> tuple[bool, bool]:
    """(a closed workday, TK): what the alerts read of a day record."""
    # a loop, not any() over a generator: the alerts read it for every day of a year
    if not payload or not (payload.get("final") and payload.get("workday")):
        return False, False
    for d in payload.get("deductions") or ():
        if d.get("code") == "TK":
            return True, True
    return True, False


def reconcile_alerts(session: Session, outbox: Outbox, keys: Iterable[tuple[str, int]], *,
                     zone_of: Callable[[str], ZoneInfo], now: datetime | None = None,
                     maybe: Iterable[tuple[str, int]] = ()) -> dict[str, int]:
    """Raise and withdraw each (NIP, year)'s alerts so they match its day records; returns how
    many were raised and withdrawn. ``maybe``: (NIP, year)s whose days changed only in ways that
    can withdraw an alert, never raise one (``domain.alerts.only_withdraws``), reconciled only
    where an alert stands. A few statements for all of them; the caller holds each ASN's lock."""
    now = now or datetime.now(timezone.utc)
    done = {"raised": 0, "withdrawn": 0}
    conn = session.connection()
    keys, maybe = set(keys), set(maybe) - set(keys)
    stored = alert_store.raised(conn, {nip for nip, _ in keys | maybe})
    keys |= {key for key in maybe if stored.get(key)}
    if not keys:
        return done
    agency = alert_store.agencies(conn, {nip for nip, _ in keys})
    days = alert_store.year_days(conn, keys)
    new_rows, gone, events = [], [], []
    for nip, year in sorted(keys):
        if nip not in agency:
            continue
        today = now.astimezone(zone_of(agency[nip])).date()
        workdays = []
        for day, payload in days.get((nip, year), ()):
            closed, tk = counts_as_tk(payload)
            if closed:
                workdays.append((day, tk))
        rows = stored.get((nip, year), {})
        to_raise, to_withdraw = reconcile(set(rows), standing(workdays))
        for alert in to_raise:
            new_rows.append({"nip": nip, "year": year, "kind": alert.kind, "threshold": alert.threshold,
                             "day": alert.day, "raised_at": now})
            events.append(make_event(
                DISCIPLINE_ALERT, subject=nip, agency=agency[nip], source=SOURCE,
                data={"nip": nip, "year": year, "kind": alert.kind, "days": alert.days,
                      "threshold": alert.threshold, "date": alert.day}))
        now_counts = counts(workdays)
        for key in to_withdraw:
            row = rows[key]
            events.append(make_event(
                DISCIPLINE_ALERT_WITHDRAWN, subject=nip, agency=agency[nip], source=SOURCE,
                data={"nip": nip, "year": year, "kind": row.kind, "days": now_counts[row.kind],
                      "threshold": row.threshold, "raised_on": row.day, "date": today}))
            gone.append((nip, year, row.kind, row.threshold))
        done["raised"] += len(to_raise)
        done["withdrawn"] += len(to_withdraw)
    alert_store.withdraw(conn, gone)
    alert_store.add(conn, new_rows)
    outbox.add_many(conn, events)
    return done
