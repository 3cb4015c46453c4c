"""Schemas of the working-time endpoints (schedules, calendar, shifts, leave, days, recap)."""
from marshmallow import Schema, ValidationError, fields, pre_dump, validate, validates_schema

from kinerja.events.common import NIP_PATTERN
from kinerja.fields import MONTH_PATTERN, Agency, NoControlCharacters, Text, WindowDate, Year

PERIOD = MONTH_PATTERN
HHMM = r"^([01]\d|2[0-3]):[0-5]\d$"


class Span(Schema):
    start = fields.String(required=True, validate=validate.Regexp(HHMM, error="HH:MM"))
    end = fields.String(required=True, validate=validate.Regexp(HHMM, error="HH:MM"))


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class Week(Schema):
    """A week by weekday name: each day's span, or null (or left out) for a day off."""

    mon = fields.Nested(Span, allow_none=True)
    tue = fields.Nested(Span, allow_none=True)
    wed = fields.Nested(Span, allow_none=True)
    thu = fields.Nested(Span, allow_none=True)
    fri = fields.Nested(Span, allow_none=True)
    sat = fields.Nested(Span, allow_none=True)
    sun = fields.Nested(Span, allow_none=True)


def week_field(**kw):
    return fields.Nested(Week, **kw)


def week_of(hours: dict) -> dict:
    """The stored week (``{"0": ["07:30", "16:00"], ...}``, 0 = Monday) in the shape it is sent
    in: every weekday by name, its span or null for a day off."""
    hours = hours or {}
    return {name: ({"start": hours[str(i)][0], "end": hours[str(i)][1]} if str(i) in hours else None)
            for i, name in enumerate(WEEKDAYS)}


def _with_days(obj) -> dict:
    data = dict(obj) if isinstance(obj, dict) else {k: getattr(obj, k) for k in
                                                      ("id", "agency", "unit", "start_date", "end_date", "hours")
                                                      if hasattr(obj, k)}
    data["days"] = week_of(data.get("hours"))
    return data


HOURS_DESCRIPTION = ("the same week as stored, weekday number (0 = Monday) → [start, end]; kept for older clients, "
                     "read days instead")


class UnitScheduleIn(Schema):
    agency = Agency(load_default=None)
    days = week_field(required=True, metadata={"description": "weekday (mon…sun) → {start, end}; a weekday left out "
                                                              "or null is a day off"})
    recompute_from = WindowDate(load_default=None, metadata={
        "description": "recompute the unit's days from this date (at most a year back) to today"})


class UnitScheduleOut(Schema):
    agency = fields.String()
    unit = fields.String()
    days = week_field(metadata={"description": "every weekday (mon…sun) → {start, end}, or null for a day off: "
                                               "the shape PUT takes"})
    hours = fields.Dict(keys=fields.String(validate=validate.OneOf([str(i) for i in range(7)])),
                        values=fields.List(fields.String(), validate=validate.Length(equal=2)),
                        metadata={"description": HOURS_DESCRIPTION})

    @pre_dump
    def _days(self, obj, **_):
        return _with_days(obj)


class RamadanIn(Schema):
    agency = Agency(load_default=None)
    unit = Text(200, 1, load_default=None, allow_none=True, metadata={"description": "null: every unit"})
    start_date = WindowDate(required=True)
    end_date = WindowDate(required=True, metadata={"description": "at most a year after start_date"})
    days = week_field(required=True)


class RamadanOut(Schema):
    id = fields.Integer()
    agency = fields.String()
    unit = fields.String(allow_none=True)
    start_date = fields.Date()
    end_date = fields.Date()
    days = week_field(metadata={"description": "every weekday (mon…sun) → {start, end}, or null: the shape POST takes"})
    hours = fields.Dict(keys=fields.String(validate=validate.OneOf([str(i) for i in range(7)])),
                        values=fields.List(fields.String(), validate=validate.Length(equal=2)),
                        metadata={"description": HOURS_DESCRIPTION})

    @pre_dump
    def _days(self, obj, **_):
        return _with_days(obj)


class HolidayOut(Schema):
    day = fields.Date(data_key="date")
    name = fields.String()
    kind = fields.String()


class HolidayLoadIn(Schema):
    agency = Agency(load_default=None)
    csv = fields.String(required=True, validate=[validate.Length(min=1, max=200_000), NoControlCharacters(True)],
                        metadata={"description": "lines date,name[,kind] with kind libur or cuti_bersama; "
                                                 "at most 1,000 lines"})


class HolidayLineRejected(Schema):
    line = fields.Integer(metadata={"description": "1-based line number in the CSV"})
    error = fields.String(metadata={"description": "why the line was not loaded"})


class HolidayLoadOut(Schema):
    loaded = fields.Integer()
    rejected = fields.List(fields.Nested(HolidayLineRejected))


class HolidayQuery(Schema):
    year = Year(required=True)
    agency = Agency(load_default=None)


class ShiftItem(Schema):
    nip = fields.String(required=True, validate=validate.Regexp(NIP_PATTERN, error="NIP must be 18 digits"))
    date = WindowDate(required=True)
    start = fields.String(load_default=None, allow_none=True, validate=validate.Regexp(HHMM, error="HH:MM"))
    end = fields.String(load_default=None, allow_none=True, validate=validate.Regexp(HHMM, error="HH:MM"))
    name = Text(50, load_default="")

    @validates_schema
    def both_or_neither(self, data, **_):
        if bool(data.get("start")) != bool(data.get("end")):
            raise ValidationError("give both start and end, or neither for a day off", "start")


