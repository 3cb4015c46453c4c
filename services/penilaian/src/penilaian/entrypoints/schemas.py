"""Request and response schemas of the HTTP API (they also make its OpenAPI document)."""
from marshmallow import Schema, fields, post_load, validate

from kinerja.events.penilaian import PREDIKATS
from kinerja.fields import MONTH_PATTERN as _MONTH, Agency, BoundedDecimal, Instant, Map, Text, WindowDate, Year
from penilaian.domain.distribution import ORGANISATION_PREDIKATS, RATED
from penilaian.domain.scoring import BERAKHLAK_VALUES, LEVELS



def IsoDate(**kw) -> fields.String:  # noqa: N802 - reads like a field class
    """A date the read model already holds as ``YYYY-MM-DD`` text."""
    return fields.String(metadata={"format": "date"}, **kw)


# a month, a quarter or a year within the window (kinerja.fields)
PERIOD_PATTERN = r"^(20\d{2}|2100)(-(0[1-9]|1[0-2])|-Q[1-4])?$"


class PeriodArgs(Schema):
    period = fields.String(
        validate=validate.Regexp(PERIOD_PATTERN, error="period must be YYYY-MM, YYYY-Qn or YYYY"),
        metadata={"description": "YYYY-MM (month), YYYY-Qn (quarter) or YYYY (year); default: this month"},
    )


class DeductionOut(Schema):
    date = IsoDate()
    code = fields.String()
    percent = fields.Float()
    minutes = fields.Integer(allow_none=True)


class DisiplinOut(Schema):
    score = fields.Float(allow_none=True, metadata={"description": "null: belum dinilai"})
    deductions = fields.List(fields.Nested(DeductionOut))


class TaskOut(Schema):
    task_id = fields.String()
    title = fields.String()
    due_date = IsoDate()
    status = fields.String()
    score = fields.Float()
    quantity = fields.Float(allow_none=True)
    quality = fields.Float(allow_none=True)
    timeliness = fields.Float(allow_none=True)
    event_id = fields.String()


class LedgerEntryOut(Schema):
    component = fields.String(validate=validate.OneOf(["disiplin", "produktivitas", "perilaku", "predikat"]), metadata={
        "description": "disiplin, produktivitas or perilaku; predikat: the matrix cell that gave the predikat "
                       "(0 points)"})
    points = fields.Float(metadata={"description": "the entries of a component sum to its score"})
    rule = fields.String()
    event_ids = fields.List(fields.String())
    date = IsoDate(allow_none=True)
    correction = fields.Boolean(dump_default=False, metadata={
        "description": "the day behind the entry rests on an approved correction (lupa absen)"})


class PredikatBasisOut(Schema):
    hasil_kerja = fields.Float(allow_none=True)
    hasil_kerja_level = fields.String(allow_none=True, validate=validate.OneOf(LEVELS), metadata={
        "description": "the matrix row: above (≥ above_from), meets (≥ meets_from), below; null: belum dinilai"})
    perilaku = fields.Float(allow_none=True)
    perilaku_level = fields.String(allow_none=True, validate=validate.OneOf(LEVELS), metadata={
        "description": "the matrix column, by the same cut-offs"})
    above_from = fields.Float(metadata={"description": "cut-off of 'above expectation' (the agency's policy)"})
    meets_from = fields.Float(metadata={"description": "cut-off of 'meets expectation'"})
    predikat = fields.String(validate=validate.OneOf(PREDIKATS))
    rule = fields.String(metadata={"description": "the same in a sentence (also the ledger's predikat entry)"})


class ScoreOut(Schema):
    nip = fields.String()
    nama = fields.String(allow_none=True)
    unit = fields.String(allow_none=True)
    atasan_nip = fields.String(allow_none=True)
    period = fields.String()
    disiplin = fields.Nested(DisiplinOut)
    produktivitas = fields.Float(allow_none=True)
    berakhlak = fields.Float(allow_none=True)
    perilaku = fields.Float(allow_none=True)
    hasil_kerja = fields.Float(allow_none=True)
    total = fields.Float(allow_none=True, metadata={
        "description": "final total (60 % hasil kerja + 40 % perilaku kerja); null while either part is unrated"})
    total_partial = fields.Float(allow_none=True, metadata={
        "description": "while one part is unrated: the rated part alone, not final (the page says \"sementara\"); "
                       "null once the total is final or nothing is rated"})
    predikat = fields.String(validate=validate.OneOf(PREDIKATS))
    predikat_basis = fields.Nested(PredikatBasisOut, metadata={
        "description": "the PermenPANRB 6/2022 matrix cell behind the predikat and the cut-offs"})
    tasks = fields.List(fields.Nested(TaskOut))
    ledger = fields.List(fields.Nested(LedgerEntryOut))
    updated_at = Instant(allow_none=True)


