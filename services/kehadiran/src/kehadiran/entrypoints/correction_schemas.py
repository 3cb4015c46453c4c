"""Schemas of the correction (lupa absen) endpoints."""
from marshmallow import Schema, fields, validate

from kehadiran.domain.corrections import MAX_PUNCHES, STATUSES
from kehadiran.entrypoints.request_review_schemas import decision_schemas
from kehadiran.entrypoints.wt_schemas import PERIOD
from kinerja.events.common import NIP_PATTERN
from kinerja.fields import Agency, Instant, Text, WindowAwareDateTime, WindowDate


class CorrectionPunchIn(Schema):
    time = WindowAwareDateTime(required=True, metadata={"description": "when the ASN arrived or left, RFC 3339 with offset"})
    status = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(["in", "out"]),
                           metadata={"description": "in (arrival) or out (departure); else by the time"})


class CorrectionIn(Schema):
    nip = fields.String(load_default=None, validate=validate.Regexp(NIP_PATTERN, error="NIP must be 18 digits"),
                        metadata={"description": "the caller's own NIP (the token's when left out)"})
    date = WindowDate(required=True, metadata={"description": "the workday to correct: today or up to "
                                                "KEHADIRAN_CORRECTION_MAX_DAYS (31) days ago"})
    punches = fields.List(fields.Nested(CorrectionPunchIn), required=True,
                          validate=validate.Length(min=1, max=MAX_PUNCHES),
                          metadata={"description": "the forgotten punch(es), each belonging to that workday"})
    reason = Text(500, 5, required=True, multi_line=True,
                  metadata={"description": "why the punch is missing (for the supervisor)"})


ApproveIn, RejectIn = decision_schemas("correction", approve="ApproveIn", reject="RejectIn")


class CorrectionPunchOut(Schema):
    time = fields.String()
    status = fields.String(allow_none=True)


class CorrectionOut(Schema):
    id = fields.String()
    nip = fields.String()
    day = fields.Date(data_key="date")
    punches = fields.List(fields.Nested(CorrectionPunchOut))
    reason = fields.String()
    status = fields.String(metadata={"description": " | ".join(STATUSES)})
    requested_by = fields.String()
    requested_at = Instant()
    decided_by = fields.String(allow_none=True)
    decided_at = Instant(allow_none=True)
    note = fields.String(metadata={"description": "the decider's note"})
    punch_ids = fields.List(fields.String(), metadata={"description": "the punches an approval made"})


class CorrectionQuery(Schema):
    nip = fields.String(load_default=None, validate=validate.Regexp(NIP_PATTERN, error="NIP must be 18 digits"),
                        metadata={"description": "one ASN; left out: your own (pegawai), your team's and your "
                                                 "own (atasan), the agency's (admin)"})
    status = fields.String(load_default=None, validate=validate.OneOf(STATUSES))
    period = fields.String(load_default=None, validate=validate.Regexp(PERIOD, error="period must be YYYY-MM"),
                           metadata={"description": "the month of the corrected days"})
    agency = Agency(load_default=None, metadata={"description": "an operator names the agency"})
    limit = fields.Integer(load_default=100, validate=validate.Range(1, 500))
