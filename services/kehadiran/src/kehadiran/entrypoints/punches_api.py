"""``POST /api/v1/punches``: JSON batches from phones and non-ADMS devices.

A device's punch keeps the device's time (a backlog re-sent after days offline included); a
phone's (any token of a person) is the moment it arrives, see ``domain.phone_time``."""
from __future__ import annotations

from contextlib import nullcontext
from datetime import datetime, timedelta, timezone

from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import ValidationError
from werkzeug.exceptions import Forbidden

from zoneinfo import ZoneInfo

from kehadiran.entrypoints.runtime import agency_tz
from kehadiran.adapters import device_store
from kehadiran.adapters.calendar_orm import UnitLocation
from kehadiran.adapters.orm import Device, Employee
from kehadiran.adapters.punch_transaction import commit_with, pg, punch_connection
from kehadiran.domain import phone_time
from kehadiran.domain.geo import distance_m
from kehadiran.service_layer import devices as device_service
from kehadiran.service_layer.schedules import leave_on
from kehadiran.entrypoints.schemas import IngestResultSchema, PunchBatch, PunchItem, usual_item
from kehadiran.service_layer.ingest import DeviceRef, IngestResult, PunchInput, record_punches
from kinerja.auth import current_principal, require_auth
from kinerja.web import unprocessable
from kinerja.webapp import current_runtime

blp = Blueprint("punches", __name__, url_prefix="/api/v1/punches", description="Punches from phones and devices")

MAX_FUTURE = timedelta(minutes=5)
# one instance for every item: building a schema costs four times what loading an item does
# (marshmallow schemas keep no state between loads); the batch's too: given its class, webargs
# builds one for every request
PUNCH_ITEM = PunchItem()
PUNCH_BATCH = PunchBatch()


def phone_device_sn(nip: str) -> str:
    return f"phone-{nip}"


def screen(punches: list, principal, now: datetime, phone_skew: timedelta) -> tuple[list, list[dict]]:
    """Each item of a batch checked on its own: ([(index, item)] kept, [{index, errors}] refused)."""
    items: list = []
    rejected: list[dict] = []
    for index, raw in enumerate(punches):
        # the usual item in a few checks; anything else (a bad one) is the schema's to load and word
        item = usual_item(raw)
        if item is None:
            try:
                item = PUNCH_ITEM.load(raw)
            except ValidationError as exc:
                rejected.append({"index": index, "errors": exc.messages})
                continue
        if principal.role != "device":
            # a phone punches for its own user only, and now
            if item.get("nip") not in (None, principal.nip) or item.get("pin"):
                rejected.append({"index": index, "errors": {"nip": ["a phone may punch only for its own NIP"]}})
                continue
            refused = phone_time.refusal(item["time"], now, phone_skew)
            if refused:
                rejected.append({"index": index, "errors": {"time": [refused]}})
                continue
            item["nip"], item["instant"] = principal.nip, now
            item["time"] = item["time"] or now
        elif not item.get("pin") and not item.get("nip"):
            rejected.append({"index": index, "errors": {"pin": ["a device names the person: pin or nip"]}})
            continue
        elif item["time"] is None:
            rejected.append({"index": index, "errors": {"time": ["a device sends the time of each punch"]}})
            continue
        elif item["time"] > now + MAX_FUTURE:
            rejected.append({"index": index, "errors": {"time": ["time is in the future"]}})
            continue
        items.append((index, item))
    return items, rejected


def write_device_batch(runtime, principal, items: list, now: datetime) -> IngestResult:
    """A device's screened items stored (``Forbidden`` before anything is written when the token's
    device is not registered, active, in its agency): a Core connection and hand-written SQL, no
    ORM object."""
    # one punch (a terminal pushing as it goes): its PIN's NIP comes with the device's row
    single = items[0][1].get("pin") if len(items) == 1 and not items[0][1].get("nip") else None
    with punch_connection(runtime.engine) as (conn, transaction):
        device = device_store.get(conn, principal.device_sn, pin=single)
        if device is None or device.agency != principal.agency or not device.active:
            raise Forbidden("device is not registered")
        inputs = _device_inputs(items, device.tz_offset_minutes)
        touch = device_store.contact_due(device, now)
        sqlite = not pg(conn)
        # SQLite: the contact goes in the punches' transaction, which may then be another
        # request's too (``punch_write_group``), not in a lock turn of its own
        contact = device_store.contact_update(device, now) if sqlite and touch else None
        if touch and not sqlite:
            transaction()  # the contact too: two writes
        # the writes go out with the COMMIT (PostgreSQL: one round trip), or as one statement alone;
        # SQLite takes its write lock once the rows are built (``writes``)
        with commit_with(conn) if touch or sqlite else nullcontext():
            result = record_punches(conn, DeviceRef.of(device), inputs, channel="json",
                                    agency_tz=runtime.settings.timezone, now=now, pin_nips=device.pin_nips,
                                    writes=transaction if sqlite else _no_writes, alone=sqlite or not touch,
                                    contact=contact)
            if not result.contact_written:
                if touch and sqlite:
                    transaction()  # taken already unless every punch was stored before
                # the device's row last (and at most every few seconds): it is locked from this
                # UPDATE to the commit, so one device's concurrent batches do not queue on it
                device_store.touch(conn, device, now)
        # the write's answer came with the COMMIT: read it while the connection is still ours
        return result.settle()


