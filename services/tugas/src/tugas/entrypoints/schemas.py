"""Request and response schemas of the HTTP API (they also make its OpenAPI document)."""
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from kinerja.events.envelope import NIP_PATTERN
from tugas.domain.tasks import STATUSES as TASK_STATUSES

PERIOD_PATTERN = r"^\d{4}-(0[1-9]|1[0-2])$"


def nip(**kw):
    return fields.String(validate=validate.Regexp(NIP_PATTERN, error="NIP must be 18 digits"), **kw)


class TaskIn(Schema):
    nip = nip(required=True, metadata={"description": "the assignee: a direct subordinate of the caller (assigned), "
                                                       "or the caller (a proposal their supervisor accepts)"})
    title = fields.String(required=True, validate=validate.Length(min=1, max=500))
    description = fields.String(load_default=None, allow_none=True)
    due_date = fields.Date(required=True)
    target_quantity = fields.Decimal(required=True, places=2, validate=validate.Range(min=0, min_inclusive=False),
                                     metadata={"description": "greater than 0"})
    rhk_id = fields.String(load_default=None, allow_none=True)
    category = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=100))


class TaskQuery(Schema):
    assignee = nip()
    status = fields.String(validate=validate.OneOf(TASK_STATUSES))
    period = fields.String(validate=validate.Regexp(PERIOD_PATTERN, error="period must be YYYY-MM"),
                           metadata={"description": "tasks due in this month"})
    rhk = fields.String()
    limit = fields.Integer(load_default=50, validate=validate.Range(1, 500))
    offset = fields.Integer(load_default=0, validate=validate.Range(min=0))
    page = fields.Integer(validate=validate.Range(min=1), metadata={"description": "1-based; overrides offset"})


class VersionMixin(Schema):
    version = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=1),
                             metadata={"description": "the version you read; a stale one gives 409"})


class StartIn(VersionMixin):
    pass


class SubmitIn(VersionMixin):
    note = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=5000))
    links = fields.List(fields.Url(), load_default=list, validate=validate.Length(max=50))


class ApproveIn(VersionMixin):
    realised_quantity = fields.Decimal(required=True, places=2, validate=validate.Range(min=0))
    quality = fields.Integer(required=True, strict=True, validate=validate.Range(0, 100),
                             metadata={"description": "a whole number from 0 to 100"})
    note = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=5000))


class ReturnIn(VersionMixin):
    feedback = fields.String(required=True, validate=validate.Length(min=1, max=5000))

    @validates_schema
    def not_blank(self, data, **_):
        if not data.get("feedback", "").strip():
            raise ValidationError("feedback must not be blank", "feedback")


class AcceptIn(VersionMixin):
    due_date = fields.Date(load_default=None, allow_none=True, metadata={"description": "change the proposed due date"})
    target_quantity = fields.Decimal(load_default=None, allow_none=True, places=2,
                                     validate=validate.Range(min=0, min_inclusive=False))


class RescheduleIn(VersionMixin):
    due_date = fields.Date(load_default=None, allow_none=True,
                           metadata={"description": "the new due date; a date in the past is allowed (a deadline "
                                                    "that has already passed: the task is then late or overdue)"})
    title = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=1, max=500))
    target_quantity = fields.Decimal(load_default=None, allow_none=True, places=2,
                                     validate=validate.Range(min=0, min_inclusive=False),
                                     metadata={"description": "greater than 0"})

    @validates_schema
    def something_to_change(self, data, **_):
        if data.get("due_date") is None and data.get("title") is None and data.get("target_quantity") is None:
            raise ValidationError("give at least one of due_date, title, target_quantity", "_schema")
        if data.get("title") is not None and not data["title"].strip():
            raise ValidationError("title must not be blank", "title")


class RejectIn(VersionMixin):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=5000))


class CancelIn(VersionMixin):
    reason = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=5000))


class TaskOut(Schema):
    id = fields.String()
    agency = fields.String()
    nip = fields.String()
    atasan_nip = fields.String(allow_none=True)
    assigned_by = fields.String()
    title = fields.String()
    description = fields.String(allow_none=True)
    category = fields.String(allow_none=True)
    rhk_id = fields.String(allow_none=True)
    status = fields.String()
    due_date = fields.Date()
    target_quantity = fields.Decimal(as_string=True)
    realised_quantity = fields.Decimal(as_string=True, allow_none=True)
    quality = fields.Integer(allow_none=True)
    submitted_at = fields.DateTime(allow_none=True)
    approved_at = fields.DateTime(allow_none=True)
    note = fields.String(allow_none=True)
    links = fields.List(fields.String())
    overdue_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    version = fields.Integer()


class TaskPage(Schema):
    items = fields.List(fields.Nested(TaskOut))
    total = fields.Integer()
    limit = fields.Integer()
    offset = fields.Integer()


# -- SKP ----------------------------------------------------------------------------------------
class IndicatorSchema(Schema):
    indicator = fields.String(required=True, validate=validate.Length(min=1, max=1000))
    target_quantity = fields.Decimal(required=True, places=2, as_string=True,
                                     validate=validate.Range(min=0, min_inclusive=False))
    unit = fields.String(required=True, validate=validate.Length(min=1, max=100),
                         metadata={"description": "e.g. dokumen, laporan, kegiatan"})
    quality_target = fields.Integer(load_default=100, strict=True, validate=validate.Range(0, 100))
    time_target = fields.String(load_default="12 bulan", validate=validate.Length(min=1, max=100))


