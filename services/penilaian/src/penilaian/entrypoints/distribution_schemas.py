"""The distribution curve API: the spread of predikat per unit and agency against the allowed one."""
from marshmallow import Schema, fields

from kinerja.fields import Agency
from penilaian.entrypoints.schemas import PeriodArgs


class DistributionArgs(PeriodArgs):
    agency = Agency(metadata={"description": "operators only; an admin always gets their own agency"})


class BreachOut(Schema):
    predikat = fields.List(fields.String())
    kind = fields.String(metadata={"description": "max: too many; min: too few"})
    allowed_share = fields.Float()
    share = fields.Float()
    count = fields.Integer()
    limit_count = fields.Integer()
    description = fields.String()


class SpreadFields(Schema):
    counts = fields.Dict(keys=fields.String(), values=fields.Integer())
    total = fields.Integer()
    rated = fields.Integer(metadata={"description": "ASN with a predikat (shares are of these)"})
    shares = fields.Dict(keys=fields.String(), values=fields.Float())
    breaches = fields.List(fields.Nested(BreachOut))
    within_curve = fields.Boolean()


class UnitSpreadOut(SpreadFields):
    unit = fields.String()


class CurveMinOut(Schema):
    predikat = fields.List(fields.String())
    share = fields.Float()
    required = fields.Boolean()


class AllowedOut(Schema):
    max = fields.Dict(keys=fields.String(), values=fields.Float())
    min = fields.List(fields.Nested(CurveMinOut))


class DistributionCurveOut(Schema):
    agency = fields.String()
    period = fields.String()
    organisation_predikat = fields.String(allow_none=True, metadata={"description": "null: not set by the admin"})
    allowed = fields.Nested(AllowedOut, allow_none=True)
    units = fields.List(fields.Nested(UnitSpreadOut))
    agency_counts = fields.Dict(keys=fields.String(), values=fields.Integer())
    agency_shares = fields.Dict(keys=fields.String(), values=fields.Float())
    agency_breaches = fields.List(fields.Nested(BreachOut))
    agency_within_curve = fields.Boolean()
    total = fields.Integer()
    units_breaking = fields.List(fields.String())
