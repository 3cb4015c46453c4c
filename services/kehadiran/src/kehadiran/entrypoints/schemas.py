"""Request and response schemas of the HTTP API (they also make its OpenAPI document)."""
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from kinerja.events.envelope import NIP_PATTERN
from kinerja.fields import Agency, Map, Text, WindowAwareDateTime


class PunchItem(Schema):
    pin = fields.String(validate=validate.Regexp(r"^\d{1,20}$", error="PIN must be 1-20 digits"))
    nip = fields.String(validate=validate.Regexp(NIP_PATTERN, error="NIP must be 18 digits"))
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
        if bool(data.get("pin")) == bool(data.get("nip")):
            raise ValidationError("give exactly one of pin or nip", "pin")


class PunchBatch(Schema):
    # items are loaded one by one (PunchItem), so a bad one is reported by its index
    punches = fields.List(Map(len(PunchItem._declared_fields)), required=True, validate=validate.Length(min=1, max=5000))


class Rejected(Schema):
    index = fields.Integer()
    errors = fields.Dict()


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


class DeviceAuditOut(Schema):
    id = fields.Integer()
    device_sn = fields.String()
    agency = fields.String()
    action = fields.String(metadata={"description": "registered, updated, released, takeover_refused, address_bound, "
                                                    "address_changed, address_refused, comm_key_refused"})
    actor = fields.String()
    detail = fields.Dict(allow_none=True)
    at = fields.DateTime()
