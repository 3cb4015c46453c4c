"""Topic ``penilaian.v1``: score updates, published only when a value changes."""
from marshmallow import Schema, fields, validate

from kinerja.events.common import agency_field, nip_field
from kinerja.events.registry import register

SCORE_UPDATED = "penilaian.score.updated.v1"

PREDIKATS = ("Sangat Baik", "Baik", "Butuh Perbaikan", "Kurang/Misconduct", "Sangat Kurang", "Belum dinilai")


class ComponentChange(Schema):
    component = fields.String(required=True)
    before = fields.Float(allow_none=True, load_default=None)
    after = fields.Float(allow_none=True, load_default=None)


class PeriodScore(Schema):
    """Another period the same change moved (``ScoreUpdated.also``)."""

    period = fields.String(required=True)
    disiplin = fields.Float(allow_none=True, load_default=None)
    produktivitas = fields.Float(allow_none=True, load_default=None)
    perilaku = fields.Float(allow_none=True, load_default=None)
    hasil_kerja = fields.Float(allow_none=True, load_default=None)
    total = fields.Float(allow_none=True, load_default=None)
    total_partial = fields.Float(allow_none=True, load_default=None)
    predikat = fields.String(required=True, validate=validate.OneOf(PREDIKATS))
    changes = fields.List(fields.Nested(ComponentChange), load_default=list)


@register(SCORE_UPDATED)
class ScoreUpdated(Schema):
    nip = nip_field(required=True)
    period = fields.String(required=True)
    disiplin = fields.Float(allow_none=True, load_default=None)
    produktivitas = fields.Float(allow_none=True, load_default=None)
    perilaku = fields.Float(allow_none=True, load_default=None)
    hasil_kerja = fields.Float(allow_none=True, load_default=None)
    total = fields.Float(allow_none=True, load_default=None)  # final: null while a part is unrated
    # while a part is unrated, the rated part alone (not final); additive, absent from older events
    total_partial = fields.Float(allow_none=True, load_default=None)
    predikat = fields.String(required=True, validate=validate.OneOf(PREDIKATS))
    changes = fields.List(fields.Nested(ComponentChange), load_default=list)
    caused_by = fields.List(fields.String(), load_default=list)
    atasan_nip = nip_field(allow_none=True, load_default=None)
    # one change moves a month, its quarter and its year (issue 19): the event of the latest month
    # moved carries the other periods in ``also``; each of those names it in ``part_of``. Additive:
    # absent from older events, where each period stands alone
    also = fields.List(fields.Nested(PeriodScore), load_default=list)
    part_of = fields.String(allow_none=True, load_default=None, validate=validate.Length(max=64))


# -- facts penilaian itself records (its API writes the row and one of these in one transaction),
# so a rebuild from the topics restores them. Additive: penilaian's consumer applies them
# idempotently; other consumers may ignore them.
RATING_RECORDED = "penilaian.rating.recorded.v1"
TRAINING_RECORDED = "penilaian.training.recorded.v1"
DIALOG_RECORDED = "penilaian.dialog.recorded.v1"
POLICY_SET = "penilaian.policy.set.v1"
ORGANISATION_RATED = "penilaian.organisation.rated.v1"
MEMBERSHIP_RECORDED = "penilaian.membership.recorded.v1"

RATING_LEVELS = ("below", "meets", "above")
ORGANISATION_PREDIKATS = ("Istimewa", "Baik", "Butuh Perbaikan", "Kurang", "Sangat Kurang")


@register(RATING_RECORDED)
class RatingRecorded(Schema):
    """A BerAKHLAK rating of one ASN for one period by their supervisor (``atasan``) or by
    themselves (``self``); a later one (by ``rated_at``, then ``rating_id``) replaces it."""

    rating_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    nip = nip_field(required=True)
    period = fields.String(required=True, validate=validate.Regexp(r"^\d{4}(-(0[1-9]|1[0-2])|-Q[1-4])?$"))
    rater = fields.String(required=True, validate=validate.OneOf(["atasan", "self"]))
    rated_by = nip_field(required=True)
    levels = fields.Dict(keys=fields.String(), values=fields.String(validate=validate.OneOf(RATING_LEVELS)),
                         required=True)
    rated_at = fields.AwareDateTime(required=True)


