"""A punch request's whole write as one PostgreSQL statement: the punches, the outbox rows of the
ones newly stored, the dirty markers of their days and of quarantined PINs, chained through the
punch INSERT's ``RETURNING`` in data-modifying CTEs. Sent with the COMMIT
(``punch_transaction.commit_with``) it is one round trip, whatever the batch's size.

What only the INSERT knows (which punches are new: a re-sent one, or one a concurrent request
stored first, is skipped by ``ON CONFLICT DO NOTHING``) decides, inside the statement, which of
the candidate events and markers the caller built are written: a punch not stored adds nothing.
The caller computes what SQL should not (the events' JSON, each punch's local day in the agency's
zone) for every candidate; the rows all travel as JSON or arrays, so the statement's text is the
same for any number of rows (psycopg prepares it once per connection).

SQLite has no data-modifying CTEs: it keeps its statements (``punch_store``, ``outbox_events``,
``markers``).

The write wakes the day workers, not the relays. Every outbox row it writes is a punch of a known
ASN, whose day marker it writes too, and the day worker's round that follows commits that day's
summary, whose notification wakes the relay: it then reads the punch and the summary together and
sends them in one produce request. Woken by the punch as well, the relay read once more a punch,
found it alone and left it for the summary (``hold_types``), a read and a wake-up a punch for
nothing. A punch whose round writes no summary is read at the relay's own look (``notify_poll_s``,
0.5 s). So the statement turns the triggers' notifications off for its transaction (``DEFER_SQL``)
and notifies the day markers' channel itself: from inside (``pg_notify``, sent at the commit), or
after the commit where commits flush to disk (``kinerja.after_commit_notify``).
"""
from __future__ import annotations

from datetime import date
from functools import lru_cache
from typing import Any, Iterable, NamedTuple

import orjson
from sqlalchemy.engine import Connection

from kehadiran.adapters.markers import NOTIFY_CHANNEL as DIRTY_CHANNEL
from kehadiran.adapters.outbox_events import OUTBOX_COLUMNS
from kehadiran.adapters.punch_store import PUNCH_COLUMNS
from kehadiran.adapters.raw_sql import Raw
from kinerja.after_commit_notify import DEFER_SQL, deferring, notify_after_commit

# the one channel a request's write notifies: the day markers' (of known ASN and of quarantined PINs)
_CHANNELS = (DIRTY_CHANNEL,)


class DayMark(NamedTuple):
    """The marker a punch leaves if it is stored: its event id, its ASN, its local date."""

    event_id: str
    nip: str
    day: date


class Written:
    """The statement's answer, read when first asked for: in ``commit_with`` it comes back with
    the COMMIT, so reading it after the commit costs nothing, before it a round trip of its own."""

    __slots__ = ("_cursor", "_counts")

    def __init__(self, cursor):
        self._cursor = cursor
        self._counts: tuple[int, int] | None = None

    def counts(self) -> tuple[int, int]:
        """(punches stored with a NIP, punches stored in quarantine)."""
        if self._counts is None:
            row = self._cursor.fetchone()
            self._counts = (row[0], row[1])
        return self._counts


def write(conn: Connection, punches: list[dict[str, Any]], outbox_rows: list[dict[str, Any]],
          days: Iterable[DayMark], quarantine_pins: Iterable[str]) -> Written:
    """Insert ``punches`` (dicts of ``PUNCH_COLUMNS``) skipping those stored already; of the ones
    stored: the outbox rows (dicts of ``OUTBOX_COLUMNS``) whose ``event_id`` is theirs, in the
    order given; a ``dirty_days`` marker per distinct (NIP, day) of ``days`` whose event id is
    theirs; a ``dirty_pins`` marker per PIN of ``quarantine_pins`` stored without a NIP."""
    # the connection's reused cursor: its answer (``Written``) is read before anything else runs on it
    raw = Raw(conn, shared=True)
    days = list(days)
    pins = sorted(set(quarantine_pins))
    known = bool(outbox_rows or days)
    unknown = bool(pins) and any(p["nip"] is None for p in punches)
    params: dict[str, Any] = {"punches": orjson.dumps(punches).decode()}
    if known:
        # the markers as JSON too: psycopg dumps array parameters element by element in Python
        params.update(events=orjson.dumps(outbox_rows).decode(), days=orjson.dumps([tuple(d) for d in days]).decode())
    if unknown:
        params["pins"] = pins
    notifier = deferring(conn) if known or unknown else None
    raw.cursor.execute(_statement(known, unknown, notifier is not None), params)
    if notifier is not None:
        # the triggers sent nothing (see ``_statement``): the process sends it once this commits
        notify_after_commit(conn, notifier, _CHANNELS)
    return Written(raw.cursor)


@lru_cache(maxsize=8)
def _statement(known: bool, unknown: bool, defer: bool) -> str:
    """The statement's text; a marker table a request cannot touch is left out of it (an INSERT
    in it would fire its statement trigger, waking the workers for nothing)."""
    columns = ", ".join(PUNCH_COLUMNS)
    parts = [
        "ins AS (INSERT INTO punches (" + columns + ") SELECT " + ", ".join("r." + c for c in PUNCH_COLUMNS)
        + " FROM json_populate_recordset(NULL::punches, %(punches)s::json) WITH ORDINALITY AS r"
        " ORDER BY r.ordinality ON CONFLICT (device_sn, person_key, device_time) DO NOTHING"
        " RETURNING event_id, nip, agency, person_key)"]
    if known:
        # ORDER BY the rows' position: the outbox's serial ids follow the order given (per-key order)
        parts.append(
            "events AS (INSERT INTO outbox (" + ", ".join(OUTBOX_COLUMNS) + ") SELECT "
            + ", ".join("e." + c for c in OUTBOX_COLUMNS)
            + " FROM json_populate_recordset(NULL::outbox, %(events)s::json) WITH ORDINALITY AS e"
            " WHERE e.event_id IN (SELECT event_id FROM ins) ORDER BY e.ordinality)")
        parts.append(
            "days AS (INSERT INTO dirty_days (nip, day) SELECT DISTINCT d->>1, CAST(d->>2 AS date)"
            " FROM json_array_elements(%(days)s::json) AS d"
            " WHERE d->>0 IN (SELECT event_id FROM ins) ORDER BY 1, 2)")
    if unknown:
        parts.append(
            "pins AS (INSERT INTO dirty_pins (agency, pin) SELECT DISTINCT agency, person_key FROM ins"
            " WHERE nip IS NULL AND person_key = ANY(%(pins)s::varchar[]) ORDER BY agency, person_key)")
    # the triggers send nothing from this transaction (the outbox's would wake the relays for a punch
    # the day's summary will bring them: module doc); the day markers' channel is notified by the
    # process after the commit where ``defer`` (``kinerja.after_commit_notify``: notifying inside a
    # commit that flushes to disk, every request's commit waited for the one before it to reach the
    # disk), else from inside, delivered as the transaction commits
    tail = f", (SELECT {DEFER_SQL})"
    if not defer and (known or unknown):
        tail += f", (SELECT pg_notify('{DIRTY_CHANNEL}', ''))"
    return "WITH " + ", ".join(parts) + f" SELECT count(nip), count(*) - count(nip){tail} FROM ins"
