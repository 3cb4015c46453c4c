"""Topic ``pegawai.v1`` (compacted, keyed by NIP): the roster."""
from datetime import date

from marshmallow import Schema, fields, validate

from kinerja.events.common import agency_field, nip_field
from kinerja.events.registry import register
from kinerja.zones import ZONES

# the dates a TMT may take
TMT_WINDOW = (date(1950, 1, 1), date(2100, 12, 31))

EMPLOYEE_UPSERTED = "pegawai.employee.upserted.v1"


@register(EMPLOYEE_UPSERTED)
class EmployeeUpserted(Schema):
    nip = nip_field(required=True)
    nama = fields.String(required=True, validate=validate.Length(min=1, max=200))
    agency = agency_field(required=True)
    unit = fields.String(required=True, validate=validate.Length(min=1, max=200))
    jabatan = fields.String(load_default="", dump_default="")
    atasan_nip = nip_field(allow_none=True, load_default=None)
    pin = fields.String(allow_none=True, load_default=None, validate=validate.Regexp(r"^\d{1,20}$"))
    active = fields.Boolean(load_default=True, dump_default=True)
    # TMT (terhitung mulai tanggal): the first day the ASN is expected at work here; days from it
    # on are workdays for them (TK when nobody punched), days before it are not
    tmt = fields.Date(allow_none=True, validate=validate.Range(
        min=TMT_WINDOW[0], max=TMT_WINDOW[1], error="tmt must be between {min} and {max}"))
    # additive, optional: the ASN's monthly TPP base in whole rupiah (the recap turns deduction
    # percents into rupiah with it)
    tpp = fields.Integer(allow_none=True, strict=True,
                         validate=validate.Range(0, 1_000_000_000, error="tpp must be 0 to 1,000,000,000 rupiah"))
    # additive, optional: the ASN's work e-mail address, where notifikasi sends their digests unless
    # their own preference says otherwise
    email = fields.Email(allow_none=True, validate=validate.Length(max=254, error="email is longer than 254 characters"))
    # additive, optional: the time zone of the ASN's agency (Asia/Jakarta WIB, Asia/Makassar WITA,
    # Asia/Jayapura WIT); absent, the services keep what they knew, else ``KINERJA_TIMEZONE``
    timezone = fields.String(allow_none=True, validate=validate.OneOf(
        ZONES, error="timezone must be one of Asia/Jakarta (WIB), Asia/Makassar (WITA), Asia/Jayapura (WIT)"))