@register(TRAINING_RECORDED)
class TrainingRecorded(Schema):
    training_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    nip = nip_field(required=True)
    title = fields.String(required=True, validate=validate.Length(min=1, max=300))
    jp = fields.Integer(required=True, validate=validate.Range(min=1))
    date = fields.Date(required=True)
    provider = fields.String(load_default="")
    recorded_by = fields.String(required=True)
    recorded_at = fields.AwareDateTime(required=True)


@register(DIALOG_RECORDED)
class DialogRecorded(Schema):
    """A performance dialogue (dialog kinerja) between an ASN and their supervisor."""

    dialog_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    nip = nip_field(required=True)
    atasan_nip = nip_field(required=True)
    period = fields.String(required=True)
    date = fields.Date(required=True)
    notes = fields.String(required=True)
    follow_up = fields.String(load_default="")
    values = fields.List(fields.String(), load_default=list)  # the BerAKHLAK values discussed
    recorded_by = fields.String(required=True)
    recorded_at = fields.AwareDateTime(required=True)


@register(POLICY_SET)
class PolicySet(Schema):
    """A version of an agency's scoring policy, in force from the first day of ``effective_from``'s
    month until a later version takes over. Numbers are decimal strings. Subject: the agency."""

    policy_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    agency = agency_field(required=True)
    version = fields.Integer(required=True, validate=validate.Range(min=1))
    effective_from = fields.Date(required=True)
    weight_hasil_kerja = fields.Decimal(required=True, as_string=True)
    weight_perilaku = fields.Decimal(required=True, as_string=True)
    above_from = fields.Decimal(required=True, as_string=True)
    meets_from = fields.Decimal(required=True, as_string=True)
    innovation_points = fields.Decimal(required=True, as_string=True)
    innovation_cap = fields.Decimal(required=True, as_string=True)
    timeliness_penalty_per_day = fields.Decimal(required=True, as_string=True)
    # additive: the points of each BerAKHLAK level ({below, meets, above}; absent: 60, 80, 100)
    berakhlak_points = fields.Dict(keys=fields.String(validate=validate.OneOf(RATING_LEVELS)),
                                   values=fields.Decimal(as_string=True), allow_none=True, load_default=None)
    distribution_curve = fields.Dict(allow_none=True, load_default=None)
    set_by = fields.String(required=True)
    set_at = fields.AwareDateTime(required=True)


@register(ORGANISATION_RATED)
class OrganisationRated(Schema):
    """The organisation's own predikat for a period (it bounds the spread of its ASN's predikat).
    Subject: the agency; a later one (``set_at``, then ``rating_id``) replaces it."""

    rating_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    agency = agency_field(required=True)
    period = fields.String(required=True)
    predikat = fields.String(required=True, validate=validate.OneOf(ORGANISATION_PREDIKATS))
    set_by = fields.String(required=True)
    set_at = fields.AwareDateTime(required=True)


@register(MEMBERSHIP_RECORDED)
class MembershipRecorded(Schema):
    """The roster's word on an ASN's agency as penilaian keeps it: in ``agency`` from ``since`` (a
    month's first day) on, stated by the roster event ``roster_event_id`` at ``stated_at``; a later
    statement wins from its month on. Published when it changed the agency of some month, so a
    rebuild knows the moves a compacted roster topic no longer holds. Subject: the NIP."""

    nip = nip_field(required=True)
    agency = agency_field(required=True)
    since = fields.Date(required=True)
    stated_at = fields.AwareDateTime(required=True)
    roster_event_id = fields.String(required=True, validate=validate.Length(min=1, max=200))
