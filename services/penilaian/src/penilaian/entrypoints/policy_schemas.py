"""Bodies of the agency API: the versioned scoring policy (with its distribution curves) and the
organisation's predikat."""
from marshmallow import Schema, fields, post_load, validate

from kinerja.fields import MONTH_PATTERN, BoundedDecimal, Instant, IsoDate
from penilaian.domain.distribution import ORGANISATION_PREDIKATS, RATED


class BerakhlakPointsIn(Schema):
    below = BoundedDecimal(0, 100, places=None, load_default=None, allow_none=True, as_string=True,
                           metadata={"description": "below expectation (default 60)"})
    meets = BoundedDecimal(0, 100, places=None, load_default=None, allow_none=True, as_string=True,
                           metadata={"description": "meets expectation (default 80)"})
    above = BoundedDecimal(0, 100, places=None, load_default=None, allow_none=True, as_string=True,
                           metadata={"description": "above expectation (default 100)"})


class BerakhlakPointsOut(Schema):
    below = fields.String(metadata={"description": "points of a value rated below expectation"})
    meets = fields.String(metadata={"description": "points of a value rated as expected"})
    above = fields.String(metadata={"description": "points of a value rated above expectation"})


class PolicyRecomputeOut(Schema):
    status = fields.String(metadata={"enum": ["pending", "done"]})
    asn = fields.Integer(metadata={"description": "ASN recomputed under this version so far"})
    batches = fields.Integer(metadata={"description": "transactions it took"})


class CurveMinSpec(Schema):
    predikat = fields.List(fields.String(validate=validate.OneOf(RATED)), required=True,
                           validate=validate.Length(min=1, max=len(RATED)),
                           metadata={"description": "predikat counted together"})
    share = fields.Decimal(required=True, as_string=True, validate=validate.Range(0, 1),
                           metadata={"description": "at least this share of the rated ASN (0–1)"})
    required = fields.Boolean(load_default=False, metadata={"description": "a breach, not a warning"})

    @post_load
    def _plain(self, data, **_):  # kept as JSON: decimal strings, as the defaults are
        return {**data, "share": str(data["share"])}


class CurveSpec(Schema):
    max = fields.Dict(keys=fields.String(validate=validate.OneOf(RATED)),
                      values=fields.Decimal(as_string=True, validate=validate.Range(0, 1)), load_default=dict,
                      metadata={"description": "predikat → the largest share of the rated ASN allowed (0–1)",
                                "maxProperties": len(RATED)})
    min = fields.List(fields.Nested(CurveMinSpec), load_default=list, validate=validate.Length(max=10))

    @post_load
    def _plain(self, data, **_):
        return {**data, "max": {k: str(v) for k, v in data["max"].items()}}


def curve_field(**kw):
    metadata = {"maxProperties": len(ORGANISATION_PREDIKATS), **kw.pop("metadata", {})}
    return fields.Dict(keys=fields.String(validate=validate.OneOf(ORGANISATION_PREDIKATS)),
                       values=fields.Nested(CurveSpec), metadata=metadata, **kw)


class PolicyIn(Schema):
    effective_from = fields.String(required=True, validate=validate.Regexp(MONTH_PATTERN, error="YYYY-MM"),
                                   metadata={"description": "the first month the version is in force (YYYY-MM)"})
    weight_hasil_kerja = BoundedDecimal(0, 1, places=None, min_inclusive=False, load_default=None, allow_none=True,
                                        as_string=True, metadata={"description": "0 < w ≤ 1; with weight_perilaku, 1"})
    weight_perilaku = BoundedDecimal(0, 1, places=None, min_inclusive=False, load_default=None, allow_none=True,
                                     as_string=True, metadata={"description": "0 < w ≤ 1; with weight_hasil_kerja, 1"})
    above_from = BoundedDecimal(0, 100, places=None, load_default=None, allow_none=True, as_string=True)
    meets_from = BoundedDecimal(0, 100, places=None, load_default=None, allow_none=True, as_string=True)
    innovation_points = BoundedDecimal(0, 100, places=None, load_default=None, allow_none=True, as_string=True)
    innovation_cap = BoundedDecimal(0, 100, places=None, load_default=None, allow_none=True, as_string=True)
    timeliness_penalty_per_day = BoundedDecimal(0, 100, places=None, load_default=None, allow_none=True, as_string=True)
    berakhlak_points = fields.Nested(BerakhlakPointsIn, load_default=None, allow_none=True,
                                     metadata={"description": "points of each BerAKHLAK level; below ≤ meets ≤ above"})
    distribution_curve = curve_field(load_default=None, allow_none=True, metadata={
        "description": "organisation predikat → {max, min}; null: PermenPANRB 6/2022"})


class PolicyValuesOut(Schema):
    """The numbers of a policy (a version's, or the DESIGN defaults)."""

    weight_hasil_kerja = fields.String()
    weight_perilaku = fields.String()
    above_from = fields.String()
    meets_from = fields.String()
    innovation_points = fields.String()
    innovation_cap = fields.String()
    timeliness_penalty_per_day = fields.String()
    berakhlak_points = fields.Nested(BerakhlakPointsOut)
    distribution_curve = curve_field()


class PolicyVersionOut(PolicyValuesOut):
    policy_id = fields.String()
    version = fields.Integer()
    effective_from = IsoDate()
    distribution_curve = curve_field(allow_none=True, metadata={"description": "null: PermenPANRB 6/2022's"})
    set_by = fields.String()
    set_at = Instant()
    recompute = fields.Nested(PolicyRecomputeOut, metadata={
        "description": "the consumer's recompute of the agency's ASN under this version"})


class PolicyDefaultOut(PolicyValuesOut):
    pass


class PolicyOut(Schema):
    agency = fields.String()
    default = fields.Nested(PolicyDefaultOut, metadata={"description": "the DESIGN defaults (PermenPANRB 6/2022)"})
    versions = fields.List(fields.Nested(PolicyVersionOut))


class OrganisationRatingIn(Schema):
    predikat = fields.String(required=True, validate=validate.OneOf(
        ["Istimewa", "Baik", "Butuh Perbaikan", "Kurang", "Sangat Kurang"]))


class OrganisationRatingOut(Schema):
    agency = fields.String()
    period = fields.String()
    predikat = fields.String(allow_none=True)
    set_by = fields.String(allow_none=True)
    set_at = Instant(allow_none=True)
