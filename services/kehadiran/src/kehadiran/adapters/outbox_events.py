"""kehadiran's own events, built as plain dicts and encoded once, written to the outbox in one
INSERT: the hot path's way out (the day worker's too). The outbox table is ``kinerja``'s
(``kinerja.messaging.outbox``); its rows are written here as that module's ``Outbox`` writes them.

The data is kehadiran's own, already checked where it entered (the ADMS parser, the request
schemas), so it is not validated again per event; ``tests/unit/test_event_dicts.py`` holds every
builder here against the type's marshmallow schema, so the contract cannot drift. JSON is encoded
with orjson: about 5,500 instructions an envelope against 55,000 for the standard library's
``json.dumps`` and 7,200 for msgspec (``bench/encode_cost.py``, counted with callgrind).

A punch's ids are derived from its identity (device, PIN, device time) with uuid5, so a batch sent
again, or stored by two requests at once, converges on the same punch and event ids.
"""
from __future__ import annotations

import hashlib
import uuid
from datetime import datetime
from typing import Any, Iterable

import orjson
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from kehadiran.adapters.raw_sql import Raw
from kinerja.events.ids import time_ordered_uuid
from kinerja.events.kehadiran import DAY_SUMMARIZED, PUNCH_RECORDED
from kinerja.messaging import topics

SOURCE = "kinerja/kehadiran"
PUNCH_NAMESPACE = uuid.UUID("6d2f2b1e-2f4e-5a7c-9b61-0c4f6a2e8d11")
PUNCH_EVENT_NAMESPACE = uuid.UUID("b0a6f5c3-8e1d-5f2a-a4c7-3d9e1b7f6a20")
_TOPIC = {t: topics.topic_for_event_type(t) for t in (PUNCH_RECORDED, DAY_SUMMARIZED)}


def punch_identity(device_sn: str, person_key: str, device_time: datetime) -> str:
    return f"{device_sn}\x1f{person_key}\x1f{device_time.isoformat()}"


# each namespace's SHA-1 state, copied for every name rather than hashing the namespace again
_PUNCH_SHA1 = hashlib.sha1(PUNCH_NAMESPACE.bytes)
_PUNCH_EVENT_SHA1 = hashlib.sha1(PUNCH_EVENT_NAMESPACE.bytes)


def punch_ids(device_sn: str, person_key: str, device_time: datetime) -> tuple[str, str]:
    """(punch id, its event id), the same every time the punch is sent: ``str(uuid.uuid5(...))``
    of the punch's identity in each namespace, without the two ``UUID`` objects (a fifth of
    their cost; ``tests/unit/test_event_dicts.py`` holds them equal)."""
    name = punch_identity(device_sn, person_key, device_time).encode()
    return _uuid5_text(_PUNCH_SHA1, name), _uuid5_text(_PUNCH_EVENT_SHA1, name)


def _uuid5_text(namespace_sha1, name: bytes) -> str:
    h = namespace_sha1.copy()
    h.update(name)
    x = h.hexdigest()
    # RFC 4122: version 5 in the 13th hex digit, the variant (binary 10) in the 17th's top two bits
    return f"{x[:8]}-{x[8:12]}-5{x[13:16]}-{'89ab'[int(x[16], 16) & 3]}{x[17:20]}-{x[20:32]}"


def envelope(event_type: str, event_id: str, *, subject: str, agency: str, data: dict[str, Any],
             at: datetime | str) -> dict[str, Any]:
    """The CloudEvents envelope ``kinerja.events.Event.to_dict`` makes, as a dict; ``at`` may be
    its ISO text already (a batch's events share their instant: written once, not per event)."""
    return {"specversion": "1.0", "id": event_id, "type": event_type, "source": SOURCE,
            "time": at if isinstance(at, str) else at.isoformat(),
            "subject": subject, "agency": agency, "data": data}


def punch_recorded(event_id: str, *, punch_id: str, nip: str, agency: str, device_sn: str, pin: str | None,
                   time: datetime, status: str | None, channel: str, correction_id: str | None = None,
                   at: datetime | str) -> dict[str, Any]:
    """``kehadiran.punch.recorded.v1``; ``time`` aware (UTC); ``at`` as ``envelope`` takes it."""
    data = {"punch_id": punch_id, "nip": nip, "device_sn": device_sn, "pin": pin, "time": time.isoformat(),
            "status": status, "channel": channel}
    if correction_id is not None:
        data["correction_id"] = correction_id
    return envelope(PUNCH_RECORDED, event_id, subject=nip, agency=agency, data=data, at=at)


def day_summarized(*, nip: str, agency: str, data: dict[str, Any], at: datetime) -> dict[str, Any]:
    """``kehadiran.day.summarized.v1``; ``data`` as ``day_record.payload`` builds it (JSON-ready).
    ``envelope``'s dict written out (one per ASN-day a round: a call less each)."""
    return {"specversion": "1.0", "id": time_ordered_uuid(), "type": DAY_SUMMARIZED, "source": SOURCE,
            "time": at if isinstance(at, str) else at.isoformat(), "subject": nip, "agency": agency, "data": data}


DAY_TOPIC = _TOPIC[DAY_SUMMARIZED]


def day_envelope_parts(at: str) -> tuple[str, str, str, str]:
    """``encode(day_summarized(...))`` around its four variable parts: the text before the id, between
    the id and the subject (a JSON string), between the subject and the agency (one too), and between
    the agency and the data (PostgreSQL's day round writes the outbox value from these:
    ``day_store``). ``at``: the events' time as ``day_summarized`` writes it."""
    text = encode({"specversion": "1.0", "id": "\0", "type": DAY_SUMMARIZED, "source": SOURCE, "time": at,
                   "subject": "\1", "agency": "\2", "data": 3})
    head, rest = text.split('\\u0000', 1)
    after_id, rest = rest.split('"\\u0001"', 1)
    after_subject, rest = rest.split('"\\u0002"', 1)
    return head, after_id, after_subject, rest[:-len("3}")]


def encode(event: dict[str, Any]) -> str:
    return orjson.dumps(event).decode()


OUTBOX_COLUMNS = ("event_id", "topic", "key", "value", "created_at")


def write(conn: Session | Connection, events: Iterable[dict[str, Any]], *, at: datetime) -> int:
    """The events as outbox rows, in order, in one multi-row INSERT (hand-written SQL)."""
    events = list(events)
    if not events:
        return 0
    raw = Raw(conn)
    raw.insert_records("outbox", OUTBOX_COLUMNS, rows(events, created_at=raw.instant(at)))
    return len(events)


def rows(events: Iterable[dict[str, Any]], *, created_at) -> list[dict[str, Any]]:
    """The events as outbox rows (dicts of ``OUTBOX_COLUMNS``), each encoded once;
    ``created_at`` as the driver takes it (``Raw.instant``)."""
    return [{"event_id": e["id"], "topic": _TOPIC.get(e["type"]) or topics.topic_for_event_type(e["type"]),
             "key": e["subject"], "value": encode(e), "created_at": created_at}
            for e in events]