class RhkSchema(Schema):
    id = fields.String(load_default=None, allow_none=True,
                       metadata={"description": "keep it to change an RHK; leave it out for a new one"})
    kind = fields.String(required=True, validate=validate.OneOf(["main", "additional"]))
    text = fields.String(required=True, validate=validate.Length(min=1, max=2000))
    parent_rhk_id = fields.String(load_default=None, allow_none=True,
                                  metadata={"description": "the supervisor's RHK this one supports (cascading)"})
    indicators = fields.List(fields.Nested(IndicatorSchema), required=True, validate=validate.Length(min=1, max=20))


class SkpIn(Schema):
    year = fields.Integer(required=True, strict=True, validate=validate.Range(2000, 2100))
    rhk = fields.List(fields.Nested(RhkSchema), load_default=list, validate=validate.Length(max=50))


class RhkListIn(VersionMixin):
    rhk = fields.List(fields.Nested(RhkSchema), required=True, validate=validate.Length(max=50))


class SkpSubmitIn(VersionMixin):
    pass


class SkpApproveIn(VersionMixin):
    note = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=5000))


class SkpReturnIn(VersionMixin):
    note = fields.String(required=True, validate=validate.Length(min=1, max=5000))

    @validates_schema
    def not_blank(self, data, **_):
        if not data.get("note", "").strip():
            raise ValidationError("note must not be blank", "note")


class SkpQuery(Schema):
    nip = nip()
    year = fields.Integer(validate=validate.Range(2000, 2100))
    limit = fields.Integer(load_default=50, validate=validate.Range(1, 500))
    offset = fields.Integer(load_default=0, validate=validate.Range(min=0))


class SkpRevisionOut(Schema):
    revision = fields.Integer()
    approved_by = fields.String()
    approved_at = fields.DateTime()
    note = fields.String(allow_none=True)
    rhk = fields.List(fields.Nested(RhkSchema))


class SkpSummaryOut(Schema):
    id = fields.String()
    nip = fields.String()
    agency = fields.String()
    year = fields.Integer()
    status = fields.String()
    atasan_nip = fields.String(allow_none=True)
    revision = fields.Integer(metadata={"description": "approvals so far"})
    note = fields.String(allow_none=True)
    approved_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    version = fields.Integer()
    rhk = fields.List(fields.Nested(RhkSchema))


class SkpOut(SkpSummaryOut):
    revisions = fields.List(fields.Nested(SkpRevisionOut), metadata={"description": "what each approval said"})


class SkpPage(Schema):
    items = fields.List(fields.Nested(SkpSummaryOut))
    total = fields.Integer()
    limit = fields.Integer()
    offset = fields.Integer()


# -- feedback -----------------------------------------------------------------------------------
class FeedbackIn(Schema):
    task_id = fields.String(load_default=None, allow_none=True)
    rhk_id = fields.String(load_default=None, allow_none=True)
    text = fields.String(required=True, validate=validate.Length(min=1, max=5000))

    @validates_schema
    def one_subject(self, data, **_):
        if bool(data.get("task_id")) == bool(data.get("rhk_id")):
            raise ValidationError("give exactly one of task_id or rhk_id", "task_id")


class FeedbackQuery(Schema):
    task_id = fields.String()
    rhk_id = fields.String()

    @validates_schema
    def one_subject(self, data, **_):
        if bool(data.get("task_id")) == bool(data.get("rhk_id")):
            raise ValidationError("give exactly one of task_id or rhk_id", "task_id")


class FeedbackMessageOut(Schema):
    id = fields.String()
    thread_id = fields.String()
    author_nip = fields.String()
    recipient_nip = fields.String()
    text = fields.String()
    created_at = fields.DateTime()


class FeedbackThreadOut(Schema):
    thread_id = fields.String(allow_none=True)
    nip = fields.String(allow_none=True)
    task_id = fields.String(allow_none=True)
    rhk_id = fields.String(allow_none=True)
    messages = fields.List(fields.Nested(FeedbackMessageOut))


# -- innovation ---------------------------------------------------------------------------------
class InnovationIn(Schema):
    title = fields.String(required=True, validate=validate.Length(min=1, max=500))
    description = fields.String(required=True, validate=validate.Length(min=1, max=20000))
    links = fields.List(fields.Url(), load_default=list, validate=validate.Length(max=50),
                        metadata={"description": "evidence: documents, photos, a demo"})


class InnovationApproveIn(Schema):
    note = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=5000))


class InnovationRejectIn(Schema):
    note = fields.String(required=True, validate=validate.Length(min=1, max=5000))


class InnovationQuery(Schema):
    nip = nip()
    status = fields.String(validate=validate.OneOf(["proposed", "approved", "rejected"]))
    limit = fields.Integer(load_default=50, validate=validate.Range(1, 500))
    offset = fields.Integer(load_default=0, validate=validate.Range(min=0))


class InnovationOut(Schema):
    id = fields.String()
    agency = fields.String()
    nip = fields.String()
    title = fields.String()
    description = fields.String()
    links = fields.List(fields.String())
    status = fields.String()
    decided_by = fields.String(allow_none=True)
    decided_at = fields.DateTime(allow_none=True)
    note = fields.String(allow_none=True)
    created_at = fields.DateTime()
    version = fields.Integer()


class InnovationPage(Schema):
    items = fields.List(fields.Nested(InnovationOut))
    total = fields.Integer()
    limit = fields.Integer()
    offset = fields.Integer()


# -- evidence -----------------------------------------------------------------------------------
class EvidenceOut(Schema):
    id = fields.String()
    task_id = fields.String()
    filename = fields.String()
    content_type = fields.String()
    size = fields.Integer()
    sha256 = fields.String()
    uploaded_by = fields.String()
    uploaded_at = fields.DateTime()
