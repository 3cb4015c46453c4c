"""Request and response schemas of the HTTP API (they also make its OpenAPI document)."""
import math
from datetime import datetime

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from kinerja.events.common import NIP_PATTERN
from kinerja.fields import Agency, Text, WindowAwareDateTime, in_window


class PunchItem(Schema):
    pin = fields.String(validate=validate.Regexp(r"^\d{1,20}$", error="PIN must be 1-20 digits"),
                        metadata={"description": "a device: the person's PIN on the device (or their nip)"})
    nip = fields.String(validate=validate.Regexp(NIP_PATTERN, error="NIP must be 18 digits"),
                        metadata={"description": "a device: the person's NIP (or their pin); a phone: optional, "
                                                 "the token's NIP (another is refused)"})
    time = WindowAwareDateTime(
        load_default=None,
        metadata={"description": "RFC 3339 with offset. A device sends it. A phone's punch is the moment it "
                                 "arrives: a time sent is kept beside it if within a few minutes "
                                 "(KEHADIRAN_PHONE_SKEW_S), and refused beyond that"})
    status = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(["in", "out"]))
    lat = fields.Float(load_default=None, allow_none=True, validate=validate.Range(-90, 90))
    lon = fields.Float(load_default=None, allow_none=True, validate=validate.Range(-180, 180))

    @validates_schema
    def one_person(self, data, **_):
        if data.get("pin") and data.get("nip"):
            raise ValidationError("give one of pin or nip, not both", "pin")


_ITEM_FIELDS = frozenset(("pin", "nip", "time", "status", "lat", "lon"))


def usual_item(raw) -> dict | None:
    """``PunchItem().load(raw)`` for an item as devices and phones send them (a PIN or NIP of
    ASCII digits, an RFC 3339 time with its offset, a status, a position), or None: anything else
    (a bad item above all) is marshmallow's to load, so every reason a batch reports is worded by
    the schema, as before. What a batch costs per item is then a few checks, not a schema load
    (about half of a 200-punch request's CPU). ``tests/unit/test_punch_items.py`` holds the two
    equal on items of every shape the schema takes or refuses."""
    if type(raw) is not dict or not _ITEM_FIELDS.issuperset(raw):
        return None
    out: dict = {}
    pin, nip = raw.get("pin"), raw.get("nip")
    if pin is not None:
        if nip is not None or type(pin) is not str or not (0 < len(pin) <= 20 and pin.isascii() and pin.isdigit()):
            return None
        out["pin"] = pin
    elif "pin" in raw:
        return None
    if nip is not None:
        if type(nip) is not str or not (len(nip) == 18 and nip.isascii() and nip.isdigit()):
            return None
        out["nip"] = nip
    elif "nip" in raw:
        return None
    when = raw.get("time")
    if when is not None:
        if type(when) is not str:
            return None
        try:
            when = datetime.fromisoformat(when)  # what the schema's field parses with
        except ValueError:
            return None
        if when.tzinfo is None or when.utcoffset() is None or not in_window(when.date()):
            return None
    elif "time" in raw:
        return None
    out["time"] = when
    status = raw.get("status")
    if not (status is None or status == "in" or status == "out"):
        return None
    out["status"] = status
    for name, bound in (("lat", 90), ("lon", 180)):
        value = raw.get(name)
        if value is not None:
            if type(value) not in (int, float) or not (-bound <= value <= bound) or not math.isfinite(value):
                return None
            value = float(value)
        out[name] = value
    return out


class ItemsAsSent(fields.Nested):
    """A batch's items documented as ``PunchItem`` but taken as sent: each is checked on its own,
    so the good ones are kept and the bad ones reported by index (DESIGN section 4)."""

    def _deserialize(self, value, attr, data, partial=None, **kwargs):
        if not isinstance(value, dict):
            raise ValidationError("each punch is an object")
        if len(value) > len(PunchItem._declared_fields):
            raise ValidationError(f"a punch has at most {len(PunchItem._declared_fields)} fields")
        return value


