"""Roster CSV (``nip,nama,agency,unit,jabatan,atasan_nip,pin`` and optionally ``tmt``, ``tpp``,
``email`` and ``timezone``) → ``pegawai.v1`` events.

``tmt`` (terhitung mulai tanggal) is the first day the ASN is expected at work, as YYYY-MM-DD (or
DD-MM-YYYY, DD/MM/YYYY as personnel systems export it); left empty, attendance counts from the
day kehadiran first reads the ASN. ``tpp`` is the ASN's monthly TPP base in whole rupiah (the
recap gives the deductions in rupiah with it). ``email`` is the ASN's work address: notifikasi sends
their daily digest there unless their own preference says otherwise. ``timezone`` is the zone of the
ASN's agency: WIB, WITA or WIT (or Asia/Jakarta, Asia/Makassar, Asia/Jayapura); every service cuts
that agency's days, periods and "today" in it (left empty, the deployment's ``KINERJA_TIMEZONE``).
Bad rows are reported by line number and skipped; the good
ones are published.
"""
from __future__ import annotations

import csv
import io
import re
from datetime import date
from dataclasses import dataclass, field
from typing import Iterable

from marshmallow import ValidationError

from kinerja.events import make_event
from kinerja.events.envelope import Event, InvalidEvent
from kinerja.events.pegawai import EMPLOYEE_UPSERTED, EmployeeUpserted
from kinerja.zones import zone_name

COLUMNS = ("nip", "nama", "agency", "unit", "jabatan", "atasan_nip", "pin")
OPTIONAL = ("tmt", "tpp", "email", "timezone")  # tpp: the monthly TPP base in whole rupiah
_DMY = re.compile(r"^(\d{1,2})[-/](\d{1,2})[-/](\d{4})$")
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
    kept: list[tuple[int, Event]] = []
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
        clean = {k: (row.get(k) or "").strip() for k in COLUMNS + OPTIONAL}
        data = {
            "nip": clean["nip"], "nama": clean["nama"], "agency": clean["agency"], "unit": clean["unit"],
            "jabatan": clean["jabatan"], "atasan_nip": clean["atasan_nip"] or None, "pin": clean["pin"] or None,
            "active": True, "tmt": iso_date(clean["tmt"]) if clean["tmt"] else None,
        }
        if clean["tpp"]:
            if not clean["tpp"].isdigit() or len(clean["tpp"]) > 10:
                result.errors.append((line, f"tpp: {clean['tpp'][:20]!r} is not a whole number of rupiah"))
                continue
            data["tpp"] = int(clean["tpp"])
        if clean["email"]:
            data["email"] = clean["email"]
        if clean["timezone"]:
            zone = zone_name(clean["timezone"])
            if zone is None:
                result.errors.append((line, f"timezone: {clean['timezone'][:40]!r} is not WIB, WITA or WIT"))
                continue
            data["timezone"] = zone
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
            kept.append((line, make_event(EMPLOYEE_UPSERTED, subject=loaded["nip"], agency=loaded["agency"],
                                          data=loaded, source=SOURCE)))
        except InvalidEvent as exc:
            result.errors.append((line, str(exc)))
    # supervision never crosses agencies: a row naming a supervisor the file puts in another agency
    agency_of = {event.data["nip"]: event.data["agency"] for _, event in kept}
    # an agency is in one zone: the first row that names it decides, a row naming another is refused
    zone_of: dict[str, tuple[str, int]] = {}
    for line, event in kept:
        if event.data.get("timezone"):
            zone_of.setdefault(event.data["agency"], (event.data["timezone"], line))
    for line, event in kept:
        boss = event.data.get("atasan_nip")
        first = zone_of.get(event.data["agency"])
        if event.data.get("timezone") and first and first[0] != event.data["timezone"]:
            result.errors.append((line, f"timezone: agency {event.data['agency']} is in {first[0]} (line {first[1]}); "
                                        "an agency has one time zone"))
        elif boss in agency_of and agency_of[boss] != event.data["agency"]:
            result.errors.append((line, f"atasan_nip: {boss} is in agency {agency_of[boss]}, not "
                                        f"{event.data['agency']}: a supervisor is of the ASN's own agency"))
        else:
            result.events.append(event)
    result.errors.sort()
    return result


def iso_date(text: str) -> str:
    """``2026-12-01``, ``01-12-2026`` or ``1/12/2026`` → ``2026-12-01``; anything else is left as
    it is, for the schema to refuse with its reason."""
    m = _DMY.match(text)
    if m:
        try:
            return date(int(m.group(3)), int(m.group(2)), int(m.group(1))).isoformat()
        except ValueError:
            return text
    return text


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
