"""Field types shared by the topic schemas."""
from marshmallow import fields, validate

# an ASN's NIP (Nomor Induk Pegawai): 18 digits
NIP_PATTERN = r"^\d{18}$"


def nip_field(**kw):
    return fields.String(validate=validate.Regexp(NIP_PATTERN, error="NIP must be 18 digits"), **kw)


def agency_field(**kw):
    return fields.String(validate=validate.Length(min=1, max=64), **kw)
