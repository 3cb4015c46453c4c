"""Request and response schemas of the HTTP API (they also make its OpenAPI document)."""
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from kinerja.events.common import NIP_PATTERN
from kinerja.fields import Agency, Text, WindowAwareDateTime


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


class ItemsAsSent(fields.Nested):
    """A batch's items documented as ``PunchItem`` but taken as sent: each is checked on its own,
    so the good ones are kept and the bad ones reported by index (DESIGN section 4)."""

    def _deserialize(self, value, attr, data, partial=None, **kwargs):
        if not isinstance(value, dict):
            raise ValidationError("each punch is an object")
        if len(value) > len(PunchItem._declared_fields):
            raise ValidationError(f"a punch has at most {len(PunchItem._declared_fields)} fields")
        return value


class PunchBatch(Schema):
    punches = fields.List(ItemsAsSent(PunchItem), required=True, validate=validate.Length(min=1, max=5000),
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