class ItemList(fields.List):
    """The batch's list: a list of objects (the usual batch) is taken in one pass; anything else
    item by item (``ItemsAsSent``), for the reasons of each bad one."""

    def _deserialize(self, value, attr, data, **kwargs):
        if type(value) is list and all(type(item) is dict and len(item) <= _MAX_ITEM_FIELDS for item in value):
            return list(value)
        return super()._deserialize(value, attr, data, **kwargs)


_MAX_ITEM_FIELDS = len(PunchItem._declared_fields)


class PunchBatch(Schema):
    punches = ItemList(ItemsAsSent(PunchItem), required=True, validate=validate.Length(min=1, max=5000),
                          metadata={"description": "each checked on its own: good ones kept, bad ones in rejected"})


class Rejected(Schema):
    index = fields.Integer(metadata={"description": "0-based position of the punch in the batch"})
    errors = fields.Dict(keys=fields.String(), values=fields.List(fields.String()),
                         metadata={"description": "field → the reasons it was refused"})


class IngestResultSchema(Schema):
    accepted = fields.Integer()
    duplicates = fields.Integer()
    quarantined = fields.Integer()
    rejected = fields.List(fields.Nested(Rejected))


class DeviceIn(Schema):
    sn = fields.String(required=True, validate=validate.Regexp(r"^[A-Za-z0-9_-]{3,64}$"))
    agency = Agency(required=True)
    tz = fields.Float(load_default=7, validate=validate.Range(-12, 14),
                      metadata={"description": "hours from UTC (WIB 7, WITA 8, WIT 9)"})
    name = Text(200, load_default="")
    comm_key = fields.String(load_default=None, allow_none=True,
                             validate=validate.Regexp(r"^[A-Za-z0-9]{0,128}$", error="1-128 letters or digits"),
                             load_only=True,
                             metadata={"description": "the communication key the terminal sends as pushcommkey in "
                                                      "its handshake; the handshake must then carry it and the "
                                                      "device's other requests come from the handshake's address. "
                                                      "Empty removes it; never shown again"})
    addresses = fields.List(Text(64, 1), load_default=None, allow_none=True, validate=validate.Length(max=16),
                            metadata={"description": "IP addresses or networks (CIDR) the device may call from; "
                                                     "empty: any (unless address binding is on)"})


class DeviceOut(Schema):
    sn = fields.String()
    agency = fields.String()
    tz_offset_minutes = fields.Integer()
    name = fields.String()
    registered_at = fields.DateTime()
    last_contact_at = fields.DateTime(allow_none=True)
    active = fields.Boolean(metadata={"description": "false: released; the protocol refuses it"})
    released_at = fields.DateTime(allow_none=True)
    comm_key_set = fields.Function(lambda d: bool(d.comm_key_sha256))
    addresses = fields.List(fields.String(), allow_none=True)
    last_address = fields.String(allow_none=True)
    address_changed_at = fields.DateTime(allow_none=True)


class AuditDetailOut(Schema):
    """What an audit entry records, by action (each key present where it applies)."""

    tz_offset_minutes = fields.Integer(metadata={"description": "registered, updated"})
    released_by_agency = fields.String(metadata={"description": "registered: the agency that had released it"})
    comm_key = fields.String(metadata={"description": "updated: set or removed (never the key)"})
    addresses = fields.List(fields.String(), metadata={"description": "registered, updated: the networks allowed"})
    by_agency = fields.String(metadata={"description": "takeover_refused: the agency that tried"})
    address = fields.String(metadata={"description": "address_bound, address_refused, comm_key_refused"})
    reason = fields.String(metadata={"description": "a refusal's reason"})
    from_ = fields.String(attribute="from", data_key="from", metadata={"description": "address_changed: the former address"})
    to = fields.String(metadata={"description": "address_changed: the new one"})


class DeviceAuditOut(Schema):
    id = fields.Integer()
    device_sn = fields.String()
    agency = fields.String()
    action = fields.String(metadata={"description": "registered, updated, released, takeover_refused, address_bound, "
                                                    "address_changed, address_refused, comm_key_refused"})
    actor = fields.String()
    detail = fields.Nested(AuditDetailOut, allow_none=True)
    at = fields.DateTime()