MONTH_ARG = r"^(19|20)\d{2}-(0[1-9]|1[0-2])$"


class MonthArgs(Schema):
    period = fields.String(
        validate=validate.Regexp(MONTH_ARG, error="period must be YYYY-MM"),
        metadata={"description": "YYYY-MM; default: this month"},
    )


class DocumentArgs(Schema):
    period = fields.String(
        required=True, validate=validate.Regexp(PERIOD_PATTERN, error="period must be YYYY-Qn, YYYY or YYYY-MM"),
        metadata={"description": "the appraisal period: a quarter (YYYY-Qn) or a year (YYYY); a month (YYYY-MM) "
                                 "for an agency that evaluates monthly (PermenPANRB 6/2022 allows periodic "
                                 "evaluation by month, quarter or semester)"})


class HistoryDayOut(Schema):
    date = IsoDate()
    disiplin = fields.Float(allow_none=True)
    produktivitas = fields.Float(allow_none=True)
    perilaku = fields.Float(allow_none=True)
    hasil_kerja = fields.Float(allow_none=True)
    total = fields.Float(allow_none=True)
    total_partial = fields.Float(allow_none=True)
    predikat = fields.String()


class ScoreHistoryOut(Schema):
    nip = fields.String()
    period = fields.String()
    days = fields.List(fields.Nested(HistoryDayOut), metadata={
        "description": "per day up to today: the month's score counting the days and tasks due up to that day"})


class TeamMemberOut(Schema):
    nip = fields.String()
    nama = fields.String()
    unit = fields.String()
    disiplin = fields.Float(allow_none=True)
    produktivitas = fields.Float(allow_none=True)
    perilaku = fields.Float(allow_none=True)
    hasil_kerja = fields.Float(allow_none=True)
    total = fields.Float(allow_none=True, metadata={"description": "null while either part is unrated"})
    total_partial = fields.Float(allow_none=True, metadata={"description": "not final: the rated part alone"})
    predikat = fields.String()


class TeamOut(Schema):
    atasan_nip = fields.String()
    period = fields.String()
    members = fields.List(fields.Nested(TeamMemberOut))


class RatingIn(Schema):
    levels = Map(
        len(BERAKHLAK_VALUES), 1,
        keys=fields.String(validate=validate.OneOf(BERAKHLAK_VALUES)),
        values=fields.String(validate=validate.OneOf(LEVELS)),
        required=True, metadata={"description": "BerAKHLAK value → below / meets / above"},
    )


class RatingSideOut(Schema):
    levels = fields.Dict(keys=fields.String(), values=fields.String())
    rated_by = fields.String()
    rated_at = Instant()
    rating_id = fields.String()


class ValueComparisonOut(Schema):
    value = fields.String()
    supervisor = fields.String(allow_none=True)
    self = fields.String(allow_none=True)
    gap = fields.Integer(allow_none=True)
    dialog_needed = fields.Boolean(metadata={
        "description": "two levels apart and no dialog kinerja about it recorded since the later rating"})
    dialog_id = fields.String(allow_none=True, metadata={
        "description": "the dialog kinerja that answered this gap (GET /api/v1/dialogs/<nip>)"})


class DialogHeldOut(Schema):
    id = fields.String()
    date = IsoDate()
    follow_up = fields.String()
    recorded_at = Instant()


