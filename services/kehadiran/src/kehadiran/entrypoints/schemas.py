"""Request and response schemas of the HTTP API (they also make its OpenAPI document)."""
from datetime import datetime, timezone

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from kinerja.events.envelope import NIP_PATTERN

# the instants a punch may carry
TIME_WINDOW = (datetime(2000, 1, 1, tzinfo=timezone.utc), datetime(2100, 1, 1, tzinfo=timezone.utc))


class PunchItem(Schema):
    pin = fields.String(validate=validate.Regexp(r"^\d{1,20}$", error="PIN must be 1-20 digits"))
    nip = fields.String(validate=validate.Regexp(NIP_PATTERN, error="NIP must be 18 digits"))
    time = fields.AwareDateTime(
        load_default=None, validate=validate.Range(min=TIME_WINDOW[0], max=TIME_WINDOW[1]),
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
    punches = fields.List(fields.Dict(), required=True, validate=validate.Length(min=1, max=5000))


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
    agency = fields.String(required=True, validate=validate.Length(min=1, max=64))
    tz = fields.Float(load_default=7, validate=validate.Range(-12, 14),
                      metadata={"description": "hours from UTC (WIB 7, WITA 8, WIT 9)"})
    name = fields.String(load_default="")


class DeviceOut(Schema):
    sn = fields.String()
    agency = fields.String()
    tz_offset_minutes = fields.Integer()
    name = fields.String()
    registered_at = fields.DateTime()
    last_contact_at = fields.DateTime(allow_none=True)