def _no_writes() -> None:
    return None


@blp.route("")
class Punches(MethodView):
    @require_auth("device", "pegawai", "atasan")
    @blp.doc(security=[{"bearer": []}])
    @blp.arguments(PUNCH_BATCH)
    @blp.response(200, IngestResultSchema)
    def post(self, batch):
        """Record a batch of punches; good items are kept and bad ones reported by index.

        A device sends each punch's time and the person (pin or nip). A phone (a pegawai's or
        atasan's token) punches for its own NIP (the token names it: ``nip`` may be left out), now: the server's receive time is the punch's time, a ``time`` sent is kept
        beside it when within ``KEHADIRAN_PHONE_SKEW_S`` (5 minutes) and refused beyond that;
        a forgotten punch of a past day is asked for at ``POST /api/v1/corrections``."""
        runtime = current_runtime()
        principal = current_principal()
        now = datetime.now(timezone.utc)
        items, rejected = screen(batch["punches"], principal, now, current_app.config["KEHADIRAN_PHONE_SKEW"])
        if principal.role == "device":
            result = write_device_batch(runtime, principal, items, now)
        else:
            with runtime.session() as session, session.begin():
                zone = agency_tz(runtime, principal.agency, session)
                items = _inside_geofence(session, principal, items, rejected, zone)
                if not items:
                    # refused before anything is written: no phone device row for a batch kept nowhere
                    raise refused_batch(rejected)
                device = _phone_device(session, principal, now)
                items = _device_inputs(items, device.tz_offset_minutes)
                result = record_punches(session.connection(), DeviceRef.of(device), items, channel="json",
                                        agency_tz=zone, now=now).settle()
                device_service.touch(device, now)
        result.rejected = rejected
        if not items and rejected:
            raise refused_batch(rejected)
        return result.as_dict()


def refused_batch(rejected: list[dict]):
    """No punch of the batch was kept: each item's field and reason (``punches.<index>.<field>``),
    and the items as the 200 answer would have listed them (``detail.rejected``)."""
    return unprocessable("no valid punch in the batch", detail={"rejected": rejected},
                         punches={r["index"]: r["errors"] for r in rejected})


def _inside_geofence(session, principal, items, rejected, agency_tz):
    """A phone checks in within its unit's office radius, unless the ASN is on official duty
    (dinas luar) that day; the reason for a refusal is in the response."""
    emp = session.get(Employee, principal.nip)
    location = session.get(UnitLocation, (emp.agency, emp.unit)) if emp else None
    if location is None:
        return items
    kept = []
    for index, item in items:
        day = item["instant"].astimezone(ZoneInfo(agency_tz)).date()
        leave = leave_on(session, principal.nip, day)
        if leave is not None and leave.kind == "dinas_luar":
            kept.append((index, item))
            continue
        if item.get("lat") is None or item.get("lon") is None:
            rejected.append({"index": index, "errors": {"location": ["lat and lon are required to check in"]}})
            continue
        d = distance_m(item["lat"], item["lon"], location.lat, location.lon)
        if d > location.radius_m:
            rejected.append({"index": index, "errors": {"location": [
                f"outside the office of {emp.unit}: {d:.0f} m away, the radius is {location.radius_m:.0f} m "
                "(record official duty to check in elsewhere)"]}})
            continue
        kept.append((index, item))
    return kept


def _device_inputs(items: list[tuple[int, dict]], offset_minutes: int) -> list[PunchInput]:
    """The items as the ingest takes them; JSON times carry their offset, the device clock is
    that instant in the device's zone."""
    zone = timezone(timedelta(minutes=offset_minutes))
    out = []
    for _, item in items:
        clock = item["time"].astimezone(zone).replace(tzinfo=None)
        if item.get("nip"):
            out.append(PunchInput(item["nip"], clock, item.get("status"), True, item.get("instant")))
        else:
            out.append(PunchInput(item["pin"], clock, item.get("status")))
    return out


def _phone_device(session, principal, now: datetime) -> Device:
    sn = phone_device_sn(principal.nip)
    device = session.get(Device, sn)
    if device is None:
        device = Device(sn=sn, agency=principal.agency, tz_offset_minutes=420, name="phone",
                        registered_at=datetime.now(timezone.utc), last_contact_at=now)
        session.add(device)
    return device