class RatingsOut(Schema):
    nip = fields.String()
    period = fields.String()
    supervisor = fields.Nested(RatingSideOut, allow_none=True)
    self = fields.Nested(RatingSideOut, allow_none=True)
    values = fields.List(fields.Nested(ValueComparisonOut))
    dialog_needed = fields.Boolean(metadata={
        "description": "some value is two levels apart and no dialog kinerja has answered it yet"})
    dialogs_held = fields.List(fields.Nested(DialogHeldOut), metadata={
        "description": "the dialogs kinerja that answered the gaps of this period"})


class DistributionArgs(PeriodArgs):
    agency = Agency(metadata={"description": "operators only; an admin always gets their own agency"})


class UnitDistributionOut(Schema):
    unit = fields.String()
    counts = fields.Dict(keys=fields.String(), values=fields.Integer())
    total = fields.Integer()


class DistributionOut(Schema):
    agency = fields.String()
    period = fields.String()
    units = fields.List(fields.Nested(UnitDistributionOut))
    agency_counts = fields.Dict(keys=fields.String(), values=fields.Integer())
    total = fields.Integer()


class TrainingIn(Schema):
    title = Text(300, 1, required=True)
    jp = fields.Integer(required=True, validate=validate.Range(1, 500), metadata={"description": "jam pelajaran"})
    date = WindowDate(required=True)
    provider = Text(200, load_default="")


class YearArgs(Schema):
    year = Year(metadata={"description": "default: this year"})


class TrainingRecordOut(Schema):
    id = fields.String()
    title = fields.String()
    jp = fields.Integer()
    date = IsoDate()
    provider = fields.String()


class SuggestionOut(Schema):
    topic = fields.String()
    reason = fields.String()


class TrainingOut(Schema):
    nip = fields.String()
    year = fields.Integer()
    records = fields.List(fields.Nested(TrainingRecordOut))
    jp_total = fields.Integer()
    jp_target = fields.Integer()
    jp_remaining = fields.Integer()
    met = fields.Boolean()
    suggestions = fields.List(fields.Nested(SuggestionOut))


class DialogIn(Schema):
    date = WindowDate(required=True, metadata={"description": "the day the dialogue was held"})
    notes = Text(4000, 1, required=True, multi_line=True)
    follow_up = Text(4000, 1, required=True, multi_line=True, metadata={"description": "the follow-up both agreed"})
    values = fields.List(fields.String(validate=validate.OneOf(BERAKHLAK_VALUES)), load_default=list,
                         validate=validate.Length(max=len(BERAKHLAK_VALUES)),
                         metadata={"description": "the BerAKHLAK values discussed"})


class DialogOut(Schema):
    id = fields.String()
    nip = fields.String()
    atasan_nip = fields.String()
    period = fields.String()
    date = IsoDate()
    notes = fields.String()
    follow_up = fields.String()
    values = fields.List(fields.String())
    recorded_by = fields.String()
    recorded_at = Instant()


class DialogsOut(Schema):
    nip = fields.String()
    period = fields.String(allow_none=True)
    dialogs = fields.List(fields.Nested(DialogOut))


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


MONTH_PATTERN = _MONTH


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


class AgencyArgs(Schema):
    agency = Agency(metadata={"description": "operators only; an admin always gets their own agency"})


class PolicyVersionOut(Schema):
    policy_id = fields.String()
    version = fields.Integer()
    effective_from = IsoDate()
    weight_hasil_kerja = fields.String()
    weight_perilaku = fields.String()
    above_from = fields.String()
    meets_from = fields.String()
    innovation_points = fields.String()
    innovation_cap = fields.String()
    timeliness_penalty_per_day = fields.String()
    berakhlak_points = fields.Nested(BerakhlakPointsOut)
    distribution_curve = curve_field(allow_none=True, metadata={"description": "null: PermenPANRB 6/2022's"})
    set_by = fields.String()
    set_at = Instant()
    recompute = fields.Nested(PolicyRecomputeOut, metadata={
        "description": "the consumer's recompute of the agency's ASN under this version"})


class PolicyDefaultOut(Schema):
    weight_hasil_kerja = fields.String()
    weight_perilaku = fields.String()
    above_from = fields.String()
    meets_from = fields.String()
    innovation_points = fields.String()
    innovation_cap = fields.String()
    timeliness_penalty_per_day = fields.String()
    berakhlak_points = fields.Nested(BerakhlakPointsOut)
    distribution_curve = curve_field()


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
