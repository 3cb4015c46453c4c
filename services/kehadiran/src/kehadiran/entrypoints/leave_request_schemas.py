"""Schemas of the leave request endpoints."""
from marshmallow import Schema, fields, validate

from kehadiran.domain.leave_requests import KINDS, STATUSES
from kehadiran.entrypoints.request_review_schemas import decision_schemas
from kinerja.events.common import NIP_PATTERN
from kinerja.fields import Agency, Instant, Text, WindowDate

KIND_DESCRIPTION = "cuti (leave), sakit (sick leave) or dinas_luar (official duty)"


class LeaveRequestIn(Schema):
    nip = fields.String(load_default=None, validate=validate.Regexp(NIP_PATTERN, error="NIP must be 18 digits"),
                        metadata={"description": "the caller's own NIP (the token's when left out)"})
    kind = fields.String(required=True, validate=validate.OneOf(KINDS), metadata={"description": KIND_DESCRIPTION})
    start_date = WindowDate(required=True, metadata={"description": "the first day; at most KEHADIRAN_CORRECTION_MAX_DAYS (31) "
                                                      "days ago (sick leave is often asked for afterwards)"})
    end_date = WindowDate(required=True, metadata={"description": "the last day (the same day for one day); at most 366 days"})
    reason = Text(500, 3, required=True, multi_line=True, metadata={"description": "what for (for the supervisor)"})


DecisionIn, RejectionIn = decision_schemas("request", approve="DecisionIn", reject="RejectionIn")


class LeaveRequestOut(Schema):
    id = fields.String()
    nip = fields.String()
    kind = fields.String(validate=validate.OneOf(KINDS))
    start_date = fields.Date()
    end_date = fields.Date()
    reason = fields.String()
    status = fields.String(validate=validate.OneOf(STATUSES))
    requested_by = fields.String()
    requested_at = Instant()
    decided_by = fields.String(allow_none=True, metadata={"description": "who decided (or the ASN who withdrew it)"})
    decided_at = Instant(allow_none=True)
    note = fields.String(metadata={"description": "the decider's note"})


class LeaveRequestQuery(Schema):
    nip = fields.String(load_default=None, validate=validate.Regexp(NIP_PATTERN, error="NIP must be 18 digits"),
                        metadata={"description": "one ASN; left out: your own (pegawai), your team's and your "
                                                 "own (atasan), the agency's (admin)"})
    status = fields.String(load_default=None, validate=validate.OneOf(STATUSES),
                           metadata={"description": "pending: what waits for a decision"})
    agency = Agency(load_default=None, metadata={"description": "an operator names the agency"})
    limit = fields.Integer(load_default=100, validate=validate.Range(1, 500))