class ShiftBatch(Schema):
    shifts = fields.List(fields.Nested(ShiftItem), required=True, validate=validate.Length(min=1, max=5000))


class ShiftQuery(Schema):
    nip = fields.String(required=True, validate=validate.Regexp(NIP_PATTERN, error="NIP must be 18 digits"))
    period = fields.String(required=True, validate=validate.Regexp(PERIOD, error="period must be YYYY-MM"))


class ShiftOut(Schema):
    """A shift as it was assigned (the shape ``POST /api/v1/shifts`` takes)."""

    nip = fields.String()
    day = fields.Date(data_key="date")
    start = fields.String(allow_none=True, metadata={"description": "null with end: an assigned day off"})
    end = fields.String(allow_none=True, metadata={"description": "before start: the shift ends the next day"})
    name = fields.String()


class CountOut(Schema):
    count = fields.Integer()


class LeaveIn(Schema):
    nip = fields.String(required=True, validate=validate.Regexp(NIP_PATTERN, error="NIP must be 18 digits"))
    start_date = WindowDate(required=True)
    end_date = WindowDate(required=True, metadata={"description": "at most a year after start_date"})
    kind = fields.String(required=True, validate=validate.OneOf(["cuti", "sakit", "dinas_luar"]))
    note = Text(500, load_default="", multi_line=True)


class LeaveCancelIn(Schema):
    nip = fields.String(required=True, validate=validate.Regexp(NIP_PATTERN, error="NIP must be 18 digits"))
    start_date = WindowDate(required=True)
    end_date = WindowDate(required=True, metadata={"description": "at most a year after start_date"})


class LeaveOut(Schema):
    nip = fields.String()
    day = fields.Date(data_key="date")
    kind = fields.String()
    note = fields.String()
    entered_by = fields.String()


class LeaveQuery(Schema):
    nip = fields.String(required=True, validate=validate.Regexp(NIP_PATTERN, error="NIP must be 18 digits"))
    period = fields.String(required=True, validate=validate.Regexp(PERIOD, error="period must be YYYY-MM"))


class LocationIn(Schema):
    agency = Agency(load_default=None)
    lat = fields.Float(required=True, validate=validate.Range(-90, 90))
    lon = fields.Float(required=True, validate=validate.Range(-180, 180))
    radius_m = fields.Float(required=True, validate=validate.Range(10, 50_000))


class AgencyQuery(Schema):
    agency = Agency(load_default=None, metadata={"description": "an operator names the agency"})


class LocationOut(Schema):
    agency = fields.String()
    unit = fields.String()
    lat = fields.Float()
    lon = fields.Float()
    radius_m = fields.Float()


class DaysQuery(Schema):
    nip = fields.String(required=True, validate=validate.Regexp(NIP_PATTERN, error="NIP must be 18 digits"))
    period = fields.String(required=True, validate=validate.Regexp(PERIOD, error="period must be YYYY-MM"))


class DeductionOut(Schema):
    code = fields.String(validate=validate.OneOf(["TL1", "TL2", "TL3", "TL4", "PSW1", "PSW2", "PSW3", "PSW4", "TK"]))
    percent = fields.Float(metadata={"description": "of the TPP"})
    minutes = fields.Integer(allow_none=True, metadata={"description": "late or early, when that is the reason"})


class DayOut(Schema):
    date = fields.String()
    version = fields.Integer()
    final = fields.Boolean()
    workday = fields.Boolean()
    excused = fields.String(allow_none=True)
    arrival = fields.String(allow_none=True)
    departure = fields.String(allow_none=True)
    minutes_late = fields.Integer()
    minutes_early = fields.Integer()
    deductions = fields.List(fields.Nested(DeductionOut))
    corrected = fields.Boolean(dump_default=False,
                               metadata={"description": "the day rests on an approved correction (lupa absen)"})
    correction_ids = fields.List(fields.String(), dump_default=list)


class CloseIn(Schema):
    agency = Agency(load_default=None)
    start_date = WindowDate(required=True)
    end_date = WindowDate(required=True, metadata={"description": "at most 93 days after start_date"})


class SkippedOut(Schema):
    reason = fields.String(metadata={"description": "before_tmt | before_tracking | holiday | day_off | not_over"})
    message = fields.String()
    asn_days = fields.Integer(metadata={"description": "ASN-days skipped for this reason"})
    asn = fields.Integer(metadata={"description": "how many ASN"})
    dates = fields.List(fields.String())


class SkippedAsnOut(Schema):
    nip = fields.String()
    nama = fields.String()
    reason = fields.String(metadata={"description": "before_tmt | before_tracking"})
    from_ = fields.Date(data_key="from")
    to = fields.Date()
    days = fields.Integer()
    tmt = fields.Date(allow_none=True)
    tracked_since = fields.Date(allow_none=True, metadata={"description": "the first day closed for this ASN"})


class CloseOut(Schema):
    count = fields.Integer(metadata={"description": "day records published"})
    workdays = fields.Integer(metadata={"description": "ASN-days closed as workdays (worked, excused or TK)"})
    skipped = fields.List(fields.Nested(SkippedOut))
    by_asn = fields.List(fields.Nested(SkippedAsnOut))
    by_asn_truncated = fields.Boolean()
    inactive = fields.Integer(metadata={"description": "ASN of the agency not closed: inactive on the roster"})


class RecapQuery(Schema):
    period = fields.String(required=True, validate=validate.Regexp(PERIOD, error="period must be YYYY-MM"))
    unit = Text(200, 1, load_default=None)
    agency = Agency(load_default=None)
    format = fields.String(load_default="json", validate=validate.OneOf(["json", "csv", "xlsx"]))
