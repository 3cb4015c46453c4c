"""Roster CSV (``nip,nama,agency,unit,jabatan,atasan_nip,pin``) → ``pegawai.v1`` events.

Bad rows are reported by line number and skipped; the good ones are published.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Iterable

from marshmallow import ValidationError

from kinerja.events import make_event
from kinerja.events.envelope import Event, InvalidEvent
from kinerja.events.pegawai import EMPLOYEE_UPSERTED, EmployeeUpserted

COLUMNS = ("nip", "nama", "agency", "unit", "jabatan", "atasan_nip", "pin")
SOURCE = "kinerja/cli"


@dataclass
class RosterParse:
    events: list[Event] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)


def parse_roster(text: str) -> RosterParse:
    """Parse the CSV text; line numbers count the header as line 1."""
    result = RosterParse()
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        result.errors.append((1, f"missing column(s): {', '.join(missing)}"))
        return result
    reader.fieldnames = header
    seen: dict[str, int] = {}
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            # e.g. a field over csv's size limit, or a NUL byte: report the line, keep going
            result.errors.append((reader.line_num, f"unreadable CSV line: {exc}"))
            continue
        line = reader.line_num
        clean = {k: (row.get(k) or "").strip() for k in COLUMNS}
        data = {
            "nip": clean["nip"], "nama": clean["nama"], "agency": clean["agency"], "unit": clean["unit"],
            "jabatan": clean["jabatan"], "atasan_nip": clean["atasan_nip"] or None, "pin": clean["pin"] or None,
            "active": True,
        }
        try:
            loaded = EmployeeUpserted().load(data)
        except ValidationError as exc:
            msgs = "; ".join(f"{k}: {' '.join(map(str, v)) if isinstance(v, list) else v}" for k, v in exc.messages.items())
            result.errors.append((line, msgs))
            continue
        if loaded["atasan_nip"] == loaded["nip"]:
            result.errors.append((line, "atasan_nip: an ASN cannot be their own supervisor"))
            continue
        if loaded["nip"] in seen:
            result.errors.append((line, f"nip: duplicate of line {seen[loaded['nip']]}"))
            continue
        seen[loaded["nip"]] = line
        try:
            result.events.append(make_event(EMPLOYEE_UPSERTED, subject=loaded["nip"], agency=loaded["agency"],
                                            data=loaded, source=SOURCE))
        except InvalidEvent as exc:
            result.errors.append((line, str(exc)))
    return result


def publish(events: Iterable[Event], bootstrap: str, prefix: str = "") -> int:
    from kinerja.messaging.producer import make_producer
    from kinerja.messaging.topics import topic_for_event_type

    producer = make_producer(bootstrap, client_id="kinerja-cli")
    futures = [producer.send(topic_for_event_type(e.type, prefix), key=e.key, value=e.to_bytes()) for e in events]
    producer.flush(timeout=60)
    for f in futures:
        f.get(timeout=60)
    producer.close(timeout=10)
    return len(futures)
