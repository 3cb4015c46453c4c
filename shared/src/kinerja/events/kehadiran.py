"""Topic ``kehadiran.v1``: punches, daily attendance summaries, discipline alerts and their
withdrawals."""
from marshmallow import Schema, fields, validate

from kinerja.events.common import nip_field
from kinerja.events.registry import register

PUNCH_RECORDED = "kehadiran.punch.recorded.v1"
DAY_SUMMARIZED = "kehadiran.day.summarized.v1"
DISCIPLINE_ALERT = "kehadiran.discipline.alert.v1"
DISCIPLINE_ALERT_WITHDRAWN = "kehadiran.discipline.alert.withdrawn.v1"
# requests that wait for the supervisor (issue 19): asked by the ASN, decided by the supervisor or
# an admin of the agency; notifikasi tells whoever must act, then the ASN the decision
CORRECTION_REQUESTED = "kehadiran.correction.requested.v1"
CORRECTION_DECIDED = "kehadiran.correction.decided.v1"
LEAVE_REQUESTED = "kehadiran.leave.requested.v1"
LEAVE_DECIDED = "kehadiran.leave.decided.v1"
LEAVE_KINDS = ("cuti", "sakit", "dinas_luar")

CODES = ("TL1", "TL2", "TL3", "TL4", "PSW1", "PSW2", "PSW3", "PSW4", "TK")


@register(PUNCH_RECORDED)
class PunchRecorded(Schema):
    punch_id = fields.String(required=True)
    nip = nip_field(required=True)
    device_sn = fields.String(required=True)
    pin = fields.String(allow_none=True, load_default=None)
    time = fields.AwareDateTime(required=True)
    status = fields.String(allow_none=True, load_default=None, validate=validate.OneOf(["in", "out"]))
    channel = fields.String(load_default="json", validate=validate.OneOf(["json", "adms", "hikvision"]))
    # set when the punch is an approved correction (lupa absen): the request it came from
    correction_id = fields.String(allow_none=True, load_default=None, validate=validate.Length(max=64))


class Deduction(Schema):
    code = fields.String(required=True, validate=validate.OneOf(CODES))
    percent = fields.Decimal(required=True, as_string=True, places=2)
    minutes = fields.Integer(allow_none=True, load_default=None)


@register(DAY_SUMMARIZED)
class DaySummarized(Schema):
    nip = nip_field(required=True)
    date = fields.Date(required=True)
    version = fields.Integer(required=True, validate=validate.Range(min=1))
    final = fields.Boolean(required=True)
    workday = fields.Boolean(required=True)
    excused = fields.String(allow_none=True, load_default=None)
    arrival = fields.AwareDateTime(allow_none=True, load_default=None)
    departure = fields.AwareDateTime(allow_none=True, load_default=None)
    minutes_late = fields.Integer(load_default=0)
    minutes_early = fields.Integer(load_default=0)
    deductions = fields.List(fields.Nested(Deduction), load_default=list)
    punch_event_ids = fields.List(fields.String(), load_default=list)
    unit = fields.String(allow_none=True, load_default=None)
    # the day rests on punches from approved corrections (lupa absen); absent on the others
    corrected = fields.Boolean(load_default=False)
    correction_ids = fields.List(fields.String(validate=validate.Length(max=64)), load_default=list)


@register(DISCIPLINE_ALERT)
class DisciplineAlert(Schema):
    nip = nip_field(required=True)
    year = fields.Integer(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(["cumulative", "consecutive"]))
    days = fields.Integer(required=True)
    threshold = fields.Integer(required=True)
    date = fields.Date(required=True)


@register(DISCIPLINE_ALERT_WITHDRAWN)
class DisciplineAlertWithdrawn(Schema):
    """A PP 94/2021 alert raised before no longer holds: the facts changed (leave, a late punch,
    an approved correction) and the count is below its threshold. ``days`` is the count now;
    ``raised_on`` the date the alert named. Re-crossing the threshold raises it again."""

    nip = nip_field(required=True)
    year = fields.Integer(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(["cumulative", "consecutive"]))
    days = fields.Integer(required=True)
    threshold = fields.Integer(required=True)
    raised_on = fields.Date(allow_none=True, load_default=None)
    date = fields.Date(required=True)


class _Request(Schema):
    request_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    nip = nip_field(required=True)
    atasan_nip = nip_field(allow_none=True, load_default=None)  # who the roster says decides


@register(CORRECTION_REQUESTED)
class CorrectionRequested(_Request):
    """An ASN asks for a forgotten punch (lupa absen) on ``date``; it waits for a decision."""

    date = fields.Date(required=True)
    times = fields.List(fields.AwareDateTime(), load_default=list)
    reason = fields.String(load_default="", validate=validate.Length(max=2000))
    requested_at = fields.AwareDateTime(required=True)


@register(CORRECTION_DECIDED)
class CorrectionDecided(_Request):
    date = fields.Date(required=True)
    status = fields.String(required=True, validate=validate.OneOf(["approved", "rejected"]))
    decided_by = fields.String(required=True, validate=validate.Length(max=64))
    note = fields.String(load_default="", validate=validate.Length(max=2000))
    decided_at = fields.AwareDateTime(required=True)


@register(LEAVE_REQUESTED)
class LeaveRequested(_Request):
    """An ASN asks for leave (cuti), sick leave (sakit) or official duty (dinas luar) over a span
    of days; it waits for a decision."""

    kind = fields.String(required=True, validate=validate.OneOf(LEAVE_KINDS))
    start_date = fields.Date(required=True)
    end_date = fields.Date(required=True)
    reason = fields.String(load_default="", validate=validate.Length(max=2000))
    requested_at = fields.AwareDateTime(required=True)


@register(LEAVE_DECIDED)
class LeaveDecided(_Request):
    kind = fields.String(required=True, validate=validate.OneOf(LEAVE_KINDS))
    start_date = fields.Date(required=True)
    end_date = fields.Date(required=True)
    status = fields.String(required=True, validate=validate.OneOf(["approved", "rejected", "cancelled"]))
    decided_by = fields.String(required=True, validate=validate.Length(max=64))
    note = fields.String(load_default="", validate=validate.Length(max=2000))
    decided_at = fields.AwareDateTime(required=True)
